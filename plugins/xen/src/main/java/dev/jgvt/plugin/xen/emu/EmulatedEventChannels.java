package dev.jgvt.plugin.xen.emu;

import dev.jgvt.plugin.xen.abi.Errno;
import dev.jgvt.plugin.xen.lib.XenCallException;
import dev.jgvt.plugin.xen.lib.XenEventChannels;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** An emulated {@code xenevtchn_handle} of domain {@code callerDomid}. */
final class EmulatedEventChannels implements XenEventChannels {
    private final EventChannelHub hub;
    private final int callerDomid;
    private final LinkedBlockingQueue<Integer> ready = new LinkedBlockingQueue<>();
    private final Map<Integer, EventChannelHub.Endpoint> ports = new HashMap<>();
    private boolean closed;

    EmulatedEventChannels(EventChannelHub hub, int callerDomid) {
        this.hub = hub;
        this.callerDomid = callerDomid;
    }

    void enqueue(int port) {
        ready.add(port);
    }

    @Override
    public synchronized int bindInterdomain(int domid, int remotePort) {
        checkOpen("xenevtchn_bind_interdomain");
        EventChannelHub.Endpoint local = hub.bindInterdomain(callerDomid, domid, remotePort, this);
        ports.put(local.port, local);
        return local.port;
    }

    @Override
    public synchronized void unbind(int localPort) {
        checkOpen("xenevtchn_unbind");
        hub.close(port("xenevtchn_unbind", localPort));
        ports.remove(localPort);
    }

    @Override
    public void notify(int localPort) {
        EventChannelHub.Endpoint endpoint;
        synchronized (this) {
            checkOpen("xenevtchn_notify");
            endpoint = port("xenevtchn_notify", localPort);
        }
        hub.send(endpoint);
    }

    @Override
    public int pending(long timeoutMillis) {
        try {
            Integer port = ready.poll(timeoutMillis, TimeUnit.MILLISECONDS);
            return port == null ? -1 : port;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override
    public void unmask(int localPort) {
        EventChannelHub.Endpoint endpoint;
        synchronized (this) {
            checkOpen("xenevtchn_unmask");
            endpoint = port("xenevtchn_unmask", localPort);
        }
        hub.unmask(endpoint);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        ports.values().forEach(hub::close);
        ports.clear();
    }

    synchronized EventChannelHub.Endpoint endpoint(int localPort) {
        return ports.get(localPort);
    }

    private EventChannelHub.Endpoint port(String call, int localPort) {
        EventChannelHub.Endpoint endpoint = ports.get(localPort);
        if (endpoint == null) {
            throw new XenCallException(call, Errno.EINVAL, "port " + localPort + " is not bound by this handle");
        }
        return endpoint;
    }

    private void checkOpen(String call) {
        if (closed) {
            throw new XenCallException(call, Errno.EINVAL, "handle closed");
        }
    }
}
