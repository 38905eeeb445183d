package dev.jgvt.spi;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Map;

/**
 * Names the vGPU and the guest to attach it to. The target is typed data, interpreted by the plugin;
 * a plugin rejects targets it does not understand with {@link ErrorCode#INVALID_ARGUMENT}.
 *
 * @param vgpuName the vGPU's name (unique within the engine), for messages and logs
 * @param target where the guest is
 */
public record AttachRequest(String vgpuName, Target target) {
    public AttachRequest {
        requireNonNull(vgpuName, "vgpuName is null");
        requireNonNull(target, "target is null");
        if (vgpuName.isBlank()) {
            throw new IllegalArgumentException("vgpuName is blank");
        }
    }

    /** Where a guest is. Plugins of third parties use {@link Custom}. */
    public sealed interface Target permits InProcess, UnixSocket, XenDomain, Custom {}

    /**
     * A guest that lives in the engine's process (the fake plugin; emulated backends).
     *
     * @param guestName the guest's name
     * @param ramBytes the size of guest RAM in bytes, a positive multiple of 4096
     */
    public record InProcess(String guestName, long ramBytes) implements Target {
        public InProcess {
            requireNonNull(guestName, "guestName is null");
            if (ramBytes <= 0 || (ramBytes & 0xFFF) != 0) {
                throw new IllegalArgumentException("ramBytes must be a positive multiple of 4096: " + ramBytes);
            }
        }
    }

    /** A VMM reached over an AF_UNIX socket (a vfio-user server listens at {@code path}). */
    public record UnixSocket(Path path) implements Target {
        public UnixSocket {
            requireNonNull(path, "path is null");
        }
    }

    /** A Xen HVM domain. */
    public record XenDomain(int domid) implements Target {
        public XenDomain {
            if (domid <= 0 || domid >= 0x7FF0) {
                throw new IllegalArgumentException("not a guest domain id: " + domid);
            }
        }
    }

    /** A target of a kind the SPI does not name: a kind string and string parameters. */
    public record Custom(String kind, Map<String, String> parameters) implements Target {
        public Custom {
            requireNonNull(kind, "kind is null");
            parameters = Map.copyOf(requireNonNull(parameters, "parameters is null"));
        }
    }
}
