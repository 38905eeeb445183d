package dev.jgvt.core.cmd;

import java.util.Locale;

/**
 * A Gen9 command streamer. {@link #VCS} and {@link #VCS2} share one command table (rows name them together as
 * {@code VCS}); every engine has its own MMIO base, which locates its ring registers (PDPs, ...).
 */
public enum Engine {
    RCS(0x2000, 0),
    BCS(0x22000, 1),
    VCS(0x12000, 2),
    VCS2(0x1C000, 2),
    VECS(0x1A000, 3);

    /** Number of distinct command tables (engine classes). */
    static final int TABLE_CLASSES = 4;

    private final int mmioBase;
    private final int tableClass;

    Engine(int mmioBase, int tableClass) {
        this.mmioBase = mmioBase;
        this.tableClass = tableClass;
    }

    /** The engine's MMIO base (its ring registers are at base + 0x000..0xFFF). */
    public int mmioBase() {
        return mmioBase;
    }

    /** Index of the engine class whose command table applies: RCS 0, BCS 1, VCS/VCS2 2, VECS 3. */
    int tableClass() {
        return tableClass;
    }

    /** The engine by its lower-case CLI name ({@code rcs}, {@code bcs}, {@code vcs}, {@code vcs2}, {@code vecs}). */
    public static Engine fromName(String name) {
        for (Engine engine : values()) {
            if (engine.name().equalsIgnoreCase(name)) {
                return engine;
            }
        }
        throw new IllegalArgumentException("unknown engine '" + name + "': expected rcs, bcs, vcs, vcs2 or vecs");
    }

    /** The lower-case name. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
