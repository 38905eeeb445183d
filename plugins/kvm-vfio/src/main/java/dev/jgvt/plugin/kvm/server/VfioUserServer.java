package dev.jgvt.plugin.kvm.server;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.iommu.IommuGuestMemory;
import dev.jgvt.plugin.kvm.iommu.SoftIommu;
import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.plugin.kvm.os.UnixSocket;
import dev.jgvt.plugin.kvm.os.Waits;
import dev.jgvt.plugin.kvm.vfiouser.DmaRegions;
import dev.jgvt.plugin.kvm.vfiouser.Header;
import dev.jgvt.plugin.kvm.vfiouser.IrqEventFds;
import dev.jgvt.plugin.kvm.vfiouser.Message;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A vfio-user server exposing one {@link DeviceModel} on an AF_UNIX socket path, and the {@link GuestBinding}
 * the core uses for the guest behind it. Clients are served one after another on one thread; a client that
 * connects while another is served is refused at once: its VERSION gets an error reply with errno
 * {@code EBUSY} and it is disconnected (the client served is not disturbed). Each client's guest RAM is what
 * it DMA-mapped, its interrupts are the eventfds it bound, and its page tracking is what it negotiated.
 * Device state survives clients; the binding's services stay valid across them (with no client, guest memory
 * is empty and signals are dropped and counted).
 *
 * <p>Threading: the binding's services are safe from any thread; device calls happen on the server thread;
 * an acceptor thread accepts clients and hands each to the server thread, or refuses it when that is busy.
 */
public final class VfioUserServer implements GuestBinding {
    private static final Logger log = LoggerFactory.getLogger(VfioUserServer.class);
    /** How long a server-to-client command waits for its reply when issued off the server thread. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    /** How long a refused client has to send its VERSION before it is disconnected without a reply. */
    static final Duration REFUSE_TIMEOUT = Duration.ofSeconds(2);
    /** How long an accepted client waits for the server thread to be back from the client before it. */
    private static final long HANDOFF_MILLIS = 250;

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
    private final Thread acceptor;
    /** Offered by the acceptor, taken by the server thread only while it serves no client. */
    private final SynchronousQueue<Optional<UnixSocket>> handoff = new SynchronousQueue<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Set by {@link #disconnect}: no client is served any more. */
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicLong clients = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final Runnable onClose;
    private volatile Connection current;
    /** The client the serving thread is in, from accept until its teardown finished; null between clients. */
    private volatile Connection serving;
    private volatile String lastError = "";
    private volatile int servingTid;
    /** How long the serving thread polls the socket before blocking; from {@code jgvt.vfio-user.poll-us} (ADR 0017). */
    private volatile long pollNanos = 1000L * Math.max(0L, Long.getLong("jgvt.vfio-user.poll-us", 0L));
    private final java.util.concurrent.CountDownLatch tidKnown = new java.util.concurrent.CountDownLatch(1);

    private VfioUserServer(String name, Path path, DeviceModel device, UnixSocket.Listener listener, Runnable onClose) {
        this.name = name;
        this.path = path;
        this.device = device;
        this.listener = listener;
        this.onClose = onClose;
        this.iommuMemory = new IommuGuestMemory(iommu, device);
        this.memory = new GuestRam(iommuMemory);
        this.interrupts = new IrqEventFds(device.layout());
        this.tracker = new RemoteTracker(name, memory, () -> current);
        iommu.announceEveryUnmap(); // the device hears of every unmapped region, pinned or not
        iommu.register(tracker::forget); // and page tracking in it is forgotten
        this.thread = Thread.ofPlatform().name("vfio-user " + name).daemon().unstarted(this::serveLoop);
        this.acceptor = Thread.ofPlatform().name("vfio-user " + name + " accept").daemon().unstarted(this::acceptLoop);
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
        server.acceptor.start();
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

    /** The poll budget of the next client's serving loop (0: block at once); for tests of the opt-in poll. */
    void pollNanos(long nanos) {
        pollNanos = Math.max(0, nanos);
    }

    long pollNanos() {
        return pollNanos;
    }

    /** Clients served so far (refused ones not counted). */
    public long clients() {
        return clients.get();
    }

    /** Clients refused so far because another was being served. */
    public long refused() {
        return refused.get();
    }

    /** The message of the last command that got an error reply (diagnostics: replies carry only an errno). */
    public String lastError() {
        return lastError;
    }

    void failed(String message) {
        lastError = message;
    }

    /**
     * Whether a client is connected now, or its disconnect is still being torn down (its DMA regions unmapped
     * through the device, its fds closed): false only once all of that is done.
     */
    @Override
    public boolean connected() {
        return serving != null;
    }

    /**
     * The kernel thread id of the thread that serves clients (for placement: {@code sched_setaffinity}); waits
     * (at most 5 s) for the thread to have started.
     */
    public int servingThreadId() {
        try {
            tidKnown.await(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return servingTid;
    }

    /** The software IOMMU holding the current client's fd-backed regions (for tests and diagnostics). */
    SoftIommu iommu() {
        return iommu;
    }

    /** Accepts clients; hands each to the server thread when it is free, refuses it otherwise. */
    private void acceptLoop() {
        while (!stopping.get()) {
            UnixSocket socket;
            try {
                socket = listener.accept();
            } catch (GvtException e) {
                if (!stopping.get()) {
                    log.error("{}: accept failed, the server stops: {}", name, e.getMessage());
                }
                return;
            }
            boolean taken = false;
            try {
                taken = !stopping.get() && handoff.offer(Optional.of(socket), HANDOFF_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (taken) {
                continue;
            }
            if (stopping.get()) {
                socket.close();
                return;
            }
            refused.incrementAndGet();
            Thread.ofVirtual().name("vfio-user " + name + " refuse").start(() -> refuse(socket));
        }
    }

    /**
     * Serves the clients the acceptor hands over, one at a time, until {@link #disconnect} hands it an empty
     * one. Blocks while no client is connected (no timed wake-ups).
     */
    private void serveLoop() {
        servingTid = Waits.gettid();
        tidKnown.countDown();
        while (true) {
            Optional<UnixSocket> next;
            try {
                next = handoff.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (next.isEmpty()) {
                return;
            }
            UnixSocket socket = next.get();
            if (stopping.get()) {
                socket.close();
                continue;
            }
            clients.incrementAndGet();
            Connection c = new Connection(this, socket, device, new DmaRegions(iommu), CALL_TIMEOUT);
            current = c;
            serving = c;
            log.info("{}: client {} connected", name, clients.get());
            if (stopping.get()) {
                c.shutdown(); // disconnect() may have looked for a client just before this one became current
            }
            try {
                c.serve();
            } finally {
                serving = null;
            }
            log.info("{}: client {} disconnected after {} messages", name, clients.get(), c.messages());
        }
    }

    /**
     * Refuses a client that connected while another is served: its VERSION gets an EBUSY error reply, then
     * the connection is closed. A client that sends nothing within {@link #REFUSE_TIMEOUT} is closed unanswered.
     */
    private void refuse(UnixSocket socket) {
        VfioUserChannel channel = new VfioUserChannel(socket, codec, Handshake.MAX_MSG_FDS);
        Object lock = new Object();
        boolean[] done = {false};
        CompletableFuture.delayedExecutor(REFUSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
            synchronized (lock) {
                if (!done[0]) {
                    channel.shutdown(); // wakes the read below
                }
            }
        });
        try {
            Optional<VfioUserChannel.RawMessage> first = channel.receiveRaw();
            if (first.isPresent()) {
                first.get().closeFds();
                Header h = first.get().header();
                if (!h.isReply()) {
                    channel.send(Message.errorReply(h, Errno.EBUSY));
                }
            }
            log.warn("{}: a client was refused: the server is serving another (client {})", name, clients.get());
        } catch (RuntimeException e) {
            log.warn("{}: a client was refused: the server is serving another; it could not be told: {}", name, e.getMessage());
        } finally {
            synchronized (lock) {
                done[0] = true;
                channel.close();
            }
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

    /**
     * Stops serving: stops listening and disconnects the client, and returns when no request of it is being
     * served any more (its regions are dropped, the device has heard of the unmaps). The services stay valid
     * (guest memory empty, signals dropped) until {@link #close}. Idempotent.
     */
    @Override
    public void disconnect() {
        if (stopping.compareAndSet(false, true)) {
            listener.close();
            Connection c = current;
            if (c != null) {
                c.shutdown();
            }
            if (Thread.currentThread() != thread) {
                try {
                    // wakes the serving thread once it is back from its client (it blocks in take() between clients)
                    handoff.offer(Optional.empty(), CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        for (Thread t : new Thread[] {thread, acceptor}) {
            if (Thread.currentThread() == t) {
                continue;
            }
            try {
                t.join(CALL_TIMEOUT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                log.error("{}: thread '{}' did not stop within {} ms", name, t.getName(), CALL_TIMEOUT.toMillis());
            }
        }
    }

    /**
     * Detaches: the services fail ILLEGAL_STATE from now on (as the SPI wants of a closed binding), the client
     * is disconnected as by {@link #disconnect} (the core disconnects before it tears the vGPU down, so the
     * client never meets a half-detached device), every pin is released and the eventfds are closed.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        memory.detach();
        tracker.close();
        disconnect();
        iommuMemory.close();
        tracker.close();
        interrupts.close();
        onClose.run();
        log.info("{}: detached, {} closed", name, path);
    }
}
