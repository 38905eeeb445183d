package dev.jgvt.guest;

import java.util.ArrayList;
import java.util.List;

/**
 * The picture a guest draws: a gradient tinted by the vGPU's index, boxes that move with the frame number,
 * and the index as a large seven-segment digit on top. A pure function of its inputs, so whoever reads the
 * guest's display back (a test, a PNG viewer) can check any pixel without trusting the path in between.
 *
 * <p>It is made to be drawn by a blitter: the gradient ({@link #background}) does not change between
 * frames, so it is drawn once and copied; everything on top of it is a list of solid rectangles
 * ({@link #overlays}), painted in order, the later over the earlier.
 */
public final class Picture {
    private static final int[] TINTS = {0x3060C0, 0xC04030, 0x30A050, 0xB08020, 0x8040B0, 0x20A0A0, 0xA03070, 0x707070};
    /** Segment masks for 0-9: bits a,b,c,d,e,f,g = 0..6. */
    private static final int[] DIGITS = {0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F};
    private static final int DIGIT_COLOUR = 0xFFFFFF;
    private static final int BOX_COLOUR = 0xFFD000;

    /** A solid rectangle of the picture: [x, x + width) x [y, y + height), XRGB8888 colour. */
    public record Rect(int x, int y, int width, int height, int colour) {
        public boolean contains(int px, int py) {
            return px >= x && px < x + width && py >= y && py < y + height;
        }
    }

    private Picture() {}

    /** The XRGB8888 value (X = 0) of pixel (x, y) of frame {@code frame} for vGPU {@code index}. */
    public static int pixel(int index, int frame, int width, int height, int x, int y) {
        return pixel(overlays(index, frame, width, height), index, width, height, x, y);
    }

    /** The pixel given the frame's {@link #overlays} (computed once per frame by callers checking many pixels). */
    public static int pixel(List<Rect> overlays, int index, int width, int height, int x, int y) {
        for (int i = overlays.size() - 1; i >= 0; i--) {
            Rect r = overlays.get(i);
            if (r.contains(x, y)) {
                return r.colour();
            }
        }
        return background(index, width, height, x, y);
    }

    /** The gradient under everything: the same in every frame. */
    public static int background(int index, int width, int height, int x, int y) {
        int tint = TINTS[Math.floorMod(index, TINTS.length)];
        int r = scale((tint >>> 16) & 0xFF, x, width);
        int g = scale((tint >>> 8) & 0xFF, y, height);
        int b = scale(tint & 0xFF, x + y, width + height);
        return (r << 16) | (g << 8) | b;
    }

    /**
     * The solid rectangles over the gradient in painting order (three boxes, then the digit's segments),
     * clipped to the picture; none is empty.
     */
    public static List<Rect> overlays(int index, int frame, int width, int height) {
        List<Rect> rects = new ArrayList<>(10);
        int size = Math.max(4, Math.min(width, height) / 8);
        for (int box = 0; box < 3; box++) {
            int bx = Math.floorMod(frame * (3 + box) + box * width / 3, Math.max(1, width - size));
            int by = height * (box + 1) / 4 - size / 2;
            add(rects, width, height, bx, by, size, size, BOX_COLOUR);
        }
        int h = height / 2;
        int w = h / 2;
        int t = Math.max(2, h / 10);
        int left = width / 16;
        int top = height / 4;
        int mid = h / 2;
        int mask = DIGITS[Math.floorMod(index, 10)];
        if (bit(mask, 0)) {
            add(rects, width, height, left, top, w, t, DIGIT_COLOUR);
        }
        if (bit(mask, 3)) {
            add(rects, width, height, left, top + h - t, w, t, DIGIT_COLOUR);
        }
        if (bit(mask, 6)) {
            add(rects, width, height, left, top + mid - t / 2, w, t / 2 + (t + 1) / 2, DIGIT_COLOUR);
        }
        if (bit(mask, 1)) {
            add(rects, width, height, left + w - t, top, t, mid, DIGIT_COLOUR);
        }
        if (bit(mask, 2)) {
            add(rects, width, height, left + w - t, top + mid, t, h - mid, DIGIT_COLOUR);
        }
        if (bit(mask, 5)) {
            add(rects, width, height, left, top, t, mid, DIGIT_COLOUR);
        }
        if (bit(mask, 4)) {
            add(rects, width, height, left, top + mid, t, h - mid, DIGIT_COLOUR);
        }
        return rects;
    }

    /** Adds [x, x+w) x [y, y+h) clipped to the picture, unless nothing is left of it. */
    private static void add(List<Rect> rects, int width, int height, int x, int y, int w, int h, int colour) {
        int x0 = Math.max(0, x);
        int y0 = Math.max(0, y);
        int x1 = Math.min(width, x + w);
        int y1 = Math.min(height, y + h);
        if (x1 > x0 && y1 > y0) {
            rects.add(new Rect(x0, y0, x1 - x0, y1 - y0, colour));
        }
    }

    private static int scale(int channel, int position, int extent) {
        return channel / 4 + (channel * 3 / 4) * position / Math.max(1, extent - 1);
    }

    private static boolean bit(int mask, int bit) {
        return (mask & (1 << bit)) != 0;
    }
}
