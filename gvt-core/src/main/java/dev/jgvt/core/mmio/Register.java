package dev.jgvt.core.mmio;

import static java.util.Objects.requireNonNull;

import java.util.EnumSet;
import java.util.Set;

/**
 * One row of the register table: a register, or {@code count} registers {@code stride} bytes apart (a
 * range such as the fence array or the context status buffer).
 *
 * @param name the name intel-gpu-tools uses where it has one; for ranges, the name of the first element
 *     is {@code name + "_0"}
 * @param offset BAR0 offset of the first register, dword aligned, inside the 2 MiB register file
 * @param count how many registers the row covers (1 for a single register)
 * @param stride bytes between consecutive registers of the row
 * @param attrs attributes
 * @param behavior which handler serves it
 * @param resetValue the power-on value
 */
public record Register(String name, int offset, int count, int stride, Set<Attr> attrs, Behavior behavior, int resetValue) {
    public Register {
        requireNonNull(name, "name is null");
        requireNonNull(behavior, "behavior is null");
        attrs = attrs.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(attrs));
        if ((offset & 3) != 0 || offset < 0 || count < 1 || (count > 1 && (stride < 4 || (stride & 3) != 0))
                || (long) offset + (long) (count - 1) * stride + 4 > MmioSpace.REGISTER_FILE_SIZE) {
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
        for (Attr attr : attrs) {
            bits |= attr.bit();
        }
        return bits;
    }

    public boolean has(Attr attr) {
        return attrs.contains(attr);
    }
}
