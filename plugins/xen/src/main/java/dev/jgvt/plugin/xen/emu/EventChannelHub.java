package dev.jgvt.plugin.xen.emu;

import dev.jgvt.plugin.xen.abi.Errno;
import dev.jgvt.plugin.xen.lib.XenCallException;
import java.util.HashMap;
import java.util.Map;

/**
 * The emulated hypervisor's event channels: per-domain port numbers, interdomain pairs, and per-port
 * pending and mask bits. A send sets the peer's pending bit; if the peer is unmasked the event is delivered
 * (to a user handle: the port is queued and masked, as the Linux evtchn driver does; to Xen itself: the
 * waiting vCPU is woken) and pending is consumed. A masked port keeps its pending bit, and unmasking a
 * pending port delivers it then. Ports of one domain start at 1 (0 is never valid).
 */
final class EventChannelHub {
    private final Object lock = new Object();
    private final Map<Long, Endpoint> endpoints = new HashMap<>();
    private final Map<Integer, Integer> nextPort = new HashMap<>();

    /** One end of a channel. Mutable state is guarded by the hub's lock. */
    static final class Endpoint {
        final int domid;
        final int port;
        final int remoteDomid;
        Endpoint peer;
        boolean pending;
        boolean masked;
        boolean closed;
        /** Delivery target when a user handle bound the port. */
        EmulatedEventChannels handle;
        /** Delivery target when Xen consumes the port (an ioreq port of a guest vCPU). */
        Runnable xenConsumer;

        Endpoint(int domid, int port, int remoteDomid) {
            this.domid = domid;
            this.port = port;
            this.remoteDomid = remoteDomid;
        }
    }

    private static long key(int domid, int port) {
        return ((long) domid << 32) | (port & 0xFFFF_FFFFL);
    }

    private Endpoint allocate(int domid, int remoteDomid) {
        int port = nextPort.merge(domid, 1, Integer::sum);
        Endpoint endpoint = new Endpoint(domid, port, remoteDomid);
        endpoints.put(key(domid, port), endpoint);
        return endpoint;
    }

    /** An unbound port of {@code domid} that {@code remoteDomid} may bind, consumed by Xen itself. */
    Endpoint allocateUnbound(int domid, int remoteDomid, Runnable xenConsumer) {
        synchronized (lock) {
            Endpoint endpoint = allocate(domid, remoteDomid);
            endpoint.xenConsumer = xenConsumer;
            return endpoint;
        }
    }

    /** {@code EVTCHNOP_bind_interdomain} from {@code localDomid}: EINVAL unless the remote port is unbound for us. */
    Endpoint bindInterdomain(int localDomid, int remoteDomid, int remotePort, EmulatedEventChannels handle) {
        synchronized (lock) {
            Endpoint remote = endpoints.get(key(remoteDomid, remotePort));
            if (remote == null || remote.closed) {
                throw new XenCallException("xenevtchn_bind_interdomain", Errno.EINVAL,
                        "dom" + remoteDomid + " has no port " + remotePort);
            }
            if (remote.peer != null || remote.remoteDomid != localDomid) {
                throw new XenCallException("xenevtchn_bind_interdomain", Errno.EINVAL,
                        "port " + remotePort + " of dom" + remoteDomid + " is not unbound for dom" + localDomid);
            }
            Endpoint local = allocate(localDomid, remoteDomid);
            local.handle = handle;
            local.peer = remote;
            remote.peer = local;
            return local;
        }
    }

    /** Sends an event from {@code from} to its peer. */
    void send(Endpoint from) {
        Runnable wake = null;
        synchronized (lock) {
            Endpoint to = from.peer;
            if (from.closed || to == null || to.closed) {
                return;
            }
            if (to.pending) {
                return;
            }
            to.pending = true;
            if (!to.masked) {
                wake = deliverLocked(to);
            }
        }
        if (wake != null) {
            wake.run();
        }
    }

    /** Clears the mask; a pending port is delivered now. */
    void unmask(Endpoint endpoint) {
        Runnable wake = null;
        synchronized (lock) {
            endpoint.masked = false;
            if (endpoint.pending && !endpoint.closed) {
                wake = deliverLocked(endpoint);
            }
        }
        if (wake != null) {
            wake.run();
        }
    }

    private Runnable deliverLocked(Endpoint to) {
        to.pending = false;
        if (to.handle != null) {
            to.masked = true;
            to.handle.enqueue(to.port);
            return null;
        }
        return to.xenConsumer;
    }

    /** Closes a port; its peer becomes unbound again (bindable by its remote domain). */
    void close(Endpoint endpoint) {
        synchronized (lock) {
            if (endpoint.closed) {
                return;
            }
            endpoint.closed = true;
            endpoints.remove(key(endpoint.domid, endpoint.port));
            if (endpoint.peer != null) {
                endpoint.peer.peer = null;
                endpoint.peer = null;
            }
        }
    }

    /** Test view: the pending bit of a port. */
    boolean isPending(Endpoint endpoint) {
        synchronized (lock) {
            return endpoint.pending;
        }
    }

    boolean isMasked(Endpoint endpoint) {
        synchronized (lock) {
            return endpoint.masked;
        }
    }
}
