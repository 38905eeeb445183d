package dev.jgvt.cli.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The client side of the control protocol: one request, one response, over {@code <runtime-dir>/control.sock}. */
public final class ControlClient {
    private ControlClient() {}

    /** The control socket of the service using {@code runtimeDir}. */
    public static Path socket(Path runtimeDir) {
        return runtimeDir.resolve("control.sock");
    }

    /** Whether a service answers on {@code socket} (connect succeeds). */
    static boolean answers(Path socket) {
        try (SocketChannel ignored = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Sends one request and returns the response's {@code result}.
     *
     * @throws GvtException the service's error ({@code code} and {@code message} of the response), or
     *     {@link ErrorCode#ILLEGAL_STATE} when no service listens on the socket, {@link ErrorCode#PERMISSION_DENIED} when
     *     the socket may not be opened
     */
    public static JsonNode call(Path runtimeDir, ObjectNode request) {
        Path socket = socket(runtimeDir);
        if (!Files.exists(socket)) {
            if (Files.isDirectory(runtimeDir) && !Files.isExecutable(runtimeDir)) {
                throw new GvtException(ErrorCode.PERMISSION_DENIED, "permission denied: " + runtimeDir
                        + " (the service admits root, its own user and members of its --group)");
            }
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "no service is running on " + socket + " (start it with gvt daemon)");
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            try {
                channel.connect(UnixDomainSocketAddress.of(socket));
            } catch (SocketException e) {
                String reason = String.valueOf(e.getMessage());
                if (reason.contains("Permission denied")) {
                    throw new GvtException(ErrorCode.PERMISSION_DENIED, "permission denied: " + socket
                            + " (the service admits root, its own user and members of its --group)");
                }
                if (reason.contains("Connection refused")) {
                    throw new GvtException(ErrorCode.ILLEGAL_STATE, "no service is running on " + socket + " (start it with gvt daemon)");
                }
                throw e;
            }
            OutputStream out = Channels.newOutputStream(channel);
            IOException writeFailed = null;
            try {
                out.write(ControlServer.JSON.writeValueAsBytes(request));
                out.write('\n');
                out.flush();
            } catch (IOException e) {
                // a refused peer is answered and the connection closed before its request is read: the answer may
                // already be waiting even though the write hit the closed end (EPIPE)
                writeFailed = e;
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
            String line = in.readLine();
            if (line == null) {
                if (writeFailed != null) {
                    throw writeFailed;
                }
                throw new GvtException(ErrorCode.IO_ERROR, "the service on " + socket + " closed the connection without an answer");
            }
            JsonNode response = ControlServer.JSON.readTree(line);
            if (response.path("ok").asBoolean(false)) {
                return response.path("result");
            }
            ErrorCode code;
            try {
                code = ErrorCode.valueOf(response.path("code").asText("INTERNAL"));
            } catch (IllegalArgumentException e) {
                code = ErrorCode.INTERNAL;
            }
            throw new GvtException(code, response.path("message").asText("the service failed without a message"));
        } catch (AccessDeniedException e) {
            throw new GvtException(ErrorCode.PERMISSION_DENIED, "permission denied: " + socket);
        } catch (IOException e) {
            throw new GvtException(ErrorCode.IO_ERROR, "talking to the service on " + socket + ": " + e.getMessage(), e);
        }
    }

    public static ObjectNode request(String op) {
        ObjectNode node = ControlServer.JSON.createObjectNode();
        node.put("op", op);
        return node;
    }
}
