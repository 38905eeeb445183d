package dev.jgvt.plugin.kvm.vmm;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.iommu.IommuException;
import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.plugin.kvm.os.UnixSocket;
import dev.jgvt.plugin.kvm.vfiouser.Capabilities;
import dev.jgvt.plugin.kvm.vfiouser.Command;
import dev.jgvt.plugin.kvm.vfiouser.Header;
import dev.jgvt.plugin.kvm.vfiouser.Message;
import dev.jgvt.plugin.kvm.vfiouser.Payload;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserChannel.RawMessage;
import dev.jgvt.plugin.kvm.vfiouser.VfioUserCodec;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A vfio-user client connection: requests from any thread (each waits for its reply), and one reader thread
 * that routes replies to their requesters and answers the server's own commands (DMA_READ/DMA_WRITE,
 * TRACK_SET) through a {@link ServerCommands} handler. An error reply throws a {@link GvtException} whose cause
 * carries the errno ({@link #errno}).
 *
 * <p>Threading: safe from any thread.
 */
public final class VfioUserClient implements AutoCloseable {
    /** Answers commands the server sends; a thrown {@link GvtException} or {@link IommuException} is an error reply. */
    @FunctionalInterface
    public interface ServerCommands {
        /** The reply payload to command {@code command} with raw {@code payload}. */
        Payload handle(int command, byte[] payload);
    }

    /** The errno of an error reply carried by {@code e} (its cause), or -1. */
    public static int errno(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IommuException i) {
                return i.errno();
            }
        }
        return -1;
    }

    private static GvtException requestFailed(String what, int errno) {
        ErrorCode code = switch (errno) {
            case Errno.EINVAL -> ErrorCode.INVALID_ARGUMENT;
            case Errno.EPERM, Errno.EACCES -> ErrorCode.PERMISSION_DENIED;
            case Errno.ENOENT -> ErrorCode.NOT_FOUND;
            case Errno.EEXIST -> ErrorCode.ALREADY_EXISTS;
            case Errno.EBUSY -> ErrorCode.BUSY;
            case Errno.ENOTSUP -> ErrorCode.UNSUPPORTED;
            case Errno.ENOSPC -> ErrorCode.NO_SPACE;
            default -> ErrorCode.IO_ERROR;
        };
        String message = what + " failed: the server replied " + Errno.name(errno);
        return new GvtException(code, message, new IommuException(errno, code, message));
    }

    private final VfioUserChannel channel;
    private final VfioUserCodec codec = new VfioUserCodec();
    private final ServerCommands handler;
    private final Duration timeout;
    private final Map<Integer, CompletableFuture<RawMessage>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger();
    private final Thread reader;
    private volatile GvtException broken;

    private VfioUserClient(UnixSocket socket, int maxFds, ServerCommands handler, Duration timeout) {
        this.channel = new VfioUserChannel(socket, codec, maxFds);
        this.handler = requireNonNull(handler, "handler is null");
        this.timeout = requireNonNull(timeout, "timeout is null");
        this.reader = Thread.ofPlatform().name("vfio-user client").daemon().unstarted(this::readLoop);
    }

    /** Connects to the server at {@code path}; {@code maxFds} is what this side will announce. */
    public static VfioUserClient connect(Path path, int maxFds, ServerCommands handler, Duration timeout) {
        VfioUserClient c = new VfioUserClient(UnixSocket.connect(path), maxFds, handler, timeout);
        c.reader.start();
        return c;
    }

    /** Over an already connected socket (tests). */
    public static VfioUserClient over(UnixSocket socket, int maxFds, ServerCommands handler, Duration timeout) {
        VfioUserClient c = new VfioUserClient(socket, maxFds, handler, timeout);
        c.reader.start();
        return c;
    }

    /** VERSION: proposes 0.{@code minor} with {@code caps}; returns the server's reply. */
    public Payload.Version version(int minor, Capabilities caps) {
        return (Payload.Version) request(Command.VERSION, new Payload.Version(0, minor, Optional.of(caps.toJson())));
    }

    /** Sends a standard command and returns the decoded reply payload. */
    public Payload request(Command command, Payload payload, int... fds) {
        RawMessage reply = requestRaw(command.number(), payload, false, fds).orElseThrow();
        return codec.decodePayload(reply.header(), reply.payload());
    }

    /**
     * Sends command number {@code command}; with {@code noReply} the NO_REPLY flag is set and nothing is
     * awaited (empty result).
     */
    public Optional<RawMessage> requestRaw(int command, Payload payload, boolean noReply, int... fds) {
        if (broken != null) {
            throw new GvtException(ErrorCode.IO_ERROR, "the connection is gone: " + broken.getMessage());
        }
        int id = nextId.getAndIncrement() & 0xFFFF;
        int flags = Header.TYPE_COMMAND | (noReply ? Header.FLAG_NO_REPLY : 0);
        Message m = new Message(new Header(id, command, Header.SIZE + payload.length(), flags, 0), payload);
        String what = Command.byNumber(command).map(Enum::name).orElse("command 0x" + Integer.toHexString(command));
        if (noReply) {
            channel.send(m, fds);
            return Optional.empty();
        }
        CompletableFuture<RawMessage> f = new CompletableFuture<>();
        pending.put(id, f);
        RawMessage reply;
        try {
            channel.send(m, fds);
            reply = f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new GvtException(ErrorCode.TIMEOUT, what + ": no reply within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GvtException(ErrorCode.IO_ERROR, what + ": interrupted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof GvtException g ? new GvtException(g.code(), what + ": " + g.getMessage(), g)
                    : new GvtException(ErrorCode.IO_ERROR, what + ": " + e.getCause());
        } finally {
            pending.remove(id);
        }
        if (reply.header().isError()) {
            throw requestFailed(what, reply.header().error());
        }
        return Optional.of(reply);
    }

    private void readLoop() {
        GvtException end = new GvtException(ErrorCode.IO_ERROR, "the server closed the connection");
        try {
            while (true) {
                Optional<RawMessage> next = channel.receiveRaw();
                if (next.isEmpty()) {
                    break;
                }
                RawMessage m = next.get();
                if (m.header().isReply()) {
                    m.closeFds();
                    CompletableFuture<RawMessage> f = pending.remove(m.header().id());
                    if (f != null) {
                        f.complete(m);
                    }
                    continue;
                }
                m.closeFds();
                Message reply;
                try {
                    reply = Message.reply(m.header(), handler.handle(m.header().command(), m.payload()));
                } catch (IommuException e) {
                    reply = Message.errorReply(m.header(), e.errno());
                } catch (GvtException e) {
                    reply = Message.errorReply(m.header(), e.code() == ErrorCode.NOT_MAPPED ? Errno.ENOENT : Errno.EINVAL);
                }
                if (!m.header().noReply()) {
                    channel.send(reply);
                }
            }
        } catch (GvtException e) {
            end = e;
        } finally {
            broken = end;
            GvtException cause = end;
            pending.values().forEach(f -> f.completeExceptionally(cause));
        }
    }

    /** Whether the server has closed the connection (or it broke). */
    public boolean disconnected() {
        return broken != null;
    }

    /** Disconnects; idempotent. */
    @Override
    public void close() {
        channel.shutdown();
        try {
            reader.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        channel.close();
    }
}
