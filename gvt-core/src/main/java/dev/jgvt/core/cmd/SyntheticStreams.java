package dev.jgvt.core.cmd;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.VgpuPartition;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Realistic, valid command streams for benchmarks and tests: the mix a driver emits into a privileged batch
 * (3D state of real lengths, LRIs to command-accessible registers, PIPE_CONTROL with GGTT post-sync writes,
 * MI_STORE_DATA_IMM, 3DPRIMITIVE, blits on BCS, runs of MI_NOOP), ending in MI_BATCH_BUFFER_END. Every address
 * lies in the vGPU's aperture, so the Gen9 scanner accepts the stream.
 */
public final class SyntheticStreams {
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int[] SAFE_REGISTERS = {0x7000, 0x7004, 0x7010, 0x7014, 0xE4F0, 0xE4F4, 0xB020, 0xB024,
        0x2580, 0x20EC, 0xC800, 0xC804, 0x2600, 0x2604};

    private SyntheticStreams() {}

    /**
     * A stream of exactly {@code bytes} bytes (a multiple of 4, at least 8) for {@code engine}, ending in
     * MI_BATCH_BUFFER_END, allocated in {@code arena}.
     */
    public static MemorySegment batch(Engine engine, int bytes, long seed, VgpuPartition partition, Arena arena) {
        requireNonNull(engine, "engine is null");
        requireNonNull(partition, "partition is null");
        if (bytes < 8 || (bytes & 3) != 0) {
            throw new IllegalArgumentException("stream size must be a multiple of 4 and at least 8: " + bytes);
        }
        CommandTable table = CommandTable.gen9();
        List<CommandDef> plain = new ArrayList<>();
        for (CommandDef def : table.rows()) {
            if (def.legalOn(engine) && def.handler() == Handler.NONE && def.type() != CommandType.MI) {
                plain.add(def);
            }
        }
        SplittableRandom random = new SplittableRandom(seed);
        MemorySegment out = arena.allocate(bytes, 4096);
        int n = bytes / 4 - 1;
        int[] dws = new int[n];
        int pos = 0;
        long apertureBase = partition.aperture().base();
        long apertureSize = partition.aperture().size();
        while (pos < n) {
            int left = n - pos;
            int pick = random.nextInt(100);
            int[] cmd;
            if (pick < 10) {
                cmd = new int[1 + random.nextInt(Math.min(16, left))]; // a run of MI_NOOP
            } else if (pick < 20 && left >= 3) {
                int pairs = 1 + random.nextInt(Math.min(4, (left - 1) / 2));
                cmd = new int[1 + 2 * pairs];
                cmd[0] = (0x22 << 23) | (cmd.length - 2);
                for (int i = 0; i < pairs; i++) {
                    cmd[1 + 2 * i] = SAFE_REGISTERS[random.nextInt(SAFE_REGISTERS.length)];
                    cmd[2 + 2 * i] = random.nextInt();
                }
            } else if (pick < 30 && left >= 6 && engine == Engine.RCS) {
                long gma = apertureBase + (random.nextLong(apertureSize - 8) & ~7L);
                cmd = new int[] {0x7A000004, (1 << 14) | (1 << 24) | (random.nextBoolean() ? 1 << 20 : 0),
                    (int) gma, (int) (gma >>> 32), random.nextInt(), random.nextInt()};
            } else if (pick < 30 && left >= 4 && engine != Engine.RCS) {
                long gma = apertureBase + (random.nextLong(apertureSize - 8) & ~7L);
                cmd = new int[] {(0x26 << 23) | (1 << 14) | 2, (int) gma | (1 << 2), (int) (gma >>> 32), random.nextInt()};
            } else if (pick < 35 && left >= 4) {
                long gma = apertureBase + (random.nextLong(apertureSize - 4) & ~3L);
                cmd = new int[] {(0x20 << 23) | (1 << 22) | 2, (int) gma, (int) (gma >>> 32), random.nextInt()};
            } else if (!plain.isEmpty()) {
                CommandDef def = plain.get(random.nextInt(plain.size()));
                int max = Math.min(Math.min(def.maxLength(), left), 12);
                int len;
                if (def.lengthBits() == 0) {
                    len = def.fixedLength();
                } else if (max < 2) {
                    len = 0;
                } else {
                    len = 2 + random.nextInt(max - 1);
                }
                if (len == 0 || len > left) {
                    cmd = new int[1];
                } else {
                    cmd = new int[len];
                    cmd[0] = def.header(len);
                    for (int i = 1; i < len; i++) {
                        cmd[i] = random.nextInt();
                    }
                }
            } else {
                cmd = new int[1];
            }
            System.arraycopy(cmd, 0, dws, pos, cmd.length);
            pos += cmd.length;
        }
        for (int i = 0; i < n; i++) {
            out.set(DW, 4L * i, dws[i]);
        }
        out.set(DW, 4L * n, 0x0A << 23);
        return out;
    }
}
