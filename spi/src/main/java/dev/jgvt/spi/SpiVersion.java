package dev.jgvt.spi;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * A semantic version of the SPI. Plugins declare the range they need in their {@code Plugin-Requires}
 * descriptor entry (for example {@code >=1.0.0 & <2.0.0}); the core refuses a plugin whose range does
 * not contain {@link #current()}. A minor version adds methods with defaults; a major version breaks.
 */
public record SpiVersion(int major, int minor, int patch) implements Comparable<SpiVersion> {
    private static final SpiVersion CURRENT = load();

    public SpiVersion {
        if (major < 0 || minor < 0 || patch < 0) {
            throw new IllegalArgumentException("version parts must be >= 0: " + major + "." + minor + "." + patch);
        }
    }

    /** The version of the SPI classes on the class path (the one the core implements). */
    public static SpiVersion current() {
        return CURRENT;
    }

    /** Parses {@code MAJOR.MINOR.PATCH}; anything else is an {@link ErrorCode#INVALID_ARGUMENT}. */
    public static SpiVersion parse(String text) {
        String[] parts = text.trim().split("\\.", -1);
        if (parts.length != 3) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "not a MAJOR.MINOR.PATCH version: '" + text + "'");
        }
        try {
            return new SpiVersion(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2]));
        } catch (IllegalArgumentException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "not a MAJOR.MINOR.PATCH version: '" + text + "'", e);
        }
    }

    /** True when a plugin built against {@code this} can run on {@code host}: same major, host not older. */
    public boolean runsOn(SpiVersion host) {
        return major == host.major && host.compareTo(this) >= 0;
    }

    @Override
    public int compareTo(SpiVersion other) {
        if (major != other.major) {
            return Integer.compare(major, other.major);
        }
        if (minor != other.minor) {
            return Integer.compare(minor, other.minor);
        }
        return Integer.compare(patch, other.patch);
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch;
    }

    private static SpiVersion load() {
        try (InputStream in = SpiVersion.class.getResourceAsStream("spi-version.properties")) {
            if (in == null) {
                throw new IllegalStateException("spi-version.properties is missing from the SPI jar");
            }
            Properties properties = new Properties();
            properties.load(in);
            return parse(properties.getProperty("version", ""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
