package dev.jgvt.plugin.xen;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.xen.emu.EmulatedXen;
import dev.jgvt.plugin.xen.lib.XenBackend;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.Hypervisor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An opened Xen backend. Attaches one vGPU per domain ({@link AttachRequest.XenDomain}); on the emulated
 * backend a domain that does not exist yet is created with the configured RAM and vCPUs, and an
 * {@link AttachRequest.InProcess} target names a guest: its first attach creates a domain of the requested RAM
 * size, later attaches of the same guest name find that domain.
 */
final class XenHypervisor implements Hypervisor {
    private final XenBackend backend;
    private final Optional<EmulatedXen> emulation;
    private final XenSettings settings;
    private final Map<Integer, XenGuestBinding> byDomain = new HashMap<>();
    private final Map<String, XenGuestBinding> byName = new HashMap<>();
    private final Map<String, Integer> emulatedGuests = new HashMap<>();
    private int nextEmulatedDomid = 1;
    private boolean closed;

    XenHypervisor(XenBackend backend, Optional<EmulatedXen> emulation, XenSettings settings) {
        this.backend = requireNonNull(backend, "backend is null");
        this.emulation = requireNonNull(emulation, "emulation is null");
        this.settings = requireNonNull(settings, "settings is null");
    }

    XenBackend backend() {
        return backend;
    }

    Optional<EmulatedXen> emulation() {
        return emulation;
    }

    @Override
    public GuestBinding attach(AttachRequest request, DeviceModel device) {
        requireNonNull(request, "request is null");
        requireNonNull(device, "device is null");
        int domid;
        synchronized (this) {
            if (closed) {
                throw new GvtException(ErrorCode.ILLEGAL_STATE, "the Xen hypervisor is closed");
            }
            if (byName.containsKey(request.vgpuName())) {
                throw new GvtException(ErrorCode.ALREADY_EXISTS, "vGPU " + request.vgpuName() + " is attached already");
            }
            domid = switch (request.target()) {
                case AttachRequest.XenDomain xen -> {
                    emulation.ifPresent(e -> {
                        if (e.domain(xen.domid()) == null) {
                            e.createDomain(xen.domid(), settings.emulatedRamBytes(), settings.emulatedVcpus());
                        }
                    });
                    yield xen.domid();
                }
                case AttachRequest.InProcess inProcess when emulation.isPresent() -> {
                    Integer known = emulatedGuests.get(inProcess.guestName());
                    if (known != null) {
                        yield known;
                    }
                    EmulatedXen e = emulation.get();
                    while (e.domain(nextEmulatedDomid) != null) {
                        nextEmulatedDomid++;
                    }
                    e.createDomain(nextEmulatedDomid, inProcess.ramBytes(), settings.emulatedVcpus());
                    emulatedGuests.put(inProcess.guestName(), nextEmulatedDomid);
                    yield nextEmulatedDomid++;
                }
                default -> throw new GvtException(ErrorCode.INVALID_ARGUMENT, "the Xen plugin attaches to a Xen domain"
                        + (emulation.isPresent() ? " or an in-process guest" : "") + ", not " + request.target());
            };
            if (byDomain.containsKey(domid)) {
                throw new GvtException(ErrorCode.ALREADY_EXISTS, "dom" + domid + " has a vGPU attached already");
            }
            byDomain.put(domid, null); // reserved while attaching
            byName.put(request.vgpuName(), null);
        }
        try {
            XenGuestBinding binding = new XenGuestBinding(backend, domid, request.vgpuName(), device,
                    settings.mapCacheBuckets(), () -> forget(domid, request.vgpuName()));
            synchronized (this) {
                byDomain.put(domid, binding);
                byName.put(request.vgpuName(), binding);
            }
            return binding;
        } catch (RuntimeException e) {
            forget(domid, request.vgpuName());
            throw e;
        }
    }

    private synchronized void forget(int domid, String name) {
        byDomain.remove(domid);
        byName.remove(name);
    }

    @Override
    public void close() {
        List<XenGuestBinding> bindings;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            bindings = new ArrayList<>(byDomain.values());
        }
        for (XenGuestBinding binding : bindings) {
            if (binding != null) {
                binding.close();
            }
        }
        backend.close();
        emulation.ifPresent(EmulatedXen::close);
    }
}
