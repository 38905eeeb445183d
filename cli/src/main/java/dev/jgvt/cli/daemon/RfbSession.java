package dev.jgvt.cli.daemon;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.function.Consumer;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One VNC viewer (RFC 6143): the 3.3/3.7/3.8 handshake, security None or VNC authentication (DES challenge,
 * §7.2.2), ServerInit, then a reader thread taking the client's messages (SetPixelFormat with any true-colour
 * format of 8, 16 or 32 bits, SetEncodings, FramebufferUpdateRequest; key, pointer and cut-text events are read
 * and ignored: view-only) and a writer thread answering update requests with Raw rectangles. A non-incremental
 * request gets the requested area at once; an incremental one waits until the picture changes and gets the
 * bounding box of the change. A new plane size is announced with the DesktopSize pseudo-encoding to clients that
 * declared it; others keep the first size (the picture cropped or padded with black).
 */
final class RfbSession {
    private static final Logger log = LoggerFactory.getLogger(RfbSession.class);
    private static final int DESKTOP_SIZE = -223;
    private static final int MAX_CUT_TEXT = 1 << 20;

    private final Socket socket;
    private final Optional<String> password;
    private final String name;
    private final VncServer.FrameSource frames;
    private final Consumer<RfbSession> onClose;
    private final Object lock = new Object();
    // client state, under lock
    private PixelFormat format = PixelFormat.DEFAULT;
    private boolean desktopSize;
    private boolean pending;
    private boolean pendingIncremental;
    private int reqX;
    private int reqY;
    private int reqW;
    private int reqH;
    private boolean closed;
    // writer state
    private int width;
    private int height;
    private int[] sent;

    RfbSession(Socket socket, Optional<String> password, String name, VncServer.FrameSource frames, Consumer<RfbSession> onClose) {
        this.socket = socket;
        this.password = password;
        this.name = name;
        this.frames = frames;
        this.onClose = onClose;
    }

    void start() {
        Thread.ofVirtual().name("vnc-session").start(this::run);
    }

    void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        try {
            socket.close();
        } catch (IOException e) {
            log.debug("closing a VNC session: {}", e.toString());
        }
    }

    private void run() {
        try (socket) {
            socket.setSoTimeout(30_000); // the handshake must not hang
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
            if (!handshake(in, out)) {
                return;
            }
            socket.setSoTimeout(0);
            Thread writer = Thread.ofVirtual().name("vnc-writer").start(() -> writeLoop(out));
            try {
                readLoop(in);
            } finally {
                close();
                writer.join(5000);
            }
        } catch (EOFException e) {
            log.debug("VNC viewer left");
        } catch (IOException e) {
            log.debug("VNC session ended: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            close();
            onClose.accept(this);
        }
    }

    private boolean handshake(DataInputStream in, DataOutputStream out) throws IOException {
        out.write("RFB 003.008\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        byte[] version = new byte[12];
        in.readFully(version);
        String text = new String(version, StandardCharsets.US_ASCII);
        if (!text.matches("RFB \\d{3}\\.\\d{3}\n")) {
            log.debug("not an RFB client: {}", text.strip());
            return false;
        }
        int minor = Integer.parseInt(text.substring(8, 11));
        int major = Integer.parseInt(text.substring(4, 7));
        minor = major > 3 ? 8 : minor >= 8 ? 8 : minor == 7 ? 7 : 3;
        int type = password.isPresent() ? 2 : 1;
        if (minor == 3) {
            out.writeInt(type);
        } else {
            out.writeByte(1);
            out.writeByte(type);
            out.flush();
            int chosen = in.readUnsignedByte();
            if (chosen != type) {
                fail(out, minor, "security type " + chosen + " is not offered");
                return false;
            }
        }
        if (type == 2) {
            byte[] challenge = new byte[16];
            new SecureRandom().nextBytes(challenge);
            out.write(challenge);
            out.flush();
            byte[] response = new byte[16];
            in.readFully(response);
            if (!MessageDigest.isEqual(response, encrypt(password.get(), challenge))) {
                fail(out, minor, "authentication failed");
                log.warn("VNC viewer {}: wrong password", socket.getRemoteSocketAddress());
                return false;
            }
            out.writeInt(0);
        } else if (minor == 8) {
            out.writeInt(0);
        }
        out.flush();
        in.readUnsignedByte(); // ClientInit: shared flag (every viewer shares: view-only)
        VncServer.Frame frame = frames.current();
        width = frame.width();
        height = frame.height();
        out.writeShort(width);
        out.writeShort(height);
        PixelFormat.DEFAULT.write(out);
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        out.writeInt(nameBytes.length);
        out.write(nameBytes);
        out.flush();
        return true;
    }

    private static void fail(DataOutputStream out, int minor, String reason) throws IOException {
        out.writeInt(1);
        if (minor == 8) {
            byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
            out.writeInt(bytes.length);
            out.write(bytes);
        }
        out.flush();
    }

    /** VNC authentication's response: the challenge DES-encrypted (ECB) with the password, each key byte bit-reversed. */
    static byte[] encrypt(String password, byte[] challenge) {
        byte[] key = new byte[8];
        byte[] bytes = password.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < Math.min(8, bytes.length); i++) {
            key[i] = (byte) (Integer.reverse(bytes[i] & 0xFF) >>> 24);
        }
        try {
            Cipher des = Cipher.getInstance("DES/ECB/NoPadding");
            des.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "DES"));
            return des.doFinal(challenge);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("DES is not available in this JDK", e);
        }
    }

    private void readLoop(DataInputStream in) throws IOException {
        while (true) {
            int type = in.readUnsignedByte();
            switch (type) {
                case 0 -> { // SetPixelFormat
                    in.skipNBytes(3);
                    PixelFormat requested = PixelFormat.read(in);
                    if (!requested.trueColour() || (requested.bitsPerPixel() != 8 && requested.bitsPerPixel() != 16
                            && requested.bitsPerPixel() != 32)) {
                        log.warn("VNC viewer asked for a colour-map or {}-bit format; closing", requested.bitsPerPixel());
                        return;
                    }
                    synchronized (lock) {
                        format = requested;
                    }
                }
                case 2 -> { // SetEncodings
                    in.skipNBytes(1);
                    int count = in.readUnsignedShort();
                    boolean resize = false;
                    for (int i = 0; i < count; i++) {
                        resize |= in.readInt() == DESKTOP_SIZE;
                    }
                    synchronized (lock) {
                        desktopSize = resize;
                    }
                }
                case 3 -> { // FramebufferUpdateRequest
                    boolean incremental = in.readUnsignedByte() != 0;
                    int x = in.readUnsignedShort();
                    int y = in.readUnsignedShort();
                    int w = in.readUnsignedShort();
                    int h = in.readUnsignedShort();
                    synchronized (lock) {
                        // a full request wins over an incremental one still waiting
                        pendingIncremental = pending ? pendingIncremental && incremental : incremental;
                        reqX = x;
                        reqY = y;
                        reqW = w;
                        reqH = h;
                        pending = true;
                        lock.notifyAll();
                    }
                }
                case 4 -> in.skipNBytes(7); // KeyEvent: view-only
                case 5 -> in.skipNBytes(5); // PointerEvent: view-only
                case 6 -> { // ClientCutText
                    in.skipNBytes(3);
                    long length = in.readInt() & 0xFFFF_FFFFL;
                    if (length > MAX_CUT_TEXT) {
                        log.warn("VNC viewer sent {} bytes of cut text; closing", length);
                        return;
                    }
                    in.skipNBytes(length);
                }
                default -> {
                    log.warn("VNC viewer sent unknown message type {}; closing", type);
                    return;
                }
            }
        }
    }

    private void writeLoop(DataOutputStream out) {
        try {
            while (true) {
                boolean incremental;
                int x;
                int y;
                int w;
                int h;
                PixelFormat pf;
                boolean resize;
                synchronized (lock) {
                    while (!pending && !closed) {
                        lock.wait();
                    }
                    if (closed) {
                        return;
                    }
                    incremental = pendingIncremental;
                    x = reqX;
                    y = reqY;
                    w = reqW;
                    h = reqH;
                    pf = format;
                    resize = desktopSize;
                }
                VncServer.Frame frame = frames.current();
                if (resize && (frame.width() != width || frame.height() != height)) {
                    width = frame.width();
                    height = frame.height();
                    sent = null;
                    consume();
                    out.writeByte(0);
                    out.writeByte(0);
                    out.writeShort(1);
                    writeRectHeader(out, 0, 0, width, height, DESKTOP_SIZE);
                    out.flush();
                    continue;
                }
                int[] picture = fit(frame);
                int[] box;
                if (incremental && sent != null) {
                    box = changed(picture);
                    if (box == null) {
                        synchronized (lock) {
                            lock.wait(20); // poll the plane until it changes or a new request comes
                        }
                        continue;
                    }
                } else {
                    int x0 = Math.min(x, width);
                    int y0 = Math.min(y, height);
                    box = new int[] {x0, y0, Math.min(w, width - x0), Math.min(h, height - y0)};
                }
                consume();
                out.writeByte(0);
                out.writeByte(0);
                out.writeShort(1);
                writeRectHeader(out, box[0], box[1], box[2], box[3], 0);
                writeRaw(out, picture, box, pf);
                out.flush();
                sent = picture;
            }
        } catch (IOException e) {
            log.debug("VNC viewer gone: {}", e.toString());
            close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void consume() {
        synchronized (lock) {
            pending = false;
        }
    }

    /** The frame at the session's size: cropped, or padded with black. */
    private int[] fit(VncServer.Frame frame) {
        if (frame.width() == width && frame.height() == height) {
            return frame.pixels();
        }
        int[] result = new int[width * height];
        int w = Math.min(width, frame.width());
        for (int row = 0; row < Math.min(height, frame.height()); row++) {
            System.arraycopy(frame.pixels(), row * frame.width(), result, row * width, w);
        }
        return result;
    }

    /** The bounding box {x, y, w, h} of the pixels that differ from what was sent, or null. */
    private int[] changed(int[] picture) {
        int minX = width;
        int minY = height;
        int maxX = -1;
        int maxY = -1;
        for (int row = 0; row < height; row++) {
            int base = row * width;
            for (int col = 0; col < width; col++) {
                if (picture[base + col] != sent[base + col]) {
                    minX = Math.min(minX, col);
                    maxX = Math.max(maxX, col);
                    minY = Math.min(minY, row);
                    maxY = row;
                }
            }
        }
        return maxX < 0 ? null : new int[] {minX, minY, maxX - minX + 1, maxY - minY + 1};
    }

    private static void writeRectHeader(DataOutputStream out, int x, int y, int w, int h, int encoding) throws IOException {
        out.writeShort(x);
        out.writeShort(y);
        out.writeShort(w);
        out.writeShort(h);
        out.writeInt(encoding);
    }

    private void writeRaw(DataOutputStream out, int[] picture, int[] box, PixelFormat pf) throws IOException {
        int bytes = pf.bitsPerPixel() / 8;
        byte[] row = new byte[box[2] * bytes];
        for (int r = box[1]; r < box[1] + box[3]; r++) {
            int p = 0;
            for (int c = box[0]; c < box[0] + box[2]; c++) {
                p = pf.put(picture[r * width + c], row, p);
            }
            out.write(row);
        }
    }

    /** An RFB pixel format (true colour only is served). */
    record PixelFormat(int bitsPerPixel, int depth, boolean bigEndian, boolean trueColour, int redMax, int greenMax, int blueMax,
            int redShift, int greenShift, int blueShift) {
        /** 32 bits, depth 24, little-endian, 8 bits per channel: what the server offers first. */
        static final PixelFormat DEFAULT = new PixelFormat(32, 24, false, true, 255, 255, 255, 16, 8, 0);

        static PixelFormat read(DataInputStream in) throws IOException {
            PixelFormat pf = new PixelFormat(in.readUnsignedByte(), in.readUnsignedByte(), in.readUnsignedByte() != 0,
                    in.readUnsignedByte() != 0, in.readUnsignedShort(), in.readUnsignedShort(), in.readUnsignedShort(),
                    in.readUnsignedByte(), in.readUnsignedByte(), in.readUnsignedByte());
            in.skipNBytes(3);
            return pf;
        }

        void write(DataOutputStream out) throws IOException {
            out.writeByte(bitsPerPixel);
            out.writeByte(depth);
            out.writeByte(bigEndian ? 1 : 0);
            out.writeByte(trueColour ? 1 : 0);
            out.writeShort(redMax);
            out.writeShort(greenMax);
            out.writeShort(blueMax);
            out.writeByte(redShift);
            out.writeByte(greenShift);
            out.writeByte(blueShift);
            out.write(new byte[3]);
        }

        /** Writes one {@code 0xRRGGBB} pixel in this format at {@code p}; returns the next position. */
        int put(int rgb, byte[] buffer, int p) {
            long value = scale((rgb >>> 16) & 0xFF, redMax) << redShift
                    | scale((rgb >>> 8) & 0xFF, greenMax) << greenShift
                    | scale(rgb & 0xFF, blueMax) << blueShift;
            int bytes = bitsPerPixel / 8;
            for (int i = 0; i < bytes; i++) {
                int shift = bigEndian ? 8 * (bytes - 1 - i) : 8 * i;
                buffer[p + i] = (byte) (value >>> shift);
            }
            return p + bytes;
        }

        private static long scale(int channel, int max) {
            return max == 255 ? channel : (channel * (long) max + 127) / 255;
        }
    }
}
