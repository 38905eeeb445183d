package dev.jgvt.plugin.xen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.plugin.xen.emu.EmulatedDomain;
import dev.jgvt.plugin.xen.emu.EmulatedXen;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.InProcessGuest;
import dev.jgvt.spi.PageTracker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random guest writes over a small RAM with a random set of tracked frames: guest RAM always equals a
 * byte-array model, every report is committed before it is made, and the reports are exactly the tracked
 * parts of the writes, in order.
 */
final class TrackedWritePropertyTest {
    static Stream<Long> seeds() {
        String seed = System.getProperty("jgvt.seed");
        return seed != null ? Stream.of(Long.parseLong(seed)) : Stream.of(0xC0FFEEL, 0xBADC0DEL, 0x5EED5L);
    }

    @ParameterizedTest(name = "seed={0}")
    @MethodSource("seeds")
    void ramMatchesTheModelAndReportsCoverExactlyTheTrackedBytes(long seed) {
        System.out.println("TrackedWritePropertyTest seed " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        int frames = 32;
        try (EmulatedXen xen = new EmulatedXen()) {
            EmulatedDomain domain = xen.createDomain(4, frames * 4096L, 1);
            XenHypervisor hypervisor = new XenHypervisor(xen.backend(0), Optional.of(xen), XenSettings.from(Map.of("backend", "emulated")));
            TestVgpu vgpu = new TestVgpu();
            XenGuestBinding binding = (XenGuestBinding) hypervisor.attach(
                    new AttachRequest("p", new AttachRequest.XenDomain(4)), vgpu);
            vgpu.memory = binding.memory();
            InProcessGuest guest = binding.inProcessGuest().orElseThrow();
            PageTracker tracker = binding.tracker().orElseThrow();
            boolean[] tracked = new boolean[frames];
            byte[] model = new byte[frames * 4096];
            List<String> expected = new ArrayList<>();
            for (int op = 0; op < 200; op++) {
                if (random.nextInt(5) == 0) {
                    int frame = random.nextInt(frames);
                    if (tracked[frame]) {
                        tracker.untrack(frame);
                    } else {
                        tracker.track(frame);
                    }
                    tracked[frame] = !tracked[frame];
                    continue;
                }
                int length = switch (random.nextInt(3)) {
                    case 0 -> 1 << random.nextInt(4);
                    case 1 -> random.nextInt(1, 64);
                    default -> random.nextInt(1, 6000);
                };
                long gpa = random.nextLong(0, model.length - length + 1);
                if (length <= 8 && Long.bitCount(length) == 1) {
                    gpa &= -length; // naturally aligned store
                }
                byte[] data = new byte[length];
                random.nextBytes(data);
                guest.ramWrite(gpa, MemorySegment.ofArray(data));
                System.arraycopy(data, 0, model, (int) gpa, length);
                for (long at = gpa; at < gpa + length; ) {
                    long end = Math.min(gpa + length, (at | 0xFFF) + 1);
                    if (tracked[(int) (at >>> 12)]) {
                        expected.add(at + ":" + Arrays.toString(Arrays.copyOfRange(data, (int) (at - gpa), (int) (end - gpa))));
                    }
                    at = end;
                }
            }
            assertThat(domain.ram().toArray(ValueLayout.JAVA_BYTE)).as("seed %s", seed).isEqualTo(model);
            assertThat(vgpu.trackedWrites()).allMatch(TestVgpu.Tracked::committedBeforeReport);
            assertThat(vgpu.trackedWrites()).extracting(t -> t.gpa() + ":" + Arrays.toString(t.bytes()))
                    .as("seed %s", seed).containsExactlyElementsOf(expected);
            hypervisor.close();
        }
    }
}
