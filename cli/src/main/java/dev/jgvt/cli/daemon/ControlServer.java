package dev.jgvt.cli.daemon;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control socket ({@code <runtime-dir>/control.sock}): AF_UNIX stream, one JSON request per line, one JSON
 * response per line, any number of requests per connection (the protocol is in docs/daemon.md). The peer's
 * credentials are checked when it connects; a peer {@link Access} does not permit gets one refusal response
 * ({@code PERMISSION_DENIED}) and the connection is closed before anything it sends is read. Each connection is
 * served on a virtual thread.
 */
final class ControlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    static final ObjectMapper JSON = new ObjectMapper();
    /** A request line longer than this is refused (the protocol's requests are a few hundred bytes). */
    static final int MAX_LINE = 64 * 1024;

    private final Path path;
    private final ServerSocketChannel server;
    private final Access access;
    private final Function<JsonNode, JsonNode> handler;
    private final Thread acceptor;
    private volatile boolean closing;

    private ControlServer(Path path, ServerSocketChannel server, Access access, Function<JsonNode, JsonNode> handler) {
        this.path = path;
        this.server = server;
        this.access = access;
        this.handler = handler;
        this.acceptor = Thread.ofPlatform().name("gvt-control").daemon().unstarted(this::acceptLoop);
    }

    /**
     * Binds {@code path} (replacing a stale socket file left by a service that died), restricts it with
     * {@code access} and starts accepting.
     *
     * @param handler answers one request object with one response object; never throws
     */
    static ControlServer start(Path path, Access access, Function<JsonNode, JsonNode> handler) {
        requireNonNull(path, "path is null");
        try {
            if (Files.exists(path) && ControlClient.answers(path)) {
                throw new GvtException(ErrorCode.ALREADY_EXISTS, "a service is running already on " + path);
            }
            Files.deleteIfExists(path);
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(path), 16);
            access.applyToSocket(path);
            ControlServer control = new ControlServer(path, server, access, handler);
            control.acceptor.start();
            return control;
        } catch (IOException e) {
            throw new GvtException(ErrorCode.IO_ERROR, "cannot listen on " + path + ": " + e.getMessage(), e);
        }
    }

    Path path() {
        return path;
    }

    private void acceptLoop() {
        while (!closing) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closing) {
                    log.error("control socket {}: accept failed, no more requests are served: {}", path, e.toString());
                }
                return;
            }
            Thread.ofVirtual().name("gvt-control-client").start(() -> serve(channel));
        }
    }

    private void serve(SocketChannel channel) {
        try (channel; OutputStream out = Channels.newOutputStream(channel)) {
            UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
            if (!access.permits(peer)) {
                log.warn("control socket: refused user {} (group {})", peer.user().getName(), peer.group().getName());
                write(out, error(ErrorCode.PERMISSION_DENIED, "user " + peer.user().getName()
                        + " may not use this service (allowed: " + access.describe() + ")"));
                return;
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
            String line;
            while ((line = readLine(in)) != null) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode request;
                try {
                    request = JSON.readTree(line);
                } catch (IOException e) {
                    write(out, error(ErrorCode.PROTOCOL_ERROR, "a request is one JSON object per line: " + e.getMessage()));
                    continue;
                }
                write(out, request != null && request.isObject() ? handler.apply(request)
                        : error(ErrorCode.PROTOCOL_ERROR, "a request is one JSON object per line"));
            }
        } catch (LineTooLong e) {
            log.warn("control socket: a request line longer than {} bytes, connection closed", MAX_LINE);
        } catch (IOException e) {
            log.debug("control connection ended: {}", e.toString());
        }
    }

    private static final class LineTooLong extends IOException {
        LineTooLong() {
            super("line too long");
        }
    }

    private static String readLine(BufferedReader in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                return line.toString();
            }
            if (line.length() >= MAX_LINE) {
                throw new LineTooLong();
            }
            line.append((char) c);
        }
        return line.isEmpty() ? null : line.toString();
    }

    private static void write(OutputStream out, JsonNode response) throws IOException {
        out.write(JSON.writeValueAsBytes(response));
        out.write('\n');
        out.flush();
    }

    static ObjectNode error(ErrorCode code, String message) {
        ObjectNode node = JSON.createObjectNode();
        node.put("ok", false);
        node.put("code", code.name());
        node.put("message", message);
        return node;
    }

    @Override
    public void close() {
        closing = true;
        try {
            server.close();
        } catch (IOException e) {
            log.debug("closing the control socket: {}", e.toString());
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.warn("cannot remove {}: {}", path, e.toString());
        }
    }
}
