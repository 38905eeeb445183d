package dev.jgvt.plugin.kvm;

import dev.jgvt.plugin.kvm.server.VfioUserServer;
import dev.jgvt.plugin.kvm.vmm.ReferenceVmm;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.Capability;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.HostContext;
import dev.jgvt.spi.Hypervisor;
import dev.jgvt.spi.HypervisorPlugin;
import dev.jgvt.testing.conformance.BasePluginConformanceTest;
import dev.jgvt.testing.conformance.Behavior;
import dev.jgvt.testing.conformance.ConformanceHarness;
import dev.jgvt.testing.conformance.TestGuest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The kvm-vfio plugin against the conformance kit. Each guest is a {@link ReferenceVmm} in this process
 * talking to the plugin's vfio-user server over the socket the attach created: its RAM is a memfd mapped
 * with DMA_MAP in one-page regions (so the kit can remove or write-protect single pages with DMA_UNMAP and a
 * read-only DMA_MAP), its MSI an eventfd bound with SET_IRQS, its guest writes go through the page-tracking
 * extension. The kit attaches and then uses guest memory at once, so the harness hands the kit a plugin
 * whose attach returns only after the guest's VMM has connected and mapped its RAM; the binding and all
 * checks are the real plugin's.
 */
final class KvmVfioPluginConformanceTest extends BasePluginConformanceTest {
    @Override
    protected ConformanceHarness createHarness() {
        return new Harness();
    }

    private static final class Harness implements ConformanceHarness {
        private final KvmVfioPlugin real = new KvmVfioPlugin();
        private final Path dir;
        private final Map<Path, Guest> guests = new ConcurrentHashMap<>();

        Harness() {
            try {
                dir = Files.createTempDirectory("jgvt-conformance");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public HypervisorPlugin plugin() {
            return new HypervisorPlugin() {
                @Override
                public String id() {
                    return real.id();
                }

                @Override
                public Set<Capability> capabilities() {
                    return real.capabilities();
                }

                @Override
                public Hypervisor open(HostContext context) {
                    Hypervisor hypervisor = real.open(context);
                    return new Hypervisor() {
                        @Override
                        public GuestBinding attach(AttachRequest request, DeviceModel device) {
                            GuestBinding binding = hypervisor.attach(request, device);
                            if (request.target() instanceof AttachRequest.UnixSocket s && guests.get(s.path()) instanceof Guest g) {
                                try {
                                    g.connect();
                                } catch (RuntimeException e) {
                                    binding.close();
                                    throw e;
                                }
                            }
                            return binding;
                        }

                        @Override
                        public void close() {
                            hypervisor.close();
                        }
                    };
                }
            };
        }

        @Override
        public TestGuest createGuest(String guestName, long ramBytes) {
            Guest g = new Guest(dir.resolve(guestName + ".sock"), ramBytes);
            guests.put(g.path, g);
            return g;
        }

        @Override
        public boolean supports(Behavior behavior) {
            return switch (behavior) {
                case PAGE_TRACKING, GUEST_WRITES, REMOVE_RAM, REVOKED_PIN_SEGMENTS, STALL_INTERRUPTS, READ_ONLY_RAM -> true;
                case CONTIGUOUS_2M_PINS -> false;
            };
        }

        @Override
        public void close() {
            guests.values().forEach(Guest::close);
            try (var files = Files.list(dir)) {
                files.forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                // best effort
            }
            dir.toFile().delete();
        }
    }

    private static final class Guest implements TestGuest {
        final Path path;
        final long ramBytes;
        volatile ReferenceVmm vmm;

        Guest(Path path, long ramBytes) {
            this.path = path;
            this.ramBytes = ramBytes;
        }

        void connect() {
            if (vmm == null) {
                vmm = ReferenceVmm.connect(path, ReferenceVmm.Options.of(ramBytes).withRegionBytes(4096));
            }
        }

        @Override
        public AttachRequest.Target target() {
            return new AttachRequest.UnixSocket(path);
        }

        @Override
        public void guestWrite(GuestBinding binding, long gpa, MemorySegment bytes) {
            vmm.ramWrite(gpa, bytes);
        }

        @Override
        public void removeRam(GuestBinding binding, long gpa, long length) {
            try {
                vmm.unmapRam(gpa, length);
            } catch (GvtException e) {
                // the reply carries only the errno; the server's own message (which names the mapping) is its last error
                String detail = binding instanceof VfioUserServer s ? s.lastError() : "";
                throw new GvtException(e.code() == ErrorCode.BUSY ? ErrorCode.BUSY : e.code(), e.getMessage() + ": " + detail, e);
            }
        }

        @Override
        public void protectRam(GuestBinding binding, long gpa, long length) {
            vmm.mapReadOnly(gpa, length);
        }

        @Override
        public AutoCloseable stallInterrupts(GuestBinding binding) {
            return vmm.stallInterrupts();
        }

        @Override
        public long awaitInterrupts(GuestBinding binding, long atLeast, Duration timeout) throws InterruptedException {
            return vmm.awaitMsi(atLeast - 1, timeout);
        }

        @Override
        public void close() {
            ReferenceVmm v = vmm;
            if (v != null) {
                v.close();
            }
        }
    }
}
