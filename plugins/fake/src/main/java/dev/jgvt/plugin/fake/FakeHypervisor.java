package dev.jgvt.plugin.fake;

import static java.util.Objects.requireNonNull;

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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The opened fake hypervisor: attaches vGPUs to in-process guests, each with RAM of its own. A guest
 * exists from its attach to its detach; one vGPU per guest.
 */
public final class FakeHypervisor implements Hypervisor {
    private static final Logger log = LoggerFactory.getLogger(FakeHypervisor.class);

    private final FakeConfig config;
    private final Map<String, FakeGuest> byGuest = new HashMap<>();
    private final Map<String, FakeGuest> byVgpu = new HashMap<>();
    private boolean closed;

    FakeHypervisor(FakeConfig config) {
        this.config = requireNonNull(config, "config is null");
    }

    @Override
    public GuestBinding attach(AttachRequest request, DeviceModel device) {
        if (request == null || device == null) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "attach needs a request and a device model: " + request + ", " + device);
        }
        if (!(request.target() instanceof AttachRequest.InProcess target)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "the fake hypervisor attaches in-process guests only, not a "
                    + kind(request.target()) + " target (vGPU " + request.vgpuName() + ")");
        }
        if (target.ramBytes() > config.maxRamBytes()) {
            throw new GvtException(ErrorCode.LIMIT_EXCEEDED, "guest " + target.guestName() + " asks for 0x"
                    + Long.toHexString(target.ramBytes()) + " bytes of RAM; plugin.fake.max-ram-bytes is 0x"
                    + Long.toHexString(config.maxRamBytes()));
        }
        synchronized (this) {
            if (closed) {
                throw new GvtException(ErrorCode.ILLEGAL_STATE, "the fake hypervisor is closed");
            }
            if (byGuest.containsKey(target.guestName())) {
                throw new GvtException(ErrorCode.ALREADY_EXISTS, "guest " + target.guestName() + " is already attached to vGPU "
                        + byGuest.get(target.guestName()).vgpuName());
            }
            if (byVgpu.containsKey(request.vgpuName())) {
                throw new GvtException(ErrorCode.ALREADY_EXISTS, "vGPU " + request.vgpuName() + " is already attached to guest "
                        + byVgpu.get(request.vgpuName()).name());
            }
            FakeGuest guest = new FakeGuest(this, target.guestName(), request.vgpuName(), target.ramBytes(), device, config.msiDelay());
            byGuest.put(guest.name(), guest);
            byVgpu.put(guest.vgpuName(), guest);
            log.debug("attached vGPU {} to in-process guest {} with 0x{} bytes of RAM", request.vgpuName(), target.guestName(),
                    Long.toHexString(target.ramBytes()));
            return guest;
        }
    }

    /** The attached guest of that name, for tests and simulators. */
    public synchronized Optional<FakeGuest> guest(String guestName) {
        return Optional.ofNullable(byGuest.get(guestName));
    }

    /** The attached guests. */
    public synchronized List<FakeGuest> guests() {
        return List.copyOf(byGuest.values());
    }

    @Override
    public void close() {
        List<FakeGuest> guests;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            guests = new ArrayList<>(byGuest.values());
        }
        guests.forEach(FakeGuest::close);
    }

    synchronized void detached(FakeGuest guest) {
        byGuest.remove(guest.name(), guest);
        byVgpu.remove(guest.vgpuName(), guest);
    }

    private static String kind(AttachRequest.Target target) {
        return switch (target) {
            case AttachRequest.InProcess ignored -> "in-process";
            case AttachRequest.UnixSocket ignored -> "unix-socket";
            case AttachRequest.XenDomain ignored -> "xen-domain";
            case AttachRequest.Custom custom -> "custom '" + custom.kind() + "'";
        };
    }
}
