package dev.jgvt.sim;

import java.util.Arrays;

/** The address space a GPU access is made in: the GGTT, or one PPGTT given by its root pointers. */
public sealed interface GpuAddressSpace {
    /** The global GTT. */
    GpuAddressSpace GGTT = new Ggtt();

    /** The global GTT. */
    record Ggtt() implements GpuAddressSpace {}

    /** A 4-level (48-bit) PPGTT rooted at the PML4 table at device address {@code pml4}. */
    record Ppgtt4(long pml4) implements GpuAddressSpace {}

    /** A legacy 3-level (32-bit) PPGTT: four page-directory pointers (device addresses, 0 = not present). */
    record Ppgtt3(long[] pdps) implements GpuAddressSpace {
        public Ppgtt3 {
            if (pdps.length != 4) {
                throw new IllegalArgumentException("a 3-level PPGTT has 4 PDPs, got " + pdps.length);
            }
            pdps = pdps.clone();
        }

        @Override
        public long[] pdps() {
            return pdps.clone();
        }

        long pdp(int i) {
            return pdps[i];
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Ppgtt3 other && Arrays.equals(pdps, other.pdps);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(pdps);
        }

        @Override
        public String toString() {
            return "Ppgtt3" + Arrays.toString(pdps);
        }
    }
}
