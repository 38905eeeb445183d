package dev.jgvt.testing.genxml;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The checked-in genxml extract ({@code gen9-genxml.tsv}) and dispute list ({@code gen9-disputed.tsv}).
 * Engine classes are numbered like the command tables: 0 render, 1 blitter, 2 video, 3 video enhancement.
 */
public final class Gen9Genxml {
    private Gen9Genxml() {}

    /**
     * One genxml instruction.
     *
     * @param name genxml's name
     * @param engine genxml's {@code engine} attribute ({@code all} when it has none), e.g. {@code render|blitter}
     * @param opcode the header fields in the command tables' syntax ({@code mi:0x22}, {@code 3d:3/0/21},
     *     {@code mfx:2/0/0/0}, {@code vd:2/7/32})
     * @param lengthBits width of the DWord Length field at bit 0 (0 = none: the command has a fixed length)
     * @param bias what the length field is short of the total length
     * @param fixedLength genxml's {@code length} attribute, or 0 when it has none
     * @param addressDwords the dwords holding the low half of an address field, or {@code -}
     * @param source which genxml file the row comes from
     */
    public record Fact(String name, String engine, String opcode, int lengthBits, int bias, int fixedLength,
            String addressDwords, String source) {
        public Fact {
            requireNonNull(name, "name is null");
            requireNonNull(engine, "engine is null");
            requireNonNull(opcode, "opcode is null");
        }

        /** The engine classes genxml names (0 render, 1 blitter, 2 video; {@code all} = 0-3). */
        public List<Integer> engineClasses() {
            List<Integer> list = new ArrayList<>();
            for (String e : engine.split("\\|")) {
                switch (e) {
                    case "all" -> list.addAll(List.of(0, 1, 2, 3));
                    case "render" -> list.add(0);
                    case "blitter" -> list.add(1);
                    case "video" -> list.add(2);
                    default -> throw new IllegalArgumentException(name + ": engine " + e);
                }
            }
            return list;
        }

        /** DW0 of the command with a zero length field, from the opcode fields. */
        public int header() {
            String[] kv = opcode.split(":");
            String[] f = kv[1].split("/");
            return switch (kv[0]) {
                case "mi" -> Integer.decode(f[0]) << 23;
                case "2d" -> (2 << 29) | (Integer.decode(f[0]) << 22);
                case "3d" -> (3 << 29) | (Integer.decode(f[0]) << 27) | (Integer.decode(f[1]) << 24)
                        | (Integer.decode(f[2]) << 16);
                case "mfx" -> (3 << 29) | (Integer.decode(f[0]) << 27) | (Integer.decode(f[1]) << 24)
                        | (Integer.decode(f[2]) << 21) | (Integer.decode(f[3]) << 16);
                case "vd" -> (3 << 29) | (Integer.decode(f[0]) << 27) | (Integer.decode(f[1]) << 23)
                        | (Integer.decode(f[2]) << 16);
                default -> throw new IllegalArgumentException(name + ": opcode " + opcode);
            };
        }

        /** The bits of DW0 that identify the command (everything above the length field and flag bits). */
        public int headerMask() {
            return switch (opcode.substring(0, opcode.indexOf(':'))) {
                case "mi" -> 0xFF800000;
                case "2d" -> 0xFFC00000;
                default -> 0xFFFF0000;
            };
        }

        /**
         * The address dwords as a mask (bit i = dword i), limited to dwords 1-31 like the command tables' column;
         * dwords past 31 (only in the long video buffer-address commands) are left out.
         */
        public int addressDwordMask() {
            int mask = 0;
            if (!addressDwords.equals("-")) {
                for (String dw : addressDwords.split(",")) {
                    int index = Integer.parseInt(dw);
                    if (index >= 1 && index <= 31) {
                        mask |= 1 << index;
                    }
                }
            }
            return mask;
        }

        /** The genxml length of a command whose length field holds {@code field}. */
        public int length(int field) {
            return lengthBits == 0 ? fixedLength : field + bias;
        }
    }

    /** Every fact of the extract, in file order. */
    public static List<Fact> facts() {
        List<Fact> facts = new ArrayList<>();
        for (String line : lines("gen9-genxml.tsv")) {
            String[] c = line.split("\t");
            int bits = 0;
            if (!c[3].equals("-")) {
                String[] lh = c[3].split(":");
                if (!lh[0].equals("0")) {
                    throw new IllegalStateException(c[0] + ": length field does not start at bit 0");
                }
                bits = Integer.parseInt(lh[1]) + 1;
            }
            facts.add(new Fact(c[0], c[1], c[2], bits, Integer.parseInt(c[4]), c[5].equals("-") ? 0
                    : Integer.parseInt(c[5]), c[6], c[7]));
        }
        return facts;
    }

    /** Documented differences: name → kind → "decided-by: reason". */
    public static Map<String, Map<String, String>> disputed() {
        Map<String, Map<String, String>> map = new LinkedHashMap<>();
        for (String line : lines("gen9-disputed.tsv")) {
            String[] c = line.split("\t");
            map.computeIfAbsent(c[0], k -> new LinkedHashMap<>()).put(c[1], c[2] + ": " + c[3]);
        }
        return map;
    }

    private static List<String> lines(String resource) {
        try (InputStream in = Gen9Genxml.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
