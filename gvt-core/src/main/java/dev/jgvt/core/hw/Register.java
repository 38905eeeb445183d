package dev.jgvt.core.hw;

import static java.util.Objects.requireNonNull;

import java.util.EnumSet;
import java.util.Set;

/**
 * One row of the register table: a register, or {@code count} registers {@code stride} bytes apart (a
 * range such as the fence array or the context status buffer).
 *
 * @param name the name intel-gpu-tools uses where it has one; for ranges, the name of element {@code i}
 *     is {@code name + "_" + i}
 * @param offset BAR0 offset of the first register, dword aligned, inside the 2 MiB register file
 * @param count how many registers the row covers (1 for a single register)
 * @param stride bytes between consecutive registers of the row
 * @param attrs attributes
 * @param golden the reset value of every register of the row (a Skylake GT2 snapshot value, or 0)
 * @param handler the name of the handler that gives the row special semantics, or {@code ""} for a
 *     plain virtual register (stores writes after the attribute rules)
 */
public record Register(String name, int offset, int count, int stride, Set<RegisterAttr> attrs, int golden,
        String handler) {
    /** Size of the register file (BAR0 [0, 2 MiB)). */
    public static final int FILE_SIZE = 2 << 20;

    public Register {
        requireNonNull(name, "name is null");
        requireNonNull(handler, "handler is null");
        attrs = attrs.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(attrs));
        if ((offset & 3) != 0 || offset < 0 || count < 1 || (count > 1 && (stride < 4 || (stride & 3) != 0))
                || (long) offset + (long) (count - 1) * stride + 4 > FILE_SIZE) {
            throw new IllegalArgumentException("bad register row " + name + " at 0x" + Integer.toHexString(offset)
                    + " count " + count + " stride " + stride);
        }
    }

    /** The offset of element {@code i} of the row. */
    public int offsetOf(int i) {
        return offset + i * stride;
    }

    /** The name of element {@code i}: the row's name for single registers, {@code name_i} for ranges. */
    public String nameOf(int i) {
        return count == 1 ? name : name + "_" + i;
    }

    /** The compiled attribute word. */
    public int attrBits() {
        int bits = 0;
        for (RegisterAttr attr : attrs) {
            bits |= attr.bit();
        }
        return bits;
    }

    public boolean has(RegisterAttr attr) {
        return attrs.contains(attr);
    }

    /** Whether the row has a special handler (otherwise it is a plain virtual register). */
    public boolean hasHandler() {
        return !handler.isEmpty();
    }
}
