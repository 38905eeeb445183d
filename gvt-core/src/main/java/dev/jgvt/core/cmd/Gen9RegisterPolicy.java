package dev.jgvt.core.cmd;

import dev.jgvt.core.hw.Engine;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The default Gen9 register policy, loaded from {@code gen9/registers.tsv}: the command-accessible registers, the
 * two registers LRM/SRM may name on Gen9 (L3SQCREG4 0xB118 and 0x21F0), no LRR at all (Gen9 allows none), and
 * DERRMR/FORCEWAKE_MT writes patched to the PVINFO page (0x78000) so they never reach hardware.
 * Bitmaps over the 2 MiB MMIO window make every answer one array load.
 */
public final class Gen9RegisterPolicy implements RegisterPolicy {
    /** Where patched register writes go: the PVINFO page, which has no hardware behind it. */
    public static final int PATCH_TARGET = 0x78000;
    static final int MMIO_SIZE = 2 * 1024 * 1024;

    private final long[] cmd = new long[MMIO_SIZE / 4 / 64];
    private final long[] mem = new long[MMIO_SIZE / 4 / 64];
    private final long[] patch = new long[MMIO_SIZE / 4 / 64];

    private static volatile Gen9RegisterPolicy instance;

    private Gen9RegisterPolicy(List<String> lines) {
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String text = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (text.isEmpty()) {
                continue;
            }
            String[] cols = text.split("\\s+");
            if (cols.length != 4) {
                throw new IllegalArgumentException("registers.tsv:" + (i + 1) + ": expected 4 columns, got " + cols.length);
            }
            int count = Integer.decode(cols[1]);
            String[] attrs = cols[3].split(",");
            if (cols[0].startsWith("ring+")) {
                int delta = Integer.decode(cols[0].substring(5));
                for (Engine engine : Engine.values()) {
                    mark(engine.mmioBase() + delta, count, attrs, i + 1);
                }
            } else {
                mark(Integer.decode(cols[0]), count, attrs, i + 1);
            }
        }
    }

    private void mark(int offset, int count, String[] attrs, int line) {
        if ((offset & 3) != 0 || offset < 0 || offset + 4L * count > MMIO_SIZE) {
            throw new IllegalArgumentException("registers.tsv:" + line + ": bad register range 0x" + Integer.toHexString(offset));
        }
        for (int k = 0; k < count; k++) {
            int dword = (offset >>> 2) + k;
            for (String attr : attrs) {
                long[] bits = switch (attr) {
                    case "cmd", "pdp" -> cmd;
                    case "mem" -> mem;
                    case "patch" -> patch;
                    default -> throw new IllegalArgumentException("registers.tsv:" + line + ": unknown attribute " + attr);
                };
                bits[dword >>> 6] |= 1L << dword;
            }
        }
    }

    /** The policy loaded from the bundled table. */
    public static Gen9RegisterPolicy load() {
        Gen9RegisterPolicy policy = instance;
        if (policy == null) {
            try (InputStream in = Gen9RegisterPolicy.class.getResourceAsStream("gen9/registers.tsv")) {
                if (in == null) {
                    throw new IllegalStateException("gen9/registers.tsv missing");
                }
                policy = new Gen9RegisterPolicy(
                        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            instance = policy;
        }
        return policy;
    }

    private static boolean test(long[] bits, int offset) {
        if (offset < 0 || offset > MMIO_SIZE - 4 || (offset & 3) != 0) {
            return false;
        }
        int dword = offset >>> 2;
        return (bits[dword >>> 6] & (1L << dword)) != 0;
    }

    @Override
    public boolean commandAccessible(int offset) {
        return test(cmd, offset);
    }

    @Override
    public boolean memoryTransferAllowed(int offset) {
        return test(mem, offset);
    }

    @Override
    public boolean registerCopyAllowed(int source, int destination) {
        return false;
    }

    @Override
    public int patchedOffset(int offset) {
        return test(patch, offset) ? PATCH_TARGET : -1;
    }
}
