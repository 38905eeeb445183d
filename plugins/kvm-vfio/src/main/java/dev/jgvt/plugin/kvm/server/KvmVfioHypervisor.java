package dev.jgvt.plugin.kvm.server;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.Hypervisor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The opened kvm-vfio plugin: each attach serves the vGPU over vfio-user on the socket path of an
 * {@link AttachRequest.UnixSocket} target (one server per vGPU).
 */
public final class KvmVfioHypervisor implements Hypervisor {
    private final Map<String, VfioUserServer> byName = new HashMap<>();
    private final Map<Path, String> byPath = new HashMap<>();
    private boolean closed;

    @Override
    public GuestBinding attach(AttachRequest request, DeviceModel device) {
        requireNonNull(request, "request is null");
        requireNonNull(device, "device is null");
        if (!(request.target() instanceof AttachRequest.UnixSocket socket)) {
            String target = switch (request.target()) {
                case AttachRequest.InProcess ignored -> "an in-process guest";
                case AttachRequest.XenDomain domain -> "Xen domain " + domain.domid();
                case AttachRequest.Custom custom -> "a custom '" + custom.kind() + "' target";
                case AttachRequest.UnixSocket ignored -> throw new AssertionError();
            };
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "kvm-vfio serves a vGPU to a VMM on a vfio-user socket (gvt serve), not to "
                    + target + " (vGPU " + request.vgpuName() + ")");
        }
        Path path = socket.path().toAbsolutePath().normalize();
        String name = request.vgpuName();
        synchronized (this) {
            if (closed) {
                throw new GvtException(ErrorCode.ILLEGAL_STATE, "the kvm-vfio hypervisor is closed");
            }
            if (byName.containsKey(name)) {
                throw new GvtException(ErrorCode.ALREADY_EXISTS, "vGPU " + name + " is attached already");
            }
            if (byPath.containsKey(path)) {
                throw new GvtException(ErrorCode.ALREADY_EXISTS, "socket " + path + " serves " + byPath.get(path) + " already");
            }
            VfioUserServer server = VfioUserServer.start(name, path, device, () -> forget(name, path));
            byName.put(name, server);
            byPath.put(path, name);
            return server;
        }
    }

    private synchronized void forget(String name, Path path) {
        byName.remove(name);
        byPath.remove(path);
    }

    @Override
    public void close() {
        List<VfioUserServer> servers;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            servers = new ArrayList<>(byName.values());
        }
        for (VfioUserServer s : servers) {
            s.close();
        }
    }
}
