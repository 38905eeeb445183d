package dev.jgvt.cli.daemon;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.engine.PlaneCapture;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A view-only VNC server (RFB 3.8, RFC 6143) for one vGPU's primary plane, on a TCP address the caller chooses
 * (the service binds loopback only). Each client is an {@link RfbSession} on its own virtual threads. No Java RFB
 * server library is kept on Maven Central, so this one is written here (decision 0013).
 */
final class VncServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VncServer.class);

    private final ServerSocket server;
    private final Optional<String> password;
    private final String name;
    private final FrameSource frames;
    private final Set<RfbSession> sessions = ConcurrentHashMap.newKeySet();
    private volatile boolean closing;

    private VncServer(ServerSocket server, Optional<String> password, String name, FrameSource frames) {
        this.server = server;
        this.password = password;
        this.name = name;
        this.frames = frames;
    }

    /**
     * Listens on {@code address} and serves the pictures {@code capture} returns.
     *
     * @throws GvtException {@link ErrorCode#IO_ERROR} when the address cannot be bound (the message names it)
     */
    static VncServer start(InetSocketAddress address, Optional<String> password, String name,
            Supplier<Optional<PlaneCapture>> capture) {
        requireNonNull(address, "address is null");
        try {
            ServerSocket server = new ServerSocket();
            server.setReuseAddress(true);
            try {
                server.bind(address, 8);
            } catch (IOException e) {
                server.close();
                throw e;
            }
            VncServer vnc = new VncServer(server, password, name, new FrameSource(capture));
            Thread.ofPlatform().daemon().name("vnc " + address.getPort()).start(vnc::acceptLoop);
            return vnc;
        } catch (IOException e) {
            throw new GvtException(ErrorCode.IO_ERROR, "cannot listen for VNC on " + address + ": " + e.getMessage(), e);
        }
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!closing) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                if (!closing) {
                    log.warn("VNC port {}: accept failed, no more viewers: {}", port(), e.toString());
                }
                return;
            }
            try {
                socket.setTcpNoDelay(true);
            } catch (SocketException e) {
                log.debug("TCP_NODELAY: {}", e.toString());
            }
            RfbSession session = new RfbSession(socket, password, name, frames, sessions::remove);
            sessions.add(session);
            session.start();
        }
    }

    @Override
    public void close() {
        closing = true;
        try {
            server.close();
        } catch (IOException e) {
            log.debug("closing VNC port: {}", e.toString());
        }
        sessions.forEach(RfbSession::close);
    }

    /** The latest picture, shared by the sessions of one server and refreshed at most every 20 ms. */
    static final class FrameSource {
        private final Supplier<Optional<PlaneCapture>> capture;
        private Frame last = new Frame(640, 480, new int[640 * 480]);
        private boolean blank = true;
        private long lastNanos;

        FrameSource(Supplier<Optional<PlaneCapture>> capture) {
            this.capture = requireNonNull(capture, "capture is null");
        }

        /** The current picture; when the plane is off, a black picture of the last size. */
        synchronized Frame current() {
            long now = System.nanoTime();
            if (now - lastNanos >= 20_000_000L || lastNanos == 0) {
                lastNanos = now;
                Optional<PlaneCapture> c = capture.get();
                if (c.isPresent()) {
                    PlaneCapture p = c.get();
                    last = new Frame(p.plane().width(), p.plane().height(), p.pixels());
                    blank = false;
                } else if (!blank) {
                    last = new Frame(last.width(), last.height(), new int[last.width() * last.height()]);
                    blank = true;
                }
            }
            return last;
        }
    }

    /** A picture: {@code 0xRRGGBB} per pixel, row by row. */
    record Frame(int width, int height, int[] pixels) {}
}
