package dev.jgvt.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/** Collects what {@link GpuAddressWalker#visitReachable} reports. */
final class CollectingVisitor implements GpuAddressWalker.ReachVisitor {
    final List<Long> tables = new ArrayList<>();
    final List<Long> leaves = new ArrayList<>();
    final List<Integer> leafSizes = new ArrayList<>();
    final List<GpuFault> faults = new ArrayList<>();
    private BiConsumer<Long, Integer> onLeaf = (a, s) -> {};

    CollectingVisitor onLeaf(BiConsumer<Long, Integer> consumer) {
        this.onLeaf = consumer;
        return this;
    }

    @Override
    public void table(int level, long deviceAddress) {
        tables.add(deviceAddress);
    }

    @Override
    public void leaf(long deviceAddress, int size) {
        leaves.add(deviceAddress);
        leafSizes.add(size);
        onLeaf.accept(deviceAddress, size);
    }

    @Override
    public void fault(GpuFault fault) {
        faults.add(fault);
    }
}
