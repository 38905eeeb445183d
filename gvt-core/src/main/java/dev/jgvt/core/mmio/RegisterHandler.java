package dev.jgvt.core.mmio;

/**
 * Emulation of one kind of register. {@code offset} is the dword-aligned BAR0 offset of the register; values
 * are 32-bit. Handlers run under the vGPU's lock on the trapping thread, must not allocate on the common path
 * and must not throw for anything a guest writes.
 */
public interface RegisterHandler {
    /** The guest reads the register. */
    int read(int offset);

    /**
     * The guest writes {@code value}: the raw dword of the access (for a 1- or 2-byte access, the other bytes
     * are the register's current bytes, or zero in a write-1-to-clear register). Use
     * {@link MmioSpace#merge(int, int)} to apply the row's default attribute rules.
     */
    void write(int offset, int value);

    /** A handler whose reads return the stored register value: only its writes have semantics of their own. */
    interface Stored extends RegisterHandler {
        /** The register file the value is stored in. */
        MmioSpace mmio();

        @Override
        default int read(int offset) {
            return mmio().get(offset);
        }
    }
}
