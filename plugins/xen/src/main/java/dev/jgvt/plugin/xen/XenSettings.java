package dev.jgvt.plugin.xen;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.util.Locale;
import java.util.Map;

/**
 * The plugin's configuration ({@code plugin.xen.*} keys, prefix removed):
 *
 * <ul>
 *   <li>{@code backend}: {@code native} (default; needs a Xen dom0), {@code emulated} (the in-process Xen),
 *       or {@code auto} (native where Xen is present, emulated elsewhere);
 *   <li>{@code emulated.ramBytes}: RAM of domains the emulated backend creates on attach (default 256 MiB);
 *   <li>{@code emulated.vcpus}: their vCPUs (default 1);
 *   <li>{@code mapcache.buckets}: how many 1 MiB buckets of guest RAM stay mapped (default 1024).
 * </ul>
 */
record XenSettings(Backend backend, long emulatedRamBytes, int emulatedVcpus, int mapCacheBuckets) {
    enum Backend {
        NATIVE,
        EMULATED,
        AUTO
    }

    static XenSettings from(Map<String, String> configuration) {
        String name = configuration.getOrDefault("backend", "native").trim().toUpperCase(Locale.ROOT);
        Backend backend;
        try {
            backend = Backend.valueOf(name);
        } catch (IllegalArgumentException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "plugin.xen.backend must be native, emulated or auto: '"
                    + configuration.get("backend") + "'");
        }
        return new XenSettings(backend,
                number(configuration, "emulated.ramBytes", 256L << 20),
                (int) number(configuration, "emulated.vcpus", 1),
                (int) number(configuration, "mapcache.buckets", 1024));
    }

    private static long number(Map<String, String> configuration, String key, long fallback) {
        String value = configuration.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            long parsed = Long.decode(value.trim());
            if (parsed <= 0) {
                throw new NumberFormatException("not positive");
            }
            return parsed;
        } catch (NumberFormatException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "plugin.xen." + key + " must be a positive number: '" + value + "'");
        }
    }
}
