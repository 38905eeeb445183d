package dev.jgvt.cli.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.engine.PlaneCapture;
import dev.jgvt.spi.PlaneInfo;
import java.awt.image.BufferedImage;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The VNC server against a minimal RFB client written from RFC 6143, and against gtk-vnc's gvnccapture with a password. */
final class VncServerTest {
    @TempDir
    Path dir;

    private final AtomicReference<PlaneCapture> plane = new AtomicReference<>(picture(64, 40, 0));
    private VncServer server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
    }

    private static PlaneCapture picture(int width, int height, int seed) {
        int[] pixels = new int[width * height];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (i * 2654435 + seed * 977) & 0xFF_FFFF;
        }
        return new PlaneCapture(new PlaneInfo(PlaneInfo.PlaneType.PRIMARY, PlaneCapture.DRM_XRGB8888, width, height, width * 4, 0, 0, 0),
                pixels, 0);
    }

    private VncServer start(Optional<String> password) {
        server = VncServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), password, "test",
                () -> Optional.ofNullable(plane.get()));
        return server;
    }

    /** A client of RFC 6143 §7: version 3.8, security None, ClientInit; returns the streams after ServerInit. */
    private record Client(Socket socket, DataInputStream in, DataOutputStream out, int width, int height) {
        static Client connect(int port, String version) throws IOException {
            Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(5000);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            byte[] server = new byte[12];
            in.readFully(server);
            assertThat(new String(server, StandardCharsets.US_ASCII)).isEqualTo("RFB 003.008\n");
            out.write(version.getBytes(StandardCharsets.US_ASCII));
            if (version.equals("RFB 003.003\n")) {
                assertThat(in.readInt()).as("3.3: the server names the security type").isEqualTo(1);
            } else {
                assertThat(in.readUnsignedByte()).isEqualTo(1);
                assertThat(in.readUnsignedByte()).isEqualTo(1);
                out.writeByte(1);
                if (version.equals("RFB 003.008\n")) {
                    assertThat(in.readInt()).as("SecurityResult").isZero();
                }
            }
            out.writeByte(1); // shared
            int width = in.readUnsignedShort();
            int height = in.readUnsignedShort();
            byte[] format = new byte[16];
            in.readFully(format);
            assertThat(format[0]).as("bits per pixel").isEqualTo((byte) 32);
            byte[] name = new byte[in.readInt()];
            in.readFully(name);
            assertThat(new String(name, StandardCharsets.UTF_8)).isEqualTo("test");
            return new Client(socket, in, out, width, height);
        }

        void request(boolean incremental, int x, int y, int w, int h) throws IOException {
            out.writeByte(3);
            out.writeByte(incremental ? 1 : 0);
            out.writeShort(x);
            out.writeShort(y);
            out.writeShort(w);
            out.writeShort(h);
            out.flush();
        }

        void encodings(int... encodings) throws IOException {
            out.writeByte(2);
            out.writeByte(0);
            out.writeShort(encodings.length);
            for (int e : encodings) {
                out.writeInt(e);
            }
            out.flush();
        }

        /** Reads one FramebufferUpdate with one rectangle: {x, y, w, h, encoding}. */
        int[] update() throws IOException {
            assertThat(in.readUnsignedByte()).as("FramebufferUpdate").isZero();
            in.readUnsignedByte();
            assertThat(in.readUnsignedShort()).as("rectangles").isEqualTo(1);
            return new int[] {in.readUnsignedShort(), in.readUnsignedShort(), in.readUnsignedShort(), in.readUnsignedShort(), in.readInt()};
        }
    }

    @Test
    void rawUpdatesInTheDefaultAndIn16BitBigEndianFormatsAndIncrementalOnesOnlyForChanges() throws Exception {
        int port = start(Optional.empty()).port();
        {
            Client c = Client.connect(port, "RFB 003.008\n");
            assertThat(c.width()).isEqualTo(64);
            assertThat(c.height()).isEqualTo(40);
            c.encodings(0);
            c.request(false, 0, 0, 64, 40);
            assertThat(c.update()).containsExactly(0, 0, 64, 40, 0);
            int[] expected = plane.get().pixels();
            for (int i = 0; i < 64 * 40; i++) {
                int b = c.in().readUnsignedByte();
                int g = c.in().readUnsignedByte();
                int r = c.in().readUnsignedByte();
                c.in().readUnsignedByte();
                assertThat(r << 16 | g << 8 | b).as("pixel %d, little-endian BGRX", i).isEqualTo(expected[i]);
            }

            // RGB565 big-endian
            c.out().writeByte(0);
            c.out().write(new byte[3]);
            c.out().write(new byte[] {16, 16, 1, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0});
            c.request(false, 10, 5, 3, 2);
            assertThat(c.update()).containsExactly(10, 5, 3, 2, 0);
            for (int row = 5; row < 7; row++) {
                for (int col = 10; col < 13; col++) {
                    int rgb = expected[row * 64 + col];
                    int want = Math.round(((rgb >> 16) & 0xFF) * 31 / 255f) << 11 | Math.round(((rgb >> 8) & 0xFF) * 63 / 255f) << 5
                            | Math.round((rgb & 0xFF) * 31 / 255f);
                    assertThat(c.in().readUnsignedShort()).as("pixel (%d,%d)", col, row).isEqualTo(want);
                }
            }

            // nothing changed: an incremental request waits
            c.request(true, 0, 0, 64, 40);
            c.socket().setSoTimeout(300);
            boolean answered;
            try {
                c.in().readUnsignedByte();
                answered = true;
            } catch (SocketTimeoutException e) {
                answered = false;
            }
            assertThat(answered).as("no update without a change").isFalse();
            c.socket().setSoTimeout(5000);
            int[] changed = expected.clone();
            changed[7 * 64 + 9] ^= 0xFFFFFF;
            plane.set(new PlaneCapture(plane.get().plane(), changed, 0));
            assertThat(c.update()).as("the changed pixel's box").containsExactly(9, 7, 1, 1, 0);
            int pixel = c.in().readUnsignedShort();
            int rgb = changed[7 * 64 + 9];
            assertThat(pixel).as("in the format asked for last (RGB565)").isEqualTo(Math.round(((rgb >> 16) & 0xFF) * 31 / 255f) << 11
                    | Math.round(((rgb >> 8) & 0xFF) * 63 / 255f) << 5 | Math.round((rgb & 0xFF) * 31 / 255f));
            c.socket().close();
        }
    }

    @Test
    void aNewPlaneSizeIsAnnouncedWithDesktopSizeAndOlderClientsKeepTheirSize() throws Exception {
        int port = start(Optional.empty()).port();
        Client resizing = Client.connect(port, "RFB 003.008\n");
        Client fixed = Client.connect(port, "RFB 003.003\n");
        resizing.encodings(0, -223);
        fixed.encodings(0);
        plane.set(picture(32, 20, 5));
        Thread.sleep(50); // the frame source refreshes every 20 ms
        resizing.request(true, 0, 0, 64, 40);
        assertThat(resizing.update()).containsExactly(0, 0, 32, 20, -223);
        resizing.request(false, 0, 0, 32, 20);
        assertThat(resizing.update()).containsExactly(0, 0, 32, 20, 0);
        fixed.request(false, 0, 0, 64, 40);
        assertThat(fixed.update()).as("cropped/padded to the first size").containsExactly(0, 0, 64, 40, 0);
        int[] first = new int[64 * 40];
        for (int i = 0; i < first.length; i++) {
            int b = fixed.in().readUnsignedByte();
            int g = fixed.in().readUnsignedByte();
            int r = fixed.in().readUnsignedByte();
            fixed.in().readUnsignedByte();
            first[i] = r << 16 | g << 8 | b;
        }
        assertThat(first[0]).isEqualTo(plane.get().pixels()[0]);
        assertThat(first[63]).as("padding").isZero();
        resizing.socket().close();
        fixed.socket().close();
    }

    @Test
    void vncAuthenticationRefusesAWrongPasswordWithAReason() throws Exception {
        int port = start(Optional.of("s3cret")).port();
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(5000);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            in.readFully(new byte[12]);
            out.write("RFB 003.008\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(in.readUnsignedByte()).isEqualTo(1);
            assertThat(in.readUnsignedByte()).as("VNC authentication").isEqualTo(2);
            out.writeByte(2);
            byte[] challenge = new byte[16];
            in.readFully(challenge);
            out.write(RfbSession.encrypt("wrong", challenge));
            assertThat(in.readInt()).as("SecurityResult failed").isEqualTo(1);
            byte[] reason = new byte[in.readInt()];
            in.readFully(reason);
            assertThat(new String(reason, StandardCharsets.UTF_8)).isEqualTo("authentication failed");
        }
    }

    /** A real client: gtk-vnc's gvnccapture, given the password on its terminal (through util-linux's script). */
    @Test
    void gvnccaptureWithThePasswordSavesThePictureAndWithAWrongOneIsRefused() throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/gvnccapture")) || !Files.isExecutable(Path.of("/usr/bin/script"))) {
            assertThat(System.getenv("CI")).as("gvnccapture (gvncviewer) is installed by .ci/run").isNotEqualTo("true");
            System.out.println("SKIPPED: gvnccapture or script is not installed (apt-get install gvncviewer)");
            return;
        }
        server = VncServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), freeDisplayPort()), Optional.of("s3cret"), "test",
                () -> Optional.ofNullable(plane.get()));
        int display = server.port() - 5900;
        Path good = dir.resolve("good.png");
        assertThat(capture(display, "s3cret", good)).isZero();
        BufferedImage image = ImageIO.read(good.toFile());
        assertThat(image.getWidth()).isEqualTo(64);
        for (int i = 0; i < 64 * 40; i++) {
            assertThat(image.getRGB(i % 64, i / 64) & 0xFF_FFFF).as("pixel %d", i).isEqualTo(plane.get().pixels()[i]);
        }
        assertThat(capture(display, "wrong", dir.resolve("bad.png"))).isNotZero();
        assertThat(dir.resolve("bad.png")).doesNotExist();
    }

    private int capture(int display, String password, Path png) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/script", "-qec", "/usr/bin/gvnccapture 127.0.0.1:" + display + " " + png, "/dev/null")
                .redirectErrorStream(true).redirectOutput(dir.resolve("capture.out").toFile()).start();
        Thread.sleep(500); // script passes its stdin to the terminal gvnccapture reads the password from
        p.getOutputStream().write((password + "\n").getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().flush();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(Files.readString(dir.resolve("capture.out"))).isTrue();
        return p.exitValue();
    }

    private static int freeDisplayPort() throws IOException {
        for (int port = 5990; port > 5910; port--) {
            try (java.net.ServerSocket probe = new java.net.ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException e) {
                // taken
            }
        }
        throw new IOException("no free port in 5911..5990");
    }
}
