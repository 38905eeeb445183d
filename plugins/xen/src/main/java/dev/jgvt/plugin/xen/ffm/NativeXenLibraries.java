package dev.jgvt.plugin.xen.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Optional;

/**
 * Downcall handles into libxendevicemodel.so.1, libxenforeignmemory.so.1, libxenevtchn.so.1 and
 * libxentoollog.so.1 (loaded by soname: the unversioned links only come with the -dev package), plus libc's
 * {@code poll} and {@code stderr}. Every Xen call captures {@code errno}; the capture segment is the first
 * argument of each handle. Built once per process; {@link #load()} says why when it cannot be.
 */
final class NativeXenLibraries {
    static final List<String> SONAMES = List.of(
            "libxentoollog.so.1", "libxendevicemodel.so.1", "libxenforeignmemory.so.1", "libxenevtchn.so.1");
    /** {@code xentoollog_level}: only CRITICAL messages would print, and the libraries log errors at ERROR. */
    static final int XTL_CRITICAL = 9;

    private static volatile Object cached;

    final StructLayout captureLayout = Linker.Option.captureStateLayout();
    final VarHandle errnoHandle = captureLayout.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    final MethodHandle xtlCreateStdio;
    final MethodHandle xtlDestroy;
    final MemorySegment stderrFile;

    final MethodHandle dmOpen;
    final MethodHandle dmClose;
    final MethodHandle dmCreateServer;
    final MethodHandle dmGetInfo;
    final MethodHandle dmMapIoRange;
    final MethodHandle dmUnmapIoRange;
    final MethodHandle dmMapPcidev;
    final MethodHandle dmUnmapPcidev;
    final MethodHandle dmMapMemType;
    final MethodHandle dmSetState;
    final MethodHandle dmDestroyServer;
    final MethodHandle dmSetMemType;
    final MethodHandle dmInjectMsi;
    final MethodHandle dmNrVcpus;

    final MethodHandle fmOpen;
    final MethodHandle fmClose;
    final MethodHandle fmMap;
    final MethodHandle fmUnmap;
    final MethodHandle fmMapResource;
    final MethodHandle fmUnmapResource;

    final MethodHandle evOpen;
    final MethodHandle evClose;
    final MethodHandle evFd;
    final MethodHandle evNotify;
    final MethodHandle evBindInterdomain;
    final MethodHandle evUnbind;
    final MethodHandle evPending;
    final MethodHandle evUnmask;

    final MethodHandle poll;

    /** Why the libraries could not be bound: one line. */
    static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(String reason) {
            super(reason, null, false, false);
        }
    }

    private NativeXenLibraries(List<String> sonames) throws Unavailable {
        Linker linker = Linker.nativeLinker();
        Arena arena = Arena.global();
        SymbolLookup[] libs = new SymbolLookup[sonames.size()];
        for (int i = 0; i < libs.length; i++) {
            try {
                libs[i] = SymbolLookup.libraryLookup(sonames.get(i), arena);
            } catch (IllegalArgumentException e) {
                throw new Unavailable("Xen libraries not installed (cannot open " + sonames.get(i) + ")");
            }
        }
        Linker.Option errno = Linker.Option.captureCallState("errno");
        Binder tl = new Binder(linker, libs[0], null);
        Binder dm = new Binder(linker, libs[1], errno);
        Binder fm = new Binder(linker, libs[2], errno);
        Binder ev = new Binder(linker, libs[3], errno);
        Binder libc = new Binder(linker, linker.defaultLookup(), errno);

        xtlCreateStdio = tl.bind("xtl_createlogger_stdiostream", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT));
        xtlDestroy = tl.bind("xtl_logger_destroy", FunctionDescriptor.ofVoid(ADDRESS));
        MemorySegment stderrVariable = linker.defaultLookup().find("stderr")
                .orElseThrow(() -> new Unavailable("libc exports no stderr symbol"));
        stderrFile = stderrVariable.reinterpret(ADDRESS.byteSize()).get(ADDRESS, 0);

        dmOpen = dm.bind("xendevicemodel_open", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        dmClose = dm.bind("xendevicemodel_close", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        dmCreateServer = dm.bind("xendevicemodel_create_ioreq_server",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT, JAVA_INT, ADDRESS));
        dmGetInfo = dm.bind("xendevicemodel_get_ioreq_server_info",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT, JAVA_SHORT, ADDRESS, ADDRESS, ADDRESS));
        FunctionDescriptor range = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT, JAVA_SHORT, JAVA_INT, JAVA_LONG, JAVA_LONG);
        dmMapIoRange = dm.bind("xendevicemodel_map_io_range_to_ioreq_server", range);
        dmUnmapIoRange = dm.bind("xendevicemodel_unmap_io_range_from_ioreq_server", range);
        FunctionDescriptor pcidev = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, JAVA_BYTE,
                JAVA_BYTE, JAVA_BYTE);
        dmMapPcidev = dm.bind("xendevicemodel_map_pcidev_to_ioreq_server", pcidev);
        dmUnmapPcidev = dm.bind("xendevicemodel_unmap_pcidev_from_ioreq_server", pcidev);
        dmMapMemType = dm.bind("xendevicemodel_map_mem_type_to_ioreq_server",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, JAVA_INT));
        dmSetState = dm.bind("xendevicemodel_set_ioreq_server_state",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT, JAVA_SHORT, JAVA_INT));
        dmDestroyServer = dm.bind("xendevicemodel_destroy_ioreq_server",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT, JAVA_SHORT));
        dmSetMemType = dm.bind("xendevicemodel_set_mem_type",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT, JAVA_INT, JAVA_LONG, JAVA_INT));
        dmInjectMsi = dm.bind("xendevicemodel_inject_msi",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT, JAVA_LONG, JAVA_INT));
        dmNrVcpus = dm.bind("xendevicemodel_nr_vcpus", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT, ADDRESS));

        fmOpen = fm.bind("xenforeignmemory_open", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        fmClose = fm.bind("xenforeignmemory_close", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        fmMap = fm.bind("xenforeignmemory_map",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
        fmUnmap = fm.bind("xenforeignmemory_unmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        fmMapResource = fm.bind("xenforeignmemory_map_resource", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_SHORT,
                JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT));
        fmUnmapResource = fm.bind("xenforeignmemory_unmap_resource", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));

        evOpen = ev.bind("xenevtchn_open", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        evClose = ev.bind("xenevtchn_close", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        evFd = ev.bind("xenevtchn_fd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        evNotify = ev.bind("xenevtchn_notify", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        evBindInterdomain = ev.bind("xenevtchn_bind_interdomain", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        evUnbind = ev.bind("xenevtchn_unbind", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        evPending = ev.bind("xenevtchn_pending", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        evUnmask = ev.bind("xenevtchn_unmask", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));

        poll = libc.bind("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }

    /** The process-wide binding, or why there is none. Never prints. */
    static NativeXenLibraries load() throws Unavailable {
        Object value = cached;
        if (value == null) {
            synchronized (NativeXenLibraries.class) {
                value = cached;
                if (value == null) {
                    try {
                        value = new NativeXenLibraries(SONAMES);
                    } catch (Unavailable e) {
                        value = e;
                    }
                    cached = value;
                }
            }
        }
        if (value instanceof Unavailable e) {
            throw new Unavailable(e.getMessage());
        }
        return (NativeXenLibraries) value;
    }

    /** Loads from other sonames, uncached (tests of the missing-library path). */
    static NativeXenLibraries load(List<String> sonames) throws Unavailable {
        return new NativeXenLibraries(sonames);
    }

    int errno(MemorySegment capture) {
        return (int) errnoHandle.get(capture, 0L);
    }

    private static final class Binder {
        private final Linker linker;
        private final SymbolLookup lookup;
        private final Linker.Option[] options;

        Binder(Linker linker, SymbolLookup lookup, Linker.Option option) {
            this.linker = linker;
            this.lookup = lookup;
            this.options = option == null ? new Linker.Option[0] : new Linker.Option[] {option};
        }

        MethodHandle bind(String name, FunctionDescriptor descriptor) throws Unavailable {
            Optional<MemorySegment> symbol = lookup.find(name);
            if (symbol.isEmpty()) {
                throw new Unavailable("Xen libraries too old (no symbol " + name + ")");
            }
            return linker.downcallHandle(symbol.get(), descriptor, options);
        }
    }
}
