package dev.jgvt.cli.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control protocol's framing: one JSON object per line each way, several per connection, bad lines answered. */
final class ControlServerTest {
    @TempDir
    Path dir;

    @Test
    void eachLineGetsOneResponseAndBadLinesAreProtocolErrors() throws Exception {
        Path socket = dir.resolve("control.sock");
        try (ControlServer server = ControlServer.start(socket, Access.forService(dir, Optional.empty()), request -> {
            var response = ControlServer.JSON.createObjectNode().put("ok", true);
            response.set("result", request.path("op"));
            return response;
        }); SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            OutputStream out = Channels.newOutputStream(channel);
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
            out.write("{\"op\":\"list\"}\n{not json}\n[1]\n\n{\"op\":\"types\"}\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            assertThat(ControlServer.JSON.readTree(in.readLine()).path("result").asText()).isEqualTo("list");
            JsonNode bad = ControlServer.JSON.readTree(in.readLine());
            assertThat(bad.path("ok").asBoolean()).isFalse();
            assertThat(bad.path("code").asText()).isEqualTo("PROTOCOL_ERROR");
            assertThat(ControlServer.JSON.readTree(in.readLine()).path("code").asText()).isEqualTo("PROTOCOL_ERROR");
            assertThat(ControlServer.JSON.readTree(in.readLine()).path("result").asText()).as("blank lines are skipped").isEqualTo("types");

            // a second service on the same directory is refused while the first answers
            Assertions.assertThatThrownBy(() -> ControlServer.start(socket, Access.forService(dir, Optional.empty()), r -> r))
                    .isInstanceOfSatisfying(GvtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ALREADY_EXISTS));
        }
        assertThat(socket).as("removed on close").doesNotExist();
    }

    @Test
    void noServiceIsOneClearError() {
        Assertions.assertThatThrownBy(() -> ControlClient.call(dir, ControlClient.request("list")))
                .isInstanceOfSatisfying(GvtException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.ILLEGAL_STATE);
                    assertThat(e.getMessage()).isEqualTo("no service is running on " + dir.resolve("control.sock") + " (start it with gvt daemon)");
                });
    }
}
