package dev.jgvt.plugin.kvm.server;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.iommu.IommuGuestMemory;
import dev.jgvt.plugin.kvm.iommu.SoftIommu;
import dev.jgvt.plugin.kvm.os.UnixSocket;
import dev.jgvt.plugin.kvm.vfiouser.DmaRegions;
import dev.jgvt.plugin.kvm.vfiouser.IrqEventFds;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserCodec;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.InterruptSink;
import dev.jgvt.spi.PageTracker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A vfio-user server exposing one {@link DeviceModel} on an AF_UNIX socket path, and the {@link GuestBinding}
 * the core uses for the guest behind it. Clients are served one after another on one thread (a client that
 * connects while another is served waits in the listen backlog); each client's guest RAM is what it
 * DMA-mapped, its interrupts are the eventfds it bound, and its page tracking is what it negotiated. Device
 * state survives clients; the binding's services stay valid across them (with no client, guest memory is
 * empty and signals are dropped and counted).
 *
 * <p>Threading: the binding's services are safe from any thread; device calls happen on the server thread.
 */
public final class VfioUserServer implements GuestBinding {
    private static final Logger log = LoggerFactory.getLogger(VfioUserServer.class);
    /** How long a server-to-client command waits for its reply when issued off the server thread. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);

    private final String name;
    private final Path path;
    private final DeviceModel device;
    private final UnixSocket.Listener listener;
    private final SoftIommu iommu = new SoftIommu();
    private final IommuGuestMemory iommuMemory;
    private final GuestRam memory;
    private final IrqEventFds interrupts;
    private final RemoteTracker tracker;
    private final VfioUserCodec codec = new VfioUserCodec();
    private final Thread thread;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong clients = new AtomicLong();
    private final Runnable onClose;
    private volatile Connection current;
    private volatile String lastError = "";

    private VfioUserServer(String name, Path path, DeviceModel device, UnixSocket.Listener listener, Runnable onClose) {
        this.name = name;
        this.path = path;
        this.device = device;
        this.listener = listener;
        this.onClose = onClose;
        this.iommuMemory = new IommuGuestMemory(iommu, device);
        this.memory = new GuestRam(iommuMemory, () -> current);
        this.interrupts = new IrqEventFds(device.layout());
        this.tracker = new RemoteTracker(name, memory, () -> current);
        this.thread = Thread.ofPlatform().name("vfio-user " + name).daemon().unstarted(this::acceptLoop);
    }

    /**
     * Binds {@code path} and starts serving {@code device} there.
     *
     * @param onClose run once when the binding closes (the hypervisor forgets it)
     * @throws GvtException {@link ErrorCode#ALREADY_EXISTS} if something exists at the path,
     *     {@link ErrorCode#NOT_FOUND} if its directory does not exist, {@link ErrorCode#INVALID_ARGUMENT} if the
     *     path cannot be bound (ENOENT, EACCES, EROFS, ENOTDIR, EADDRINUSE, ENAMETOOLONG, or too long for
     *     AF_UNIX), {@link ErrorCode#IO_ERROR} if binding fails otherwise
     */
    public static VfioUserServer start(String name, Path path, DeviceModel device, Runnable onClose) {
        requireNonNull(name, "name is null");
        requireNonNull(path, "path is null");
        requireNonNull(device, "device is null");
        requireNonNull(onClose, "onClose is null");
        if (java.nio.file.Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new GvtException(ErrorCode.ALREADY_EXISTS, "socket path " + path + " exists");
        }
        Path dir = path.toAbsolutePath().getParent();
        if (dir == null || !java.nio.file.Files.isDirectory(dir)) {
            throw new GvtException(ErrorCode.NOT_FOUND, "socket path " + path + ": directory " + dir + " does not exist");
        }
        UnixSocket.Listener listener;
        try {
            listener = UnixSocket.Listener.bind(path, 4);
        } catch (GvtException e) {
            if (e.code() == ErrorCode.INVALID_ARGUMENT) {
                throw e; // the path cannot be used; the message names it and why
            }
            throw new GvtException(ErrorCode.IO_ERROR, "cannot listen on " + path + ": " + e.getMessage(), e);
        }
        VfioUserServer server = new VfioUserServer(name, path, device, listener, onClose);
        server.thread.start();
        log.info("{}: vfio-user server listening on {}", name, path);
        return server;
    }

    String name() {
        return name;
    }

    /** The socket path. */
    public Path path() {
        return path;
    }

    VfioUserCodec codec() {
        return codec;
    }

    IrqEventFds irqs() {
        return interrupts;
    }

    RemoteTracker remoteTracker() {
        return tracker;
    }

    /** Clients accepted so far. */
    public long clients() {
        return clients.get();
    }

    /** The message of the last command that got an error reply (diagnostics: replies carry only an errno). */
    public String lastError() {
        return lastError;
    }

    void failed(String message) {
        lastError = message;
    }

    /** Whether a client is connected now. */
    public boolean connected() {
        Connection c = current;
        return c != null && !c.ended();
    }

    /** The software IOMMU holding the current client's fd-backed regions (for tests and diagnostics). */
    SoftIommu iommu() {
        return iommu;
    }

    private void acceptLoop() {
        while (!closed.get()) {
            UnixSocket socket;
            try {
                socket = listener.accept();
            } catch (GvtException e) {
                if (!closed.get()) {
                    log.error("{}: accept failed, the server stops: {}", name, e.getMessage());
                }
                return;
            }
            if (closed.get()) {
                socket.close();
                return;
            }
            clients.incrementAndGet();
            Connection c = new Connection(this, socket, new VfioUserChannel(socket, codec, Connection.MAX_MSG_FDS), device,
                    new DmaRegions(iommu), CALL_TIMEOUT);
            current = c;
            log.info("{}: client {} connected", name, clients.get());
            c.serve();
            log.info("{}: client {} disconnected after {} messages", name, clients.get(), c.messages());
        }
    }

    void versioned(Connection c, boolean tracking) {
        if (tracking) {
            log.info("{}: the client negotiated page tracking: guest page-table writes are trapped", name);
        } else {
            log.warn("{}: the client did not offer x-jgvt-page-tracking: guest writes cannot be trapped, "
                    + "PPGTT write tracking is unavailable for this connection", name);
        }
    }

    /** The connection is ending: no new server-to-client commands, its eventfds and tracking are dropped. */
    void connectionEnding(Connection c) {
        if (current == c) {
            current = null;
        }
        interrupts.close();
        tracker.forgetAll();
    }

    @Override
    public GuestMemory memory() {
        ensureOpen();
        return memory;
    }

    @Override
    public GuestPages pages() {
        ensureOpen();
        return memory;
    }

    @Override
    public Optional<PageTracker> tracker() {
        ensureOpen();
        return Optional.of(tracker);
    }

    @Override
    public InterruptSink interrupts() {
        ensureOpen();
        return sink;
    }

    /** The client's eventfds; after detach every signal fails ILLEGAL_STATE (never blocks either way). */
    private final InterruptSink sink = new InterruptSink() {
        @Override
        public void signalMsi() {
            ensureOpen();
            interrupts.signalMsi();
        }

        @Override
        public void signalIntx() {
            ensureOpen();
            interrupts.signalIntx();
        }

        @Override
        public long droppedSignals() {
            return interrupts.droppedSignals();
        }
    };

    private void ensureOpen() {
        if (closed.get()) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, name + ": detached");
        }
    }

    /** Detaches: stops listening, disconnects the client (dropping its regions), releases every pin. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        memory.detach();
        tracker.close();
        listener.close();
        Connection c = current;
        if (c != null) {
            c.shutdown();
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join(CALL_TIMEOUT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                log.error("{}: the server thread did not stop within {} ms", name, CALL_TIMEOUT.toMillis());
            }
        }
        iommuMemory.close();
        tracker.close();
        interrupts.close();
        onClose.run();
        log.info("{}: detached, {} closed", name, path);
    }
}
