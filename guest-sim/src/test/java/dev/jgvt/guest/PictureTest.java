package dev.jgvt.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class PictureTest {
    /**
     * The rectangles a blitter paints over the gradient give exactly the picture defined pixel by pixel
     * (digit over boxes over gradient), including sizes where parts are clipped.
     */
    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"16,16", "200,120", "64,48", "17,300", "300,17", "640,360"})
    void rectanglesOverTheGradientAreThePicture(int width, int height) {
        for (int index = 0; index < 10; index++) {
            for (int frame : new int[] {0, 1, 5, 77}) {
                List<Picture.Rect> overlays = Picture.overlays(index, frame, width, height);
                for (Picture.Rect r : overlays) {
                    assertThat(r.width()).isPositive();
                    assertThat(r.height()).isPositive();
                    assertThat(r.x() + r.width()).isLessThanOrEqualTo(width);
                    assertThat(r.y() + r.height()).isLessThanOrEqualTo(height);
                }
                for (int y = 0; y < height; y++) {
                    for (int x = 0; x < width; x++) {
                        int want = Reference.pixel(index, frame, width, height, x, y);
                        if (Picture.pixel(overlays, index, width, height, x, y) != want) {
                            assertThat(Picture.pixel(index, frame, width, height, x, y))
                                    .as("vGPU %d frame %d (%d,%d)", index, frame, x, y).isEqualTo(want);
                        }
                    }
                }
            }
        }
    }

    /** The picture's definition pixel by pixel: digit first, then boxes, else the gradient. */
    private static final class Reference {
        private static final int[] TINTS = {0x3060C0, 0xC04030, 0x30A050, 0xB08020, 0x8040B0, 0x20A0A0, 0xA03070, 0x707070};
        /** Segment masks for 0-9: bits a,b,c,d,e,f,g = 0..6. */
        private static final int[] DIGITS = {0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F};
        private static final int DIGIT_COLOUR = 0xFFFFFF;
        private static final int BOX_COLOUR = 0xFFD000;


        /** The XRGB8888 value (X = 0) of pixel (x, y) of frame {@code frame} for vGPU {@code index}. */
        public static int pixel(int index, int frame, int width, int height, int x, int y) {
            if (inDigit(Math.floorMod(index, 10), width, height, x, y)) {
                return DIGIT_COLOUR;
            }
            if (inBox(frame, width, height, x, y)) {
                return BOX_COLOUR;
            }
            int tint = TINTS[Math.floorMod(index, TINTS.length)];
            int r = scale((tint >>> 16) & 0xFF, x, width);
            int g = scale((tint >>> 8) & 0xFF, y, height);
            int b = scale(tint & 0xFF, x + y, width + height);
            return (r << 16) | (g << 8) | b;
        }

        private static int scale(int channel, int position, int extent) {
            return channel / 4 + (channel * 3 / 4) * position / Math.max(1, extent - 1);
        }

        private static boolean inBox(int frame, int width, int height, int x, int y) {
            int size = Math.max(4, Math.min(width, height) / 8);
            for (int box = 0; box < 3; box++) {
                int bx = Math.floorMod(frame * (3 + box) + box * width / 3, Math.max(1, width - size));
                int by = height * (box + 1) / 4 - size / 2;
                if (x >= bx && x < bx + size && y >= by && y < by + size) {
                    return true;
                }
            }
            return false;
        }

        private static boolean inDigit(int digit, int width, int height, int x, int y) {
            int h = height / 2;
            int w = h / 2;
            int t = Math.max(2, h / 10);
            int left = width / 16;
            int top = height / 4;
            int dx = x - left;
            int dy = y - top;
            if (dx < 0 || dy < 0 || dx >= w || dy >= h) {
                return false;
            }
            int mask = DIGITS[digit];
            int mid = h / 2;
            boolean a = dy < t;
            boolean d = dy >= h - t;
            boolean g = dy >= mid - t / 2 && dy < mid + (t + 1) / 2;
            boolean leftEdge = dx < t;
            boolean rightEdge = dx >= w - t;
            boolean upper = dy < mid;
            return (bit(mask, 0) && a) || (bit(mask, 3) && d) || (bit(mask, 6) && g)
                    || (bit(mask, 1) && rightEdge && upper) || (bit(mask, 2) && rightEdge && !upper)
                    || (bit(mask, 5) && leftEdge && upper) || (bit(mask, 4) && leftEdge && !upper);
        }

        private static boolean bit(int mask, int bit) {
            return (mask & (1 << bit)) != 0;
        }

    }
}
