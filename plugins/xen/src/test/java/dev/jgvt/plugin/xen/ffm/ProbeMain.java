package dev.jgvt.plugin.xen.ffm;

import dev.jgvt.plugin.xen.XenPluginProbe;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Run in a child JVM by {@link NativeXenOffXenTest} so that the process's real stderr can be captured.
 * {@code quiet}: the plugin's availability check (prints the reason on stdout). {@code noisy}: the raw
 * {@code xendevicemodel_open(NULL, 0)} a careless binding would make (the control case).
 */
public final class ProbeMain {
    private ProbeMain() {}

    public static void main(String[] args) throws Throwable {
        if (args.length == 1 && args[0].equals("noisy")) {
            NativeXenLibraries libs = NativeXenLibraries.load();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment capture = arena.allocate(libs.captureLayout);
                MemorySegment handle = (MemorySegment) libs.dmOpen.invokeExact(capture, MemorySegment.NULL, 0);
                System.out.println(handle.equals(MemorySegment.NULL) ? "NULL errno " + libs.errno(capture) : "handle");
            }
            return;
        }
        System.out.println(XenPluginProbe.nativeAvailability());
    }
}
