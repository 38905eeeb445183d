package dev.jgvt.plugin.kvm.vfiouser;

import static java.util.Objects.requireNonNull;

import dev.jgvt.plugin.kvm.iommu.IommuException;
import dev.jgvt.plugin.kvm.os.Errno;
import dev.jgvt.plugin.kvm.os.Libc;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqSet;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.InterruptSink;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The interrupt side of a vfio-user connection: eventfds bound by DEVICE_SET_IRQS per irq index and
 * vector, and an {@link InterruptSink} that signals them. Validation follows the kernel's
 * {@code VFIO_DEVICE_SET_IRQS} rules (index declared, {@code start + count} within the index's vectors,
 * one DATA and one ACTION flag). Failures are {@link IommuException}s carrying the errno for the reply.
 *
 * <p>Supported: EVENTFD|TRIGGER with {@code count} fds (bind) or none (de-assign those vectors);
 * NONE|TRIGGER with {@code count = 0} (disable the index); NONE|TRIGGER and BOOL|TRIGGER with vectors
 * (fire them from the client, a loopback test). MASK/UNMASK (INTx automasking, resample) fail with ENOTSUP.
 *
 * <p>Threading: signals are lock-free and never block; SET_IRQS calls are serialised. Received fds are
 * owned by this object once passed to {@link #apply}.
 */
public final class IrqEventFds implements InterruptSink, AutoCloseable {
    private final Map<Integer, AtomicIntegerArray> bound = new HashMap<>();
    private final AtomicLong dropped = new AtomicLong();
    private final ThreadLocal<MemorySegment> one = ThreadLocal.withInitial(() -> {
        MemorySegment s = Arena.ofAuto().allocate(8);
        s.set(ValueLayout.JAVA_LONG, 0, 1L);
        return s;
    });

    /** Prepares one fd slot per vector of every irq the layout declares. */
    public IrqEventFds(DeviceLayout layout) {
        requireNonNull(layout, "layout is null");
        for (DeviceLayout.Irq irq : layout.irqs()) {
            AtomicIntegerArray fds = new AtomicIntegerArray(irq.count());
            for (int i = 0; i < irq.count(); i++) {
                fds.set(i, -1);
            }
            bound.put(irq.index(), fds);
        }
    }

    private static IommuException fail(int errno, ErrorCode code, String message) {
        return new IommuException(errno, code, message);
    }

    /**
     * Applies one DEVICE_SET_IRQS request with the fds that came with it (taken over: bound or closed).
     *
     * @throws IommuException EINVAL for a request the kernel would refuse, ENOTSUP for MASK/UNMASK
     */
    public synchronized void apply(IrqSet request, int[] fds) {
        requireNonNull(request, "request is null");
        boolean kept = false;
        try {
            String what = "SET_IRQS index " + request.index() + " start " + request.start() + " count " + request.count();
            AtomicIntegerArray vectors = bound.get(request.index());
            if (vectors == null || vectors.length() == 0) {
                throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": no such interrupt index");
            }
            long start = Integer.toUnsignedLong(request.start());
            long count = Integer.toUnsignedLong(request.count());
            int flags = request.flags();
            int data = flags & (IrqSet.DATA_NONE | IrqSet.DATA_BOOL | IrqSet.DATA_EVENTFD);
            int action = flags & (IrqSet.ACTION_MASK | IrqSet.ACTION_UNMASK | IrqSet.ACTION_TRIGGER);
            if ((flags & ~0x3F) != 0 || Integer.bitCount(data) != 1 || Integer.bitCount(action) != 1) {
                throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": flags 0x" + Integer.toHexString(flags));
            }
            if (action != IrqSet.ACTION_TRIGGER) {
                throw fail(Errno.ENOTSUP, ErrorCode.UNSUPPORTED, what + ": MASK/UNMASK are not supported");
            }
            if (data == IrqSet.DATA_NONE && count == 0) {
                if (fds.length != 0) {
                    throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": disable carries no fds");
                }
                for (int i = 0; i < vectors.length(); i++) {
                    closeFd(vectors.getAndSet(i, -1));
                }
                return;
            }
            if (start >= vectors.length() || start + count > vectors.length() || count == 0) {
                throw fail(Errno.EINVAL, ErrorCode.OUT_OF_RANGE, what + ": the index has " + vectors.length() + " vectors");
            }
            switch (data) {
                case IrqSet.DATA_EVENTFD -> {
                    if (fds.length != 0 && fds.length != count) {
                        throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT,
                                what + ": " + fds.length + " fds, need " + count + " (or none to de-assign)");
                    }
                    for (int i = 0; i < count; i++) {
                        closeFd(vectors.getAndSet((int) (start + i), fds.length == 0 ? -1 : fds[i]));
                    }
                    kept = true;
                }
                case IrqSet.DATA_NONE, IrqSet.DATA_BOOL -> {
                    if (fds.length != 0) {
                        throw fail(Errno.EINVAL, ErrorCode.INVALID_ARGUMENT, what + ": a trigger carries no fds");
                    }
                    for (int i = 0; i < count; i++) {
                        if (data == IrqSet.DATA_NONE || request.data()[i] != 0) {
                            signal(vectors, (int) (start + i));
                        }
                    }
                }
                default -> throw new IllegalStateException("unreachable data flag " + data);
            }
        } finally {
            if (!kept) {
                for (int fd : fds) {
                    closeFd(fd);
                }
            }
        }
    }

    private static void closeFd(int fd) {
        if (fd >= 0) {
            Libc.rawClose(fd);
        }
    }

    private void signal(AtomicIntegerArray vectors, int vector) {
        int fd = vectors.get(vector);
        if (fd < 0 || Libc.rawWrite(fd, one.get(), 8) != 8) {
            dropped.incrementAndGet();
        }
    }

    /** Whether {@code vector} of irq {@code index} has an eventfd bound. */
    public boolean isBound(int index, int vector) {
        AtomicIntegerArray v = bound.get(index);
        return v != null && vector >= 0 && vector < v.length() && v.get(vector) >= 0;
    }

    @Override
    public void signalMsi() {
        AtomicIntegerArray v = bound.get(DeviceLayout.IRQ_MSI);
        if (v == null || v.length() == 0) {
            dropped.incrementAndGet();
        } else {
            signal(v, 0);
        }
    }

    @Override
    public void signalIntx() {
        AtomicIntegerArray v = bound.get(DeviceLayout.IRQ_INTX);
        if (v == null || v.length() == 0) {
            dropped.incrementAndGet();
        } else {
            signal(v, 0);
        }
    }

    @Override
    public long droppedSignals() {
        return dropped.get();
    }

    /** Closes every bound eventfd (disconnect). */
    @Override
    public synchronized void close() {
        for (AtomicIntegerArray v : bound.values()) {
            for (int i = 0; i < v.length(); i++) {
                closeFd(v.getAndSet(i, -1));
            }
        }
    }
}
