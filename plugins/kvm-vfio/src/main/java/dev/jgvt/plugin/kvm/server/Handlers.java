package dev.jgvt.plugin.kvm.server;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.vfiouser.Command;
import dev.jgvt.plugin.kvm.vfiouser.DmaRegions;
import dev.jgvt.plugin.kvm.vfiouser.Header;
import dev.jgvt.plugin.kvm.vfiouser.PageTracking;
import dev.jgvt.plugin.kvm.vfiouser.Payload;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DeviceInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaMap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaUnmap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqSet;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionAccess;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.TrackedWrite;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteMulti;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel.RawMessage;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.lang.foreign.MemorySegment;

/**
 * The client's commands after VERSION, as libvfio-user's {@code handle_request} splits them: {@link #validate}
 * decodes the payload and checks what the message may carry (direction, fds); then one handler per command,
 * chosen by the sealed payload type, does the work. Handlers throw {@link GvtException} or
 * {@link dev.jgvt.plugin.kvm.iommu.IommuException}; the connection turns them into error replies.
 */
final class Handlers {
    private final VfioUserServer server;
    private final Connection connection;
    private final DeviceModel device;
    private final ServedLayout layout;
    private final RegionIo regions;
    private final DmaRegions dma;

    Handlers(VfioUserServer server, Connection connection, DeviceModel device, ServedLayout layout, RegionIo regions,
            DmaRegions dma) {
        this.server = requireNonNull(server, "server is null");
        this.connection = requireNonNull(connection, "connection is null");
        this.device = requireNonNull(device, "device is null");
        this.layout = requireNonNull(layout, "layout is null");
        this.regions = requireNonNull(regions, "regions is null");
        this.dma = requireNonNull(dma, "dma is null");
    }

    /** A decoded, validated request: the handler may take its fds. */
    record Request(Command command, Payload payload, int[] fds) {}

    /**
     * Decodes {@code m} and checks it may be served: a client-to-server command other than VERSION, fds only
     * on DMA_MAP (at most one) and DEVICE_SET_IRQS. The tracking extension's TRACKED_WRITE, when negotiated, is
     * returned with a null command.
     */
    Request validate(RawMessage m, boolean tracking) {
        Header h = m.header();
        int[] fds = m.fds();
        if (h.command() == PageTracking.TRACKED_WRITE && tracking) {
            noFds(fds, "TRACKED_WRITE");
            return new Request(null, PageTracking.decodeTrackedWrite(m.payload(), "TRACKED_WRITE id " + h.id()), fds);
        }
        Payload request = connection.codec().decodePayload(h, m.payload());
        Command command = Command.byNumber(h.command()).orElseThrow();
        if (command.direction() != Command.Direction.CLIENT_TO_SERVER) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, command + " is a server-to-client command");
        }
        if (command == Command.VERSION) {
            throw new GvtException(ErrorCode.PROTOCOL_ERROR, "VERSION was negotiated already");
        }
        if (command == Command.DMA_MAP && fds.length > 1) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "DMA_MAP carries at most one fd, got " + fds.length);
        }
        if (command != Command.DMA_MAP && command != Command.DEVICE_SET_IRQS) {
            noFds(fds, command.name());
        }
        return new Request(command, request, fds);
    }

    private static void noFds(int[] fds, String what) {
        if (fds.length != 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, what + " carries no fds, got " + fds.length);
        }
    }

    /** Whether the handler of {@code r} owns its fds (it closes those it does not keep). */
    static boolean takesFds(Request r) {
        return r.command() == Command.DMA_MAP || r.command() == Command.DEVICE_SET_IRQS;
    }

    /** Serves a validated request; returns the reply payload. */
    Payload handle(Request r) {
        return switch (r.payload()) {
            case TrackedWrite w -> trackedWrite(w);
            case DmaMap m -> dmaMap(m, r.fds());
            case DmaUnmap u -> dmaUnmap(u);
            case DeviceInfo d -> layout.deviceInfo(d);
            case RegionInfo i -> layout.regionInfo(i);
            case IrqInfo i -> layout.irqInfo(i);
            case IrqSet s -> irqSet(s, r.fds());
            case RegionAccess a -> r.command() == Command.REGION_READ ? regions.read(a) : regions.write(a);
            case WriteMulti w -> regions.writeMulti(w);
            case Payload.Empty e when r.command() == Command.DEVICE_RESET -> reset();
            default -> throw new GvtException(ErrorCode.UNSUPPORTED, r.command() + " is not supported by this server");
        };
    }

    private Payload trackedWrite(TrackedWrite write) {
        if (server.remoteTracker().isTracked(write.gpa() >>> 12)) {
            device.trackedWrite(write.gpa(), MemorySegment.ofArray(write.data()));
        }
        return Payload.Empty.INSTANCE;
    }

    /** With one fd: mmapped guest RAM; without: memory reached by DMA_READ/DMA_WRITE to the client. */
    private Payload dmaMap(DmaMap request, int[] fds) {
        dma.map(request, fds.length == 1 ? fds[0] : -1, connection);
        return Payload.Empty.INSTANCE;
    }

    /** The device hears of each region first, then the IOMMU's interlock checks its pins (SoftIommu does both). */
    private Payload dmaUnmap(DmaUnmap request) {
        dma.unmap(request);
        return new DmaUnmap(DmaUnmap.LENGTH, request.flags(), request.address(), request.size());
    }

    private Payload irqSet(IrqSet request, int[] fds) {
        server.irqs().apply(request, fds);
        return Payload.Empty.INSTANCE;
    }

    private Payload reset() {
        device.reset();
        return Payload.Empty.INSTANCE;
    }
}
