package dev.jgvt.core.cmd;

import static dev.jgvt.core.cmd.Fixture.APERTURE;
import static dev.jgvt.core.cmd.Fixture.FOREIGN;
import static dev.jgvt.core.cmd.Fixture.HIDDEN;
import static dev.jgvt.core.cmd.Fixture.SIZE;

import dev.jgvt.core.hw.Engine;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Random workloads: a ring slice and batch buffers at fixed places (inside the aperture and hidden slices, at
 * their ends, and in foreign memory). {@code valid} workloads use only commands, registers and addresses a
 * correct scanner must accept; hostile ones mix in everything else.
 */
final class RandomWorkloads {
    static final long RING = APERTURE + 0x80000;
    static final long RING_SIZE = 0x8000;
    static final long[] BATCHES = {APERTURE + 0x1000, APERTURE + 0x9000, HIDDEN + 0x2000, HIDDEN + SIZE - 0x40,
        FOREIGN + 0x1000, APERTURE + 0x40000};
    private static final int[] GOOD_REGISTERS = {0x7000, 0xE4F0, 0xB020, 0x2580, 0xC800, 0x2600, 0x20C0, 0xB118};
    private static final int[] BAD_REGISTERS = {0x100000, 0x44050, 0xA188, 0x2274, 0x12270, 0x1FFFFC, 0x9400};
    private static final int BB_END = 0x0A << 23;

    private final RandomGenerator random;
    private final Engine engine;
    private final boolean valid;
    /** Whether the element being generated must be acceptable (hostile workloads relax it now and then). */
    private boolean strict;
    private final List<CommandDef> plain = new ArrayList<>();
    private final List<CommandDef> handled = new ArrayList<>();

    RandomWorkloads(RandomGenerator random, Engine engine, boolean valid) {
        this.random = random;
        this.engine = engine;
        this.valid = valid;
        for (CommandDef def : CommandTable.gen9().rows()) {
            if (!def.legalOn(engine)) {
                continue;
            }
            (def.handler() == Handler.NONE ? plain : handled).add(def);
        }
    }

    /** Writes the batches into the fixture and returns the ring slice's dwords (written at {@link #RING}). */
    int[] generate(Fixture fx) {
        for (long batch : BATCHES) {
            int[] body = stream(random.nextInt(1, 40), false);
            boolean end = valid || random.nextInt(10) != 0;
            int room = (int) (batch >= HIDDEN + SIZE - 0x40 ? 0x40 / 4 - 1 : 0x1000 / 4 - 1);
            int n = Math.min(body.length, room);
            int[] dws = new int[n + (end ? 1 : 0)];
            System.arraycopy(body, 0, dws, 0, n);
            if (end) {
                dws[n] = BB_END;
            }
            if (valid && batch == HIDDEN + SIZE - 0x40) {
                dws = new int[] {BB_END};
            }
            fx.write(batch, dws);
        }
        int[] ring = stream(random.nextInt(1, 60), true);
        fx.write(RING, ring);
        return ring;
    }

    private int[] stream(int elements, boolean inRing) {
        List<int[]> parts = new ArrayList<>();
        for (int i = 0; i < elements; i++) {
            parts.add(element(inRing));
        }
        int n = parts.stream().mapToInt(p -> p.length).sum();
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private long address(int bytes) {
        int pick = random.nextInt(strict ? 3 : 7);
        return switch (pick) {
            case 0 -> APERTURE + (random.nextLong(SIZE - bytes) & ~7L);
            case 1 -> HIDDEN + (random.nextLong(SIZE - bytes) & ~7L);
            case 2 -> HIDDEN + SIZE - ((bytes + 7) & ~7L);
            case 3 -> FOREIGN + (random.nextLong(SIZE) & ~7L);
            case 4 -> APERTURE + SIZE - 4;
            case 5 -> random.nextLong() & 0xFFFF_FFFF_FFF8L;
            default -> HIDDEN - 8;
        };
    }

    private int register() {
        if (strict || random.nextInt(3) != 0) {
            return GOOD_REGISTERS[random.nextInt(GOOD_REGISTERS.length)];
        }
        return BAD_REGISTERS[random.nextInt(BAD_REGISTERS.length)];
    }

    private int[] element(boolean inRing) {
        strict = valid || random.nextInt(6) != 0;
        int pick = random.nextInt(100);
        if (pick < 10) {
            return new int[random.nextInt(1, 12)];
        }
        if (pick < 20) {
            int pairs = random.nextInt(1, 4);
            int[] c = new int[1 + 2 * pairs];
            c[0] = (0x22 << 23) | (c.length - 2);
            for (int i = 0; i < pairs; i++) {
                c[1 + 2 * i] = register();
                c[2 + 2 * i] = random.nextInt();
            }
            if (c[1] == 0xB118 && strict) {
                c[1] = 0x7000;
            }
            return c;
        }
        if (pick < 28) {
            int data = random.nextInt(1, 3);
            long gma = address(4 * data);
            return concat(new int[] {(0x20 << 23) | (1 << 22) | (data == 2 ? 1 << 21 : 0) | (data + 1), (int) gma, (int) (gma >>> 32)},
                    new int[data]);
        }
        if (pick < 36 && engine == Engine.RCS) {
            long gma = address(8);
            int dw1 = (1 << 14) | (1 << 24);
            if (!strict) {
                dw1 = random.nextInt() & ((3 << 14) | (1 << 21) | (1 << 23) | (1 << 24) | (1 << 8));
                if ((dw1 & (1 << 21)) != 0) {
                    gma = random.nextInt(0x1100) & ~7;
                }
                if ((dw1 & (1 << 23)) != 0) {
                    gma = register();
                }
            }
            return new int[] {0x7A000004, dw1, (int) gma, (int) (gma >>> 32), 0, 0};
        }
        if (pick < 42 && engine != Engine.RCS) {
            long gma = address(8);
            int h = (0x26 << 23) | (1 << 14) | 2;
            int dw1 = (int) gma | 4;
            if (!strict && random.nextBoolean()) {
                h |= 1 << 21;
                dw1 = random.nextInt(0x1100) & ~7;
            }
            return new int[] {h, dw1, (int) (gma >>> 32), 0};
        }
        if (pick < 50 && inRing) {
            long target = strict ? BATCHES[random.nextInt(4)] : BATCHES[random.nextInt(BATCHES.length)];
            if (strict && target == HIDDEN + SIZE - 0x40) {
                target = BATCHES[0];
            }
            boolean ppgtt = !strict && random.nextInt(5) == 0;
            boolean second = !strict && random.nextInt(4) == 0;
            return Fixture.bbStart(target, ppgtt, second);
        }
        if (pick < 54 && !strict) {
            long target = BATCHES[random.nextInt(BATCHES.length)];
            return Fixture.bbStart(target, random.nextInt(5) == 0, random.nextBoolean());
        }
        if (pick < 57 && !strict) {
            return new int[] {BB_END};
        }
        if (pick < 62 && !strict && !handled.isEmpty()) {
            CommandDef def = handled.get(random.nextInt(handled.size()));
            int len = def.fixedLength() != 0 ? def.fixedLength() : random.nextInt(2, Math.min(def.maxLength(), 8) + 1);
            int[] c = new int[len];
            c[0] = def.header(len) | (random.nextInt() & 0x00FFFF00 & ~((1 << def.lengthBits()) - 1) & 0x7FFF00);
            if (def.lengthBits() == 0) {
                c[0] = def.header(len) | (random.nextInt() & 0x7FFF00 & 0x1FFFFF);
            }
            for (int i = 1; i < len; i++) {
                c[i] = random.nextInt(4) == 0 ? (int) address(8) : random.nextInt();
            }
            return c;
        }
        if (pick < 64 && !strict) {
            return new int[] {random.nextInt()};
        }
        if (plain.isEmpty()) {
            return new int[1];
        }
        CommandDef def = plain.get(random.nextInt(plain.size()));
        int len = def.fixedLength() != 0 ? def.fixedLength() : random.nextInt(2, Math.min(def.maxLength(), 10) + 1);
        int[] c = new int[len];
        c[0] = def.header(len);
        for (int i = 1; i < len; i++) {
            c[i] = random.nextInt();
        }
        return c;
    }

    private static int[] concat(int[] a, int[] b) {
        return Fixture.concat(a, b);
    }
}
