package dev.jgvt.plugin.fake;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * The fake plugin's configuration, from the {@code plugin.fake.*} keys of the engine configuration.
 *
 * @param maxRamBytes the largest guest RAM an attach may ask for ({@code max-ram-bytes}, default 16 GiB;
 *     suffixes K, M, G allowed)
 * @param msiDelay the MSI delivery delay every guest starts with ({@code msi-delay-micros}, default 0)
 */
record FakeConfig(long maxRamBytes, Duration msiDelay) {
    static final String MAX_RAM_BYTES = "max-ram-bytes";
    static final String MSI_DELAY_MICROS = "msi-delay-micros";
    static final long DEFAULT_MAX_RAM_BYTES = 16L << 30;
    /** Frame sets index frames with an int: at most 2^31 - 1 frames (just under 8 TiB). */
    static final long LIMIT_RAM_BYTES = (long) Integer.MAX_VALUE * GuestRam.PAGE;
    private static final Set<String> KEYS = Set.of(MAX_RAM_BYTES, MSI_DELAY_MICROS);

    static FakeConfig from(Map<String, String> configuration) {
        for (String key : configuration.keySet()) {
            if (!KEYS.contains(key)) {
                throw new GvtException(ErrorCode.INVALID_ARGUMENT, "unknown configuration key plugin.fake." + key + "; known: "
                        + KEYS.stream().sorted().toList());
            }
        }
        long maxRam = size(MAX_RAM_BYTES, configuration.getOrDefault(MAX_RAM_BYTES, Long.toString(DEFAULT_MAX_RAM_BYTES)));
        if (maxRam <= 0 || maxRam > LIMIT_RAM_BYTES) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "plugin.fake." + MAX_RAM_BYTES + " must be in (0, 0x"
                    + Long.toHexString(LIMIT_RAM_BYTES) + "]: " + maxRam);
        }
        long delay = size(MSI_DELAY_MICROS, configuration.getOrDefault(MSI_DELAY_MICROS, "0"));
        if (delay < 0) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "plugin.fake." + MSI_DELAY_MICROS + " must not be negative: " + delay);
        }
        return new FakeConfig(maxRam, Duration.ofNanos(Math.multiplyExact(delay, 1000L)));
    }

    private static long size(String key, String text) {
        String value = text.trim();
        long unit = 1;
        if (!value.isEmpty()) {
            switch (Character.toUpperCase(value.charAt(value.length() - 1))) {
                case 'K' -> unit = 1L << 10;
                case 'M' -> unit = 1L << 20;
                case 'G' -> unit = 1L << 30;
                default -> unit = 1;
            }
        }
        String digits = unit == 1 ? value : value.substring(0, value.length() - 1);
        try {
            return Math.multiplyExact(Long.parseLong(digits.trim()), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "plugin.fake." + key + " is not a number: '" + text + "'", e);
        }
    }
}
