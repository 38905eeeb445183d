package dev.jgvt.core.engine;

import dev.jgvt.core.gtt.GgttWindow;

/**
 * A vGPU's GGTT window, fixed when the vGPU is created, whose behaviour is bound when the vGPU is attached
 * (the GGTT shadow needs the guest's binding to pin frames). Detached, it reads zero and drops writes: no
 * guest can reach it then, but a VMM probing BAR0 must not fault.
 */
final class SwitchableGgttWindow implements GgttWindow {
    private static final GgttWindow DETACHED = new GgttWindow() {
        @Override
        public long read(long offset, int size) {
            return 0;
        }

        @Override
        public void write(long offset, int size, long value) {}
    };

    private volatile GgttWindow delegate = DETACHED;

    void bind(GgttWindow window) {
        delegate = window;
    }

    void unbind() {
        delegate = DETACHED;
    }

    @Override
    public long read(long offset, int size) {
        return delegate.read(offset, size);
    }

    @Override
    public void write(long offset, int size, long value) {
        delegate.write(offset, size, value);
    }

    @Override
    public long gmaToGpa(long gma) {
        return delegate.gmaToGpa(gma);
    }
}
