package dev.jgvt.plugin.kvm.os;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code /dev/kvm} and KVM VMs through FFM ioctls: API version, extensions, VM creation, the in-kernel
 * irqchip, MSI routing, irqfd and ioeventfd — the VM-level mechanisms that deliver a device's MSI to a
 * guest without a user-space hop. No vCPU support here. x86-64 only.
 *
 * <p>Threading: safe from any thread; {@link #close()} is idempotent.
 */
public final class Kvm implements AutoCloseable {
    public static final Path DEVICE = Path.of("/dev/kvm");
    public static final int API_VERSION = 12;

    static final long KVM_GET_API_VERSION = 0xAE00L;
    static final long KVM_CREATE_VM = 0xAE01L;
    static final long KVM_CHECK_EXTENSION = 0xAE03L;
    static final long KVM_CREATE_IRQCHIP = 0xAE60L;
    static final long KVM_SET_GSI_ROUTING = 0x4008AE6AL;
    static final long KVM_IRQFD = 0x4020AE76L;
    static final long KVM_IOEVENTFD = 0x4040AE79L;

    /** KVM_CAP_* numbers used here. */
    public static final int CAP_IRQ_ROUTING = 0x19;
    public static final int CAP_IRQFD = 0x20;
    public static final int CAP_IOEVENTFD = 0x24;
    public static final int CAP_SIGNAL_MSI = 0x4d;
    public static final int CAP_IRQFD_RESAMPLE = 0x52;

    static final int IRQ_ROUTING_MSI = 2;
    static final int IRQFD_FLAG_DEASSIGN = 1;
    static final int IOEVENTFD_FLAG_DATAMATCH = 1;
    static final int IOEVENTFD_FLAG_DEASSIGN = 4;

    /** {@code struct kvm_irqfd} (32 bytes). */
    static final StructLayout IRQFD = MemoryLayout.structLayout(JAVA_INT.withName("fd"), JAVA_INT.withName("gsi"),
            JAVA_INT.withName("flags"), JAVA_INT.withName("resamplefd"), MemoryLayout.paddingLayout(16));
    /** {@code struct kvm_irq_routing_entry} with the MSI member of its union (48 bytes). */
    static final StructLayout ROUTING_ENTRY = MemoryLayout.structLayout(JAVA_INT.withName("gsi"), JAVA_INT.withName("type"),
            JAVA_INT.withName("flags"), JAVA_INT.withName("pad"), JAVA_INT.withName("address_lo"),
            JAVA_INT.withName("address_hi"), JAVA_INT.withName("data"), JAVA_INT.withName("devid"),
            MemoryLayout.paddingLayout(16));
    /** {@code struct kvm_ioeventfd} (64 bytes). */
    static final StructLayout IOEVENTFD = MemoryLayout.structLayout(JAVA_LONG.withName("datamatch"),
            JAVA_LONG.withName("addr"), JAVA_INT.withName("len"), JAVA_INT.withName("fd"), JAVA_INT.withName("flags"),
            MemoryLayout.paddingLayout(36));

    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Kvm(int fd) {
        this.fd = fd;
    }

    /** Why KVM cannot be used here, or empty when {@code /dev/kvm} opens and speaks API 12. Never throws. */
    public static Optional<String> unavailableReason() {
        if (!Files.exists(DEVICE)) {
            return Optional.of(DEVICE + " does not exist");
        }
        int fd = Libc.rawOpen(DEVICE.toString(), Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0) {
            return Optional.of("open " + DEVICE + ": " + Errno.name(-fd) + " (errno " + -fd + ")");
        }
        try {
            int version = Libc.rawIoctl(fd, KVM_GET_API_VERSION, 0L);
            return version == API_VERSION ? Optional.empty()
                    : Optional.of("KVM_GET_API_VERSION returned " + version + ", need " + API_VERSION);
        } finally {
            Libc.rawClose(fd);
        }
    }

    /** Opens {@code /dev/kvm} and checks the API version. */
    public static Kvm open() {
        int fd = (int) Libc.check("open(" + DEVICE + ")", Libc.rawOpen(DEVICE.toString(), Libc.O_RDWR | Libc.O_CLOEXEC));
        Kvm kvm = new Kvm(fd);
        int version = kvm.apiVersion();
        if (version != API_VERSION) {
            kvm.close();
            throw new GvtException(ErrorCode.UNSUPPORTED, "KVM_GET_API_VERSION returned " + version + ", need " + API_VERSION);
        }
        return kvm;
    }

    public int apiVersion() {
        return (int) Libc.check("ioctl(KVM_GET_API_VERSION)", Libc.rawIoctl(fd, KVM_GET_API_VERSION, 0L));
    }

    /** {@code KVM_CHECK_EXTENSION} on the system fd: 0 when absent, else a capability-specific value. */
    public int checkExtension(int cap) {
        return (int) Libc.check("ioctl(KVM_CHECK_EXTENSION)", Libc.rawIoctl(fd, KVM_CHECK_EXTENSION, cap));
    }

    /** {@code KVM_CREATE_VM} (machine type 0). */
    public Vm createVm() {
        int vm = (int) Libc.check("ioctl(KVM_CREATE_VM)", Libc.rawIoctl(fd, KVM_CREATE_VM, 0L));
        return new Vm(vm);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Libc.close(fd);
        }
    }

    /** One MSI route: guest GSI {@code gsi} → MSI message {@code address}/{@code data}. */
    public record MsiRoute(int gsi, long address, int data) {}

    /** A KVM VM fd. */
    public static final class Vm implements AutoCloseable {
        private final int fd;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Vm(int fd) {
            this.fd = fd;
        }

        public int fd() {
            return fd;
        }

        /** {@code KVM_CHECK_EXTENSION} on the VM fd. */
        public int checkExtension(int cap) {
            return (int) Libc.check("ioctl(KVM_CHECK_EXTENSION)", Libc.rawIoctl(fd, KVM_CHECK_EXTENSION, cap));
        }

        /** {@code KVM_CREATE_IRQCHIP}: in-kernel PIC, IOAPIC and LAPICs. */
        public void createIrqchip() {
            Libc.check("ioctl(KVM_CREATE_IRQCHIP)", Libc.rawIoctl(fd, KVM_CREATE_IRQCHIP, 0L));
        }

        /** {@code KVM_SET_GSI_ROUTING} replacing the whole table with {@code routes} (MSI entries only). */
        public void setMsiRouting(List<MsiRoute> routes) {
            requireNonNull(routes, "routes is null");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment table = arena.allocate(8 + ROUTING_ENTRY.byteSize() * routes.size(), 8);
                table.set(JAVA_INT, 0, routes.size());
                for (int i = 0; i < routes.size(); i++) {
                    MsiRoute r = routes.get(i);
                    long base = 8 + ROUTING_ENTRY.byteSize() * i;
                    table.set(JAVA_INT, base, r.gsi());
                    table.set(JAVA_INT, base + 4, IRQ_ROUTING_MSI);
                    table.set(JAVA_INT, base + 16, (int) r.address());
                    table.set(JAVA_INT, base + 20, (int) (r.address() >>> 32));
                    table.set(JAVA_INT, base + 24, r.data());
                }
                Libc.check("ioctl(KVM_SET_GSI_ROUTING)", Libc.rawIoctl(fd, KVM_SET_GSI_ROUTING, table));
            }
        }

        /** {@code KVM_IRQFD}: signalling {@code eventfd} injects {@code gsi} inside the kernel. */
        public void assignIrqfd(EventFd eventfd, int gsi) {
            irqfd(eventfd.fd(), gsi, 0, "ioctl(KVM_IRQFD)");
        }

        /** {@code KVM_IRQFD} with DEASSIGN. */
        public void deassignIrqfd(EventFd eventfd, int gsi) {
            irqfd(eventfd.fd(), gsi, IRQFD_FLAG_DEASSIGN, "ioctl(KVM_IRQFD, DEASSIGN)");
        }

        private void irqfd(int eventFd, int gsi, int flags, String call) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = arena.allocate(IRQFD);
                s.set(JAVA_INT, 0, eventFd);
                s.set(JAVA_INT, 4, gsi);
                s.set(JAVA_INT, 8, flags);
                Libc.check(call, Libc.rawIoctl(fd, KVM_IRQFD, s));
            }
        }

        /**
         * {@code KVM_IOEVENTFD}: a guest write of {@code length} bytes (0 = any) to MMIO {@code address}
         * signals {@code eventfd} instead of exiting; with {@code datamatch} only writes of that value do.
         */
        public void assignIoeventfd(EventFd eventfd, long address, int length, Optional<Long> datamatch) {
            ioeventfd(eventfd, address, length, datamatch, 0, "ioctl(KVM_IOEVENTFD)");
        }

        /** {@code KVM_IOEVENTFD} with DEASSIGN (same address, length and datamatch as assigned). */
        public void deassignIoeventfd(EventFd eventfd, long address, int length, Optional<Long> datamatch) {
            ioeventfd(eventfd, address, length, datamatch, IOEVENTFD_FLAG_DEASSIGN, "ioctl(KVM_IOEVENTFD, DEASSIGN)");
        }

        private void ioeventfd(EventFd eventfd, long address, int length, Optional<Long> datamatch, int flags, String call) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = arena.allocate(IOEVENTFD);
                s.set(JAVA_LONG, 0, datamatch.orElse(0L));
                s.set(JAVA_LONG, 8, address);
                s.set(JAVA_INT, 16, length);
                s.set(JAVA_INT, 20, eventfd.fd());
                s.set(JAVA_INT, 24, flags | (datamatch.isPresent() ? IOEVENTFD_FLAG_DATAMATCH : 0));
                Libc.check(call, Libc.rawIoctl(fd, KVM_IOEVENTFD, s));
            }
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                Libc.close(fd);
            }
        }
    }
}
