package dev.jgvt.testing.conformance;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.GuestMemory;
import dev.jgvt.spi.GuestPages;
import dev.jgvt.spi.GvtException;
import dev.jgvt.spi.Hypervisor;
import dev.jgvt.spi.HypervisorPlugin;
import dev.jgvt.spi.InterruptSink;
import dev.jgvt.spi.PageTracker;
import dev.jgvt.spi.PinnedPages;
import dev.jgvt.testing.fixtures.RecordingDeviceModel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The plugin conformance kit: every check of the SPI contracts (ARCHITECTURE §3, the {@code dev.jgvt.spi}
 * Javadoc) that can be made from the core's side of the SPI. Every hypervisor plugin's test suite extends
 * it, as Trino's connectors extend {@code BaseConnectorTest}.
 *
 * <h2>How to extend it (plugin vendors)</h2>
 *
 * <ol>
 *   <li>Add {@code jgvt-testing} as a {@code test} dependency (the plugins' parent pom already does).
 *   <li>Write {@code final class MyPluginConformanceTest extends BasePluginConformanceTest} and implement
 *       {@link #createHarness()}: return a {@link ConformanceHarness} giving your plugin instance, a host
 *       context, and a way to create guests ({@link TestGuest}: the attach target plus guest/VMM-side
 *       actions the SPI does not offer: a guest CPU write through your trap path, a VMM removing guest RAM or
 *       mapping it read-only, stalling and observing interrupt delivery).
 *   <li>Override {@link ConformanceHarness#supports(Behavior)} with an exhaustive switch saying what your
 *       plugin or harness cannot do. Checks needing an unsupported behavior are skipped with its name;
 *       nothing is passed silently.
 *   <li>If a single check cannot apply to your plugin, override its method, annotate it {@code @Disabled}
 *       with the reason, and do not call {@code super}. Do not weaken a check you fail: fix the plugin.
 * </ol>
 *
 * <p>Per check the kit creates a harness, opens the plugin, attaches guests with a fresh
 * {@link RecordingDeviceModel} each, and afterwards detaches everything and closes the hypervisor and
 * the harness. Guests have {@link #RAM_BYTES} of RAM unless a check says otherwise. Checks that must
 * not hang are bounded by {@link #bound()} (a liveness bound, never a performance assertion). Random checks
 * take their seeds from {@link #seeds()}; set {@code -Djgvt.seed=N} to replay one.
 *
 * <p>Every check is a public method, so a test can also run one directly against a harness it builds
 * (call {@link #openHarness()} and {@link #closeHarness()} around it).
 */
public abstract class BasePluginConformanceTest {
    /** Guest RAM of a default test guest: 4 MiB = 1024 frames. */
    protected static final long RAM_BYTES = 4L << 20;
    /** Frames in a default test guest. */
    protected static final long FRAMES = RAM_BYTES / GuestMemory.PAGE_SIZE;
    /** The default liveness bound for checks that must not hang; see {@link #bound()}. */
    protected static final Duration BOUND = Duration.ofSeconds(30);

    private static final int PAGE = GuestMemory.PAGE_SIZE;

    private ConformanceHarness harness;
    private Hypervisor hypervisor;
    private final List<Attached> attached = new ArrayList<>();
    private final List<TestGuest> guests = new ArrayList<>();

    /** A guest attached by the kit: the harness's guest, the plugin's binding and the device double. */
    public record Attached(TestGuest guest, GuestBinding binding, RecordingDeviceModel device, long ramBytes) {
        public Attached {
            requireNonNull(guest, "guest is null");
            requireNonNull(binding, "binding is null");
            requireNonNull(device, "device is null");
        }

        /** The guest physical address {@code offset} bytes into guest RAM. */
        public long gpa(long offset) {
            return guest.ramBase() + offset;
        }

        /** The guest frame {@code index} frames into guest RAM. */
        public long gfn(long index) {
            return (guest.ramBase() >>> 12) + index;
        }

        /** The guest physical address of frame {@code index} of guest RAM. */
        public long frameGpa(long index) {
            return gfn(index) << 12;
        }

        /** The first frame after guest RAM. */
        public long endGfn() {
            return gfn(ramBytes >>> 12);
        }
    }

    /** Creates the harness for one check. Called before every check. */
    protected abstract ConformanceHarness createHarness() throws Exception;

    /** Creates the harness and opens the plugin. Runs before each check. */
    @BeforeEach
    public final void openHarness() throws Exception {
        harness = requireNonNull(createHarness(), "createHarness() returned null");
        hypervisor = requireNonNull(harness.plugin().open(harness.hostContext()), "open() returned null");
    }

    /**
     * Detaches every guest, closes the hypervisor and the harness. Runs after each check. Everything is
     * closed even if a step throws; a throwing close (closes never throw) then fails the check.
     */
    @AfterEach
    public final void closeHarness() {
        List<Throwable> failures = new ArrayList<>();
        for (Attached a : attached) {
            closeStep(failures, "releasing the pins of " + a.binding(), a.device()::releaseAllPins);
            closeStep(failures, "closing binding " + a.binding(), a.binding()::close);
        }
        attached.clear();
        if (hypervisor != null) {
            closeStep(failures, "closing the hypervisor", hypervisor::close);
            hypervisor = null;
        }
        for (TestGuest guest : guests) {
            closeStep(failures, "closing test guest " + guest, guest::close);
        }
        guests.clear();
        if (harness != null) {
            closeStep(failures, "closing the harness", harness::close);
            harness = null;
        }
        if (!failures.isEmpty()) {
            AssertionError error = new AssertionError("cleanup after the check failed: " + failures.getFirst(), failures.getFirst());
            failures.stream().skip(1).forEach(error::addSuppressed);
            throw error;
        }
    }

    private static void closeStep(List<Throwable> failures, String what, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException | Error e) {
            failures.add(new AssertionError(what + " threw " + e, e));
        }
    }

    /**
     * How long a check waits for something that must not hang (a signal, an unmap, concurrent pins) before it
     * fails. A liveness bound, not a performance assertion. Default {@link #BOUND}.
     */
    protected Duration bound() {
        return BOUND;
    }

    /** The harness of the running check. */
    protected final ConformanceHarness harness() {
        return requireNonNull(harness, "no harness: openHarness() was not called");
    }

    /** The hypervisor opened for the running check. */
    protected final Hypervisor hypervisor() {
        return requireNonNull(hypervisor, "no hypervisor: openHarness() was not called");
    }

    /** Skips the running check unless the harness supports every behavior given. */
    protected final void require(Behavior... behaviors) {
        for (Behavior behavior : behaviors) {
            assumeTrue(harness().supports(behavior), "the plugin or its harness does not support " + behavior);
        }
    }

    /** Creates a guest of {@link #RAM_BYTES} and attaches it with a fresh device double. */
    protected final Attached attach(String name) {
        return attach(name, RAM_BYTES);
    }

    /** Creates a guest of {@code ramBytes} and attaches it with a fresh device double. */
    protected final Attached attach(String name, long ramBytes) {
        TestGuest guest = createGuest(name, ramBytes);
        RecordingDeviceModel device = new RecordingDeviceModel();
        GuestBinding binding = hypervisor().attach(new AttachRequest("vgpu-" + name, guest.target()), device);
        assertThat(binding).as("attach of %s returned null", name).isNotNull();
        Attached a = new Attached(guest, binding, device, ramBytes);
        attached.add(a);
        return a;
    }

    /** Creates a guest through the harness (closed after the check). */
    protected final TestGuest createGuest(String name, long ramBytes) {
        TestGuest guest = requireNonNull(harness().createGuest(name, ramBytes), "createGuest returned null");
        guests.add(guest);
        return guest;
    }

    /** Seeds of the random checks: {@code -Djgvt.seed=N} alone, or three fixed seeds. */
    public static Stream<Long> seeds() {
        String seed = System.getProperty("jgvt.seed");
        if (seed != null && !seed.isBlank()) {
            return Stream.of(Long.parseLong(seed.trim()));
        }
        return Stream.of(0x5EED_0001L, 0x5EED_0002L, 0x5EED_0003L);
    }

    /**
     * Asserts that {@code call} throws a {@link GvtException} with {@code code} and returns it.
     *
     * @param what a description of the call, for the failure message
     */
    protected static GvtException expectError(ErrorCode code, String what, ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        if (thrown == null) {
            fail("%s: expected GvtException %s, but nothing was thrown", what, code);
        }
        if (!(thrown instanceof GvtException e)) {
            throw new AssertionError(what + ": expected GvtException " + code + ", but got " + thrown, thrown);
        }
        if (e.code() != code) {
            throw new AssertionError(what + ": expected GvtException " + code + ", but got " + e, e);
        }
        assertThat(e.getMessage()).as("%s: the message of %s", what, e).isNotBlank();
        return e;
    }

    // ---------------------------------------------------------------------------------------------
    // Plugin and hypervisor

    /**
     * The plugin names itself, its capabilities are stable, and its availability has a one-line reason.
     * (Availability itself is not required: a harness may run the plugin against an emulated platform.)
     */
    @Test
    public void pluginDescribesItself() {
        HypervisorPlugin plugin = harness().plugin();
        assertThat(plugin.id()).as("plugin id").matches("[a-z][a-z0-9-]*");
        assertThat(plugin.capabilities()).as("capabilities are stable").isEqualTo(plugin.capabilities());
        HypervisorPlugin.Availability availability = plugin.availability();
        assertThat(availability.reason()).as("availability reason").isNotBlank().doesNotContain("\n");
    }

    /** A target kind the plugin does not understand is INVALID_ARGUMENT, and the hypervisor stays usable. */
    @Test
    public void attachWithUnknownTargetIsInvalidArgument() {
        AttachRequest request = new AttachRequest("vgpu-unknown",
                new AttachRequest.Custom("jgvt-conformance-unknown-kind", Map.of("x", "y")));
        expectError(ErrorCode.INVALID_ARGUMENT, "attach with an unknown target kind",
                () -> hypervisor().attach(request, new RecordingDeviceModel()));
        Attached a = attach("after-unknown");
        assertThat(a.binding().memory().isBacked(a.gfn(0))).isTrue();
    }

    /** A guest that is attached cannot be attached again, nor can a vGPU name be reused. */
    @Test
    public void attachTwiceIsAlreadyExists() {
        Attached a = attach("twice");
        expectError(ErrorCode.ALREADY_EXISTS, "second attach of the same guest",
                () -> hypervisor().attach(new AttachRequest("vgpu-other", a.guest().target()), new RecordingDeviceModel()));
        TestGuest other = createGuest("twice-other", RAM_BYTES);
        expectError(ErrorCode.ALREADY_EXISTS, "attach of another guest under an attached vGPU's name",
                () -> hypervisor().attach(new AttachRequest("vgpu-twice", other.target()), new RecordingDeviceModel()));
        assertThat(a.binding().memory().isBacked(a.gfn(0))).as("the first binding still works").isTrue();
    }

    /** Closing the hypervisor detaches every binding; it is idempotent; attach afterwards is ILLEGAL_STATE. */
    @Test
    public void closingTheHypervisorDetachesEveryBinding() {
        Attached a = attach("close-a");
        Attached b = attach("close-b");
        GuestMemory memoryA = a.binding().memory();
        GuestPages pagesB = b.binding().pages();
        TestGuest third = createGuest("close-c", RAM_BYTES);
        hypervisor().close();
        assertThatCode(hypervisor()::close).as("a second close of the hypervisor").doesNotThrowAnyException();
        expectError(ErrorCode.ILLEGAL_STATE, "read after the hypervisor was closed",
                () -> memoryA.read(a.gpa(0), MemorySegment.ofArray(new byte[8])));
        expectError(ErrorCode.ILLEGAL_STATE, "pin after the hypervisor was closed", () -> pagesB.pin(b.gfn(0), 1, GuestPages.Access.READ));
        expectError(ErrorCode.ILLEGAL_STATE, "attach after the hypervisor was closed",
                () -> hypervisor().attach(new AttachRequest("vgpu-close-c", third.target()), new RecordingDeviceModel()));
        a.binding().close();
        b.binding().close();
    }

    // ---------------------------------------------------------------------------------------------
    // GuestMemory

    /** Reads and writes cross page boundaries and round-trip; the 64-bit helpers work across a boundary. */
    @Test
    public void memoryRoundTripsAcrossPageBoundaries() {
        Attached a = attach("roundtrip");
        GuestMemory memory = a.binding().memory();
        byte[] data = randomBytes(new SplittableRandom(42), 3 * PAGE + 100);
        long gpa = a.gpa(PAGE - 50);
        memory.write(gpa, MemorySegment.ofArray(data));
        byte[] back = new byte[data.length];
        memory.read(gpa, MemorySegment.ofArray(back));
        assertThat(back).as("bytes read back across four frames").isEqualTo(data);

        memory.writeLong(a.gpa(2L * PAGE - 4), 0x1122_3344_5566_7788L);
        assertThat(memory.readLong(a.gpa(2L * PAGE - 4))).isEqualTo(0x1122_3344_5566_7788L);
        byte[] low = new byte[4];
        memory.read(a.gpa(2L * PAGE - 4), MemorySegment.ofArray(low));
        assertThat(low).as("little-endian low half").containsExactly(0x88, 0x77, 0x66, 0x55);

        byte[] last = {(byte) 0xA5};
        memory.write(a.gpa(a.ramBytes() - 1), MemorySegment.ofArray(last));
        byte[] lastBack = new byte[1];
        memory.read(a.gpa(a.ramBytes() - 1), MemorySegment.ofArray(lastBack));
        assertThat(lastBack).as("the last byte of RAM").isEqualTo(last);
    }

    /** Any byte outside RAM is NOT_MAPPED, for reads and writes; a failed write writes nothing. */
    @Test
    public void accessOutsideRamIsNotMapped() {
        Attached a = attach("outside");
        GuestMemory memory = a.binding().memory();
        long end = a.gpa(a.ramBytes());
        byte[] before = {1, 2, 3, 4};
        memory.write(end - 4, MemorySegment.ofArray(before));

        expectError(ErrorCode.NOT_MAPPED, "read straddling the end of RAM",
                () -> memory.read(end - 4, MemorySegment.ofArray(new byte[8])));
        expectError(ErrorCode.NOT_MAPPED, "write straddling the end of RAM",
                () -> memory.write(end - 4, MemorySegment.ofArray(new byte[] {9, 9, 9, 9, 9, 9, 9, 9})));
        byte[] after = new byte[4];
        memory.read(end - 4, MemorySegment.ofArray(after));
        assertThat(after).as("a failed write writes nothing").isEqualTo(before);

        expectError(ErrorCode.NOT_MAPPED, "read at the end of RAM", () -> memory.read(end, MemorySegment.ofArray(new byte[1])));
        expectError(ErrorCode.NOT_MAPPED, "readLong far beyond RAM", () -> memory.readLong(1L << 52));
        expectError(ErrorCode.NOT_MAPPED, "write far beyond RAM", () -> memory.writeLong(Long.MAX_VALUE - 64, 1));
        expectError(ErrorCode.NOT_MAPPED, "read at a negative (upper-half) address",
                () -> memory.read(Long.MIN_VALUE, MemorySegment.ofArray(new byte[8])));
        if (a.gpa(0) > 0) {
            expectError(ErrorCode.NOT_MAPPED, "read straddling the start of RAM",
                    () -> memory.read(a.gpa(0) - 4, MemorySegment.ofArray(new byte[8])));
        }
    }

    /** A range whose last byte wraps past 2^64 is OUT_OF_RANGE. */
    @Test
    public void wrappingAccessIsOutOfRange() {
        Attached a = attach("wrap");
        GuestMemory memory = a.binding().memory();
        expectError(ErrorCode.OUT_OF_RANGE, "read of 8 KiB at 2^64 - 4 KiB",
                () -> memory.read(-PAGE, MemorySegment.ofArray(new byte[2 * PAGE])));
        expectError(ErrorCode.OUT_OF_RANGE, "write of 8 KiB at 2^64 - 4 KiB",
                () -> memory.write(-PAGE, MemorySegment.ofArray(new byte[2 * PAGE])));
        expectError(ErrorCode.OUT_OF_RANGE, "readLong at 2^64 - 4", () -> memory.readLong(-4));
    }

    /** isBacked answers for any gfn without throwing. */
    @Test
    public void isBackedAnswersForAnyFrame() {
        Attached a = attach("backed");
        GuestMemory memory = a.binding().memory();
        assertThat(backed(memory, a.gfn(0))).as("first frame").isTrue();
        assertThat(backed(memory, a.endGfn() - 1)).as("last frame").isTrue();
        assertThat(backed(memory, a.endGfn())).as("first frame after RAM").isFalse();
        for (long gfn : new long[] {-1, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 52}) {
            assertThat(backed(memory, gfn)).as("gfn %x", gfn).isFalse();
        }
        if (a.gfn(0) > 0) {
            assertThat(backed(memory, a.gfn(0) - 1)).as("frame before RAM").isFalse();
        }
    }

    /** Random reads and writes in and around RAM agree with a byte-array model, errors included. */
    @ParameterizedTest(name = "seed={0}")
    @MethodSource("dev.jgvt.testing.conformance.BasePluginConformanceTest#seeds")
    public void randomAccessesMatchAModel(long seed) {
        long ramBytes = 16L * PAGE;
        Attached a = attach("model", ramBytes);
        GuestMemory memory = a.binding().memory();
        byte[] model = new byte[(int) ramBytes];
        memory.write(a.gpa(0), MemorySegment.ofArray(model));
        SplittableRandom random = new SplittableRandom(seed);
        long base = a.gpa(0);
        for (int op = 0; op < 300; op++) {
            int length = random.nextInt(8) == 0 ? 0 : random.nextInt(1, 3 * PAGE);
            long gpa = switch (random.nextInt(6)) {
                case 0 -> -random.nextLong(1, 4L * PAGE); // near 2^64, may wrap
                case 1 -> base + ramBytes - random.nextLong(0, 2L * PAGE); // around the end
                default -> base + random.nextLong(0, ramBytes);
            };
            boolean write = random.nextBoolean();
            byte[] data = randomBytes(random, length);
            ErrorCode expected = expectedError(base, ramBytes, gpa, length);
            String what = "seed " + seed + " op " + op + ": " + (write ? "write" : "read") + " of " + length + " at 0x"
                    + Long.toHexString(gpa);
            if (expected != null) {
                if (write) {
                    expectError(expected, what, () -> memory.write(gpa, MemorySegment.ofArray(data)));
                } else {
                    expectError(expected, what, () -> memory.read(gpa, MemorySegment.ofArray(data)));
                }
            } else if (length == 0) {
                if (write) {
                    memory.write(gpa, MemorySegment.ofArray(data));
                } else {
                    memory.read(gpa, MemorySegment.ofArray(data));
                }
            } else if (write) {
                memory.write(gpa, MemorySegment.ofArray(data));
                System.arraycopy(data, 0, model, (int) (gpa - base), length);
            } else {
                memory.read(gpa, MemorySegment.ofArray(data));
                assertThat(data).as(what).isEqualTo(Arrays.copyOfRange(model, (int) (gpa - base), (int) (gpa - base) + length));
            }
        }
        byte[] all = new byte[(int) ramBytes];
        memory.read(base, MemorySegment.ofArray(all));
        assertThat(all).as("seed %s: guest RAM equals the model at the end", seed).isEqualTo(model);
    }

    private static ErrorCode expectedError(long base, long ramBytes, long gpa, int length) {
        if (length == 0) {
            return null;
        }
        if (Long.compareUnsigned(gpa + length - 1, gpa) < 0) {
            return ErrorCode.OUT_OF_RANGE;
        }
        boolean inside = Long.compareUnsigned(gpa, base) >= 0 && Long.compareUnsigned(gpa + length - 1, base + ramBytes - 1) <= 0;
        return inside ? null : ErrorCode.NOT_MAPPED;
    }

    /** Writes and write pins touching read-only RAM are PERMISSION_DENIED and change nothing; reads work. */
    @Test
    public void readOnlyRamRefusesWrites() {
        require(Behavior.READ_ONLY_RAM);
        Attached a = attach("read-only");
        GuestMemory memory = a.binding().memory();
        memory.writeLong(a.frameGpa(140), 0x1111L);
        memory.writeLong(a.frameGpa(139) + PAGE - 8, 0x2222L);
        a.guest().protectRam(a.binding(), a.frameGpa(140), PAGE);
        expectError(ErrorCode.PERMISSION_DENIED, "write into read-only RAM", () -> memory.writeLong(a.frameGpa(140), 1));
        expectError(ErrorCode.PERMISSION_DENIED, "write running into read-only RAM",
                () -> memory.write(a.frameGpa(139) + PAGE - 8, MemorySegment.ofArray(new byte[16])));
        assertThat(memory.readLong(a.frameGpa(139) + PAGE - 8)).as("a refused write writes nothing").isEqualTo(0x2222L);
        assertThat(memory.readLong(a.frameGpa(140))).isEqualTo(0x1111L);
        expectError(ErrorCode.PERMISSION_DENIED, "pin for WRITE of read-only RAM",
                () -> a.binding().pages().pin(a.gfn(139), 2, GuestPages.Access.WRITE));
        expectError(ErrorCode.PERMISSION_DENIED, "pin for READ_WRITE of read-only RAM",
                () -> a.binding().pages().pin(a.gfn(140), 1, GuestPages.Access.READ_WRITE));
        try (PinnedPages pin = a.binding().pages().pin(a.gfn(140), 1, GuestPages.Access.READ)) {
            assertThat(pin.page(0).get(ValueLayout.JAVA_LONG_UNALIGNED, 0)).isEqualTo(0x1111L);
        }
        memory.writeLong(a.frameGpa(141), 3);
        assertThat(memory.readLong(a.frameGpa(141))).as("RAM after the read-only frame").isEqualTo(3);
    }

    // ---------------------------------------------------------------------------------------------
    // GuestPages and PinnedPages

    /** A pin gives 4 KiB views of the frames' guest memory, in both directions. */
    @Test
    public void pinnedPagesViewGuestMemory() {
        Attached a = attach("pin-view");
        GuestMemory memory = a.binding().memory();
        byte[] data = randomBytes(new SplittableRandom(7), 3 * PAGE);
        memory.write(a.frameGpa(10), MemorySegment.ofArray(data));
        PinnedPages pin = a.binding().pages().pin(a.gfn(10), 3, GuestPages.Access.READ_WRITE);
        assertThat(pin.gfn()).isEqualTo(a.gfn(10));
        assertThat(pin.count()).isEqualTo(3);
        assertThat(pin.isClosed()).isFalse();
        for (int i = 0; i < 3; i++) {
            MemorySegment page = pin.page(i);
            assertThat(page.byteSize()).as("page %s size", i).isEqualTo(PAGE);
            assertThat(page.toArray(ValueLayout.JAVA_BYTE)).as("page %s content", i)
                    .isEqualTo(Arrays.copyOfRange(data, i * PAGE, (i + 1) * PAGE));
        }
        pin.page(1).set(ValueLayout.JAVA_LONG_UNALIGNED, 8, 0x0102_0304_0506_0708L);
        byte[] back = new byte[8];
        memory.read(a.frameGpa(11) + 8, MemorySegment.ofArray(back));
        assertThat(MemorySegment.ofArray(back).get(ValueLayout.JAVA_LONG_UNALIGNED, 0))
                .as("a write through the pinned view is guest memory").isEqualTo(0x0102_0304_0506_0708L);
        pin.contiguous().ifPresent(view -> {
            assertThat(view.byteSize()).isEqualTo(3L * PAGE);
            assertThat(view.get(ValueLayout.JAVA_LONG_UNALIGNED, PAGE + 8)).isEqualTo(0x0102_0304_0506_0708L);
        });
        pin.close();
        assertThat(pin.isClosed()).isTrue();
    }

    /** count < 1 and gfn < 0 are INVALID_ARGUMENT, count > 512 is LIMIT_EXCEEDED, 512 works. */
    @Test
    public void pinArgumentsAreChecked() {
        Attached a = attach("pin-args");
        GuestPages pages = a.binding().pages();
        expectError(ErrorCode.INVALID_ARGUMENT, "pin of 0 pages", () -> pages.pin(a.gfn(0), 0, GuestPages.Access.READ));
        expectError(ErrorCode.INVALID_ARGUMENT, "pin of -1 pages", () -> pages.pin(a.gfn(0), -1, GuestPages.Access.READ));
        expectError(ErrorCode.INVALID_ARGUMENT, "pin at gfn -1", () -> pages.pin(-1, 1, GuestPages.Access.READ));
        expectError(ErrorCode.LIMIT_EXCEEDED, "pin of 513 pages", () -> pages.pin(a.gfn(0), 513, GuestPages.Access.READ));
        try (PinnedPages pin = pages.pin(a.gfn(0), GuestPages.MAX_PAGES_PER_PIN, GuestPages.Access.READ)) {
            assertThat(pin.count()).isEqualTo(512);
            assertThat(pin.page(511).byteSize()).isEqualTo(PAGE);
        }
    }

    /** A pin touching a frame outside RAM is NOT_MAPPED, and nothing of it stays pinned. */
    @Test
    public void pinOfUnmappedFramesLeavesNothingPinned() {
        Attached a = attach("pin-unmapped");
        GuestPages pages = a.binding().pages();
        long last = a.endGfn() - 1;
        expectError(ErrorCode.NOT_MAPPED, "pin running past the end of RAM", () -> pages.pin(last - 1, 4, GuestPages.Access.READ));
        expectError(ErrorCode.NOT_MAPPED, "pin after the end of RAM", () -> pages.pin(a.endGfn(), 1, GuestPages.Access.READ));
        require(Behavior.REMOVE_RAM);
        // if the failed pin left last-1 or last pinned, the plugin's interlock check now reports BUSY
        expectRemoval(a, (last - 1) << 12, 2L * PAGE, "after pins of unmapped frames failed");
        assertThat(a.device().unmaps()).as("dmaUnmapped was called for the removed range").isNotEmpty();
    }

    /** Pins are counted per frame: closing one of two pins of a frame leaves the frame pinned. */
    @Test
    public void pinsAreReferenceCounted() {
        Attached a = attach("pin-refs");
        GuestPages pages = a.binding().pages();
        a.binding().memory().writeLong(a.frameGpa(20), 0xCAFEL);
        PinnedPages first = pages.pin(a.gfn(20), 1, GuestPages.Access.READ);
        PinnedPages second = pages.pin(a.gfn(20), 2, GuestPages.Access.READ);
        first.close();
        assertThat(first.isClosed()).isTrue();
        assertThat(second.isClosed()).isFalse();
        assertThat(second.page(0).get(ValueLayout.JAVA_LONG_UNALIGNED, 0))
                .as("the second pin of the frame is still valid after the first is closed").isEqualTo(0xCAFEL);
        require(Behavior.REMOVE_RAM);
        a.device().holdPin(second);
        a.device().retainPinsOnUnmap(true);
        GvtException busy = removeRamBounded(a, a.frameGpa(20), PAGE);
        assertThat(busy).as("removing a frame still pinned once must fail: the plugin must count pins per frame").isNotNull();
        assertThat(busy.code()).as("error of removing a pinned frame: %s", busy).isEqualTo(ErrorCode.BUSY);
    }

    /** Closing a pin twice is harmless; the frame can be pinned again. */
    @Test
    public void closeOfPinnedPagesIsIdempotent() {
        Attached a = attach("pin-close");
        PinnedPages pin = a.binding().pages().pin(a.gfn(3), 2, GuestPages.Access.WRITE);
        pin.close();
        assertThatCode(pin::close).as("a second close of a pin").doesNotThrowAnyException();
        assertThat(pin.isClosed()).isTrue();
        try (PinnedPages again = a.binding().pages().pin(a.gfn(3), 2, GuestPages.Access.READ)) {
            assertThat(again.page(1).byteSize()).isEqualTo(PAGE);
        }
    }

    /** After unpin, the segments of the pin are invalid, from any thread. */
    @Test
    public void pinnedSegmentsAreInvalidAfterUnpin() throws Exception {
        require(Behavior.REVOKED_PIN_SEGMENTS);
        Attached a = attach("pin-revoke");
        PinnedPages pin = a.binding().pages().pin(a.gfn(30), 2, GuestPages.Access.READ_WRITE);
        MemorySegment page = pin.page(1);
        Optional<MemorySegment> whole = pin.contiguous();
        page.get(ValueLayout.JAVA_BYTE, 0);
        pin.close();
        assertThat(catchThrowable(() -> page.get(ValueLayout.JAVA_BYTE, 0)))
                .as("reading a page view after unpin").isInstanceOf(IllegalStateException.class);
        assertThat(catchThrowable(() -> page.set(ValueLayout.JAVA_BYTE, 0, (byte) 1)))
                .as("writing a page view after unpin").isInstanceOf(IllegalStateException.class);
        whole.ifPresent(view -> assertThat(catchThrowable(() -> view.get(ValueLayout.JAVA_BYTE, 0)))
                .as("the contiguous view after unpin").isInstanceOf(IllegalStateException.class));
        Throwable other = CompletableFuture.supplyAsync(() -> catchThrowable(() -> page.get(ValueLayout.JAVA_BYTE, 0)))
                .get(bound().toMillis(), TimeUnit.MILLISECONDS);
        assertThat(other).as("a page view after unpin, from another thread").isInstanceOf(IllegalStateException.class);
    }

    /** A 512-page pin is one contiguous 2 MiB view of guest memory. */
    @Test
    public void pinOf512PagesIsContiguous() {
        require(Behavior.CONTIGUOUS_2M_PINS);
        Attached a = attach("pin-2m");
        GuestMemory memory = a.binding().memory();
        for (int i = 0; i < 512; i++) {
            memory.writeLong(a.frameGpa(512 + i), 0xF00D_0000L + i);
        }
        try (PinnedPages pin = a.binding().pages().pin(a.gfn(512), 512, GuestPages.Access.READ)) {
            MemorySegment view = pin.contiguous().orElseThrow(() -> new AssertionError("a 512-page pin has no contiguous view"));
            assertThat(view.byteSize()).isEqualTo(2L << 20);
            for (int i = 0; i < 512; i++) {
                assertThat(view.get(ValueLayout.JAVA_LONG_UNALIGNED, (long) i * PAGE)).as("frame %s", i).isEqualTo(0xF00D_0000L + i);
            }
        }
    }

    /** Pins and unpins from many threads balance: afterwards the frames can be removed without BUSY. */
    @Test
    public void concurrentPinsAndUnpinsBalance() throws Exception {
        Attached a = attach("pin-threads");
        GuestPages pages = a.binding().pages();
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                SplittableRandom random = new SplittableRandom(1000 + t);
                futures.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < 200; i++) {
                        int count = random.nextInt(1, 5);
                        try (PinnedPages pin = pages.pin(a.gfn(200 + random.nextInt(16)), count, GuestPages.Access.READ)) {
                            pin.page(count - 1).get(ValueLayout.JAVA_BYTE, 0);
                        }
                    }
                }, pool));
            }
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(bound().toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            pool.shutdownNow();
        }
        require(Behavior.REMOVE_RAM);
        expectRemoval(a, a.frameGpa(200), 20L * PAGE, "after every pin was closed");
    }

    // ---------------------------------------------------------------------------------------------
    // PageTracker

    /** Tracking is counted per frame; untracking an untracked frame is INVALID_ARGUMENT; non-RAM is NOT_MAPPED. */
    @Test
    public void trackingIsReferenceCounted() {
        require(Behavior.PAGE_TRACKING);
        Attached a = attach("track-refs");
        PageTracker tracker = tracker(a);
        long gfn = a.gfn(40);
        assertThat(tracker.isTracked(gfn)).isFalse();
        tracker.track(gfn);
        tracker.track(gfn);
        assertThat(tracker.isTracked(gfn)).isTrue();
        tracker.untrack(gfn);
        assertThat(tracker.isTracked(gfn)).as("tracked twice, untracked once").isTrue();
        tracker.untrack(gfn);
        assertThat(tracker.isTracked(gfn)).isFalse();
        expectError(ErrorCode.INVALID_ARGUMENT, "untrack of a frame no longer tracked", () -> tracker.untrack(gfn));
        expectError(ErrorCode.INVALID_ARGUMENT, "untrack of a frame never tracked", () -> tracker.untrack(a.gfn(41)));
        expectError(ErrorCode.NOT_MAPPED, "track of the frame after RAM", () -> tracker.track(a.endGfn()));
        expectError(ErrorCode.NOT_MAPPED, "track of gfn -1", () -> tracker.track(-1));
        assertThat(tracker.isTracked(a.endGfn())).isFalse();
    }

    /** SPI contract 1: inside trackedWrite, guest memory already holds the written bytes. */
    @Test
    public void trackedWriteIsCommittedBeforeNotification() {
        require(Behavior.PAGE_TRACKING, Behavior.GUEST_WRITES);
        Attached a = attach("track-commit");
        List<byte[]> seen = recordMemoryInsideTrackedWrite(a);
        tracker(a).track(a.gfn(50));
        byte[] data = randomBytes(new SplittableRandom(50), 16);
        long gpa = a.frameGpa(50) + 100;
        a.guest().guestWrite(a.binding(), gpa, MemorySegment.ofArray(data));
        List<RecordingDeviceModel.TrackedWrite> reports = a.device().trackedWrites();
        assertThat(reports).as("reports of one guest write to one tracked frame").hasSize(1);
        assertThat(reports.getFirst().gpa()).isEqualTo(gpa);
        assertThat(reports.getFirst().bytes()).isEqualTo(data);
        assertThat(seen.getFirst()).as("guest memory read inside trackedWrite (contract 1: committed first)").isEqualTo(data);
    }

    /** A guest write spanning frames is reported once per tracked frame, split at frame boundaries. */
    @Test
    public void multiFrameGuestWriteIsReportedOncePerTrackedFrame() {
        require(Behavior.PAGE_TRACKING, Behavior.GUEST_WRITES);
        Attached a = attach("track-split");
        List<byte[]> seen = recordMemoryInsideTrackedWrite(a);
        tracker(a).track(a.gfn(60));
        tracker(a).track(a.gfn(61));
        long gpa = a.frameGpa(60) + PAGE - 96;
        byte[] data = randomBytes(new SplittableRandom(60), 96 + PAGE + 100);
        a.guest().guestWrite(a.binding(), gpa, MemorySegment.ofArray(data));

        List<RecordingDeviceModel.TrackedWrite> reports = new ArrayList<>(a.device().trackedWrites());
        assertThat(reports).as("reports of a write over tracked 60, 61 and untracked 62").hasSize(2);
        List<Integer> order = new ArrayList<>(List.of(0, 1));
        order.sort(Comparator.comparingLong(i -> reports.get(i).gpa()));
        RecordingDeviceModel.TrackedWrite r60 = reports.get(order.get(0));
        RecordingDeviceModel.TrackedWrite r61 = reports.get(order.get(1));
        assertThat(r60.gpa()).isEqualTo(gpa);
        assertThat(r60.bytes()).isEqualTo(Arrays.copyOfRange(data, 0, 96));
        assertThat(r61.gpa()).isEqualTo(a.frameGpa(61));
        assertThat(r61.bytes()).isEqualTo(Arrays.copyOfRange(data, 96, 96 + PAGE));
        assertThat(seen.get(order.get(0))).as("frame 60 committed before its report").isEqualTo(r60.bytes());
        assertThat(seen.get(order.get(1))).as("frame 61 committed before its report").isEqualTo(r61.bytes());
        byte[] all = new byte[data.length];
        a.binding().memory().read(gpa, MemorySegment.ofArray(all));
        assertThat(all).as("the whole write, untracked frame included, is in guest memory").isEqualTo(data);
    }

    /** Guest writes to frames never tracked, or no longer tracked, are not reported. */
    @Test
    public void untrackedFramesAreNotReported() {
        require(Behavior.PAGE_TRACKING, Behavior.GUEST_WRITES);
        Attached a = attach("track-none");
        byte[] data = {1, 2, 3, 4, 5, 6, 7, 8};
        a.guest().guestWrite(a.binding(), a.frameGpa(70), MemorySegment.ofArray(data));
        tracker(a).track(a.gfn(71));
        tracker(a).untrack(a.gfn(71));
        a.guest().guestWrite(a.binding(), a.frameGpa(71), MemorySegment.ofArray(data));
        assertThat(a.device().trackedWrites()).as("reports of writes to untracked frames").isEmpty();
        assertThat(a.binding().memory().readLong(a.frameGpa(71))).isEqualTo(0x0807_0605_0403_0201L);
        tracker(a).track(a.gfn(72));
        a.guest().guestWrite(a.binding(), a.frameGpa(72), MemorySegment.ofArray(data));
        assertThat(a.device().trackedWrites()).as("a write to a tracked frame in the same setup").hasSize(1);
    }

    /** The core's own writes through GuestMemory are not reported back, tracked frame or not. */
    @Test
    public void coreWritesAreNotReported() {
        require(Behavior.PAGE_TRACKING);
        Attached a = attach("track-core");
        tracker(a).track(a.gfn(80));
        a.binding().memory().write(a.frameGpa(80), MemorySegment.ofArray(new byte[] {1, 2, 3}));
        a.binding().memory().writeLong(a.frameGpa(80) + 8, 42);
        a.binding().memory().write(a.frameGpa(79) + PAGE - 4, MemorySegment.ofArray(new byte[8]));
        assertThat(a.device().trackedWrites()).as("reports of the core's own writes").isEmpty();
        assertThat(a.binding().memory().readLong(a.frameGpa(80) + 8)).isEqualTo(42);
        if (harness().supports(Behavior.GUEST_WRITES)) {
            a.guest().guestWrite(a.binding(), a.frameGpa(80), MemorySegment.ofArray(new byte[] {9}));
            assertThat(a.device().trackedWrites()).as("a guest write to the same frame").hasSize(1);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Unmap interlock (contract 2)

    /** Removing RAM calls dmaUnmapped for the range; the device drops its pins there; the range is then gone. */
    @Test
    public void unmapCallsDmaUnmappedAndRangeIsGone() {
        require(Behavior.REMOVE_RAM);
        Attached a = attach("unmap");
        GuestMemory memory = a.binding().memory();
        memory.writeLong(a.frameGpa(120), 0xBEEFL);
        PinnedPages inside = a.device().holdPin(a.binding().pages().pin(a.gfn(100), 2, GuestPages.Access.READ));
        PinnedPages straddling = a.device().holdPin(a.binding().pages().pin(a.gfn(106), 4, GuestPages.Access.READ));
        PinnedPages outside = a.device().holdPin(a.binding().pages().pin(a.gfn(120), 1, GuestPages.Access.READ));
        long start = a.frameGpa(100);
        long length = 8L * PAGE;

        expectRemoval(a, start, length, "while the device drops its pins in dmaUnmapped");

        List<RecordingDeviceModel.Unmap> unmaps = a.device().unmaps();
        assertThat(unmaps).as("dmaUnmapped calls").isNotEmpty();
        for (long gpa = start; gpa < start + length; gpa += PAGE) {
            long g = gpa;
            assertThat(unmaps.stream().anyMatch(u -> u.iova() <= g && g + PAGE <= u.iova() + u.length()))
                    .as("dmaUnmapped covered gpa 0x%x; calls: %s", g, unmaps).isTrue();
        }
        assertThat(inside.isClosed()).isTrue();
        assertThat(straddling.isClosed()).isTrue();
        assertThat(outside.isClosed()).as("a pin outside the range").isFalse();
        assertThat(outside.page(0).get(ValueLayout.JAVA_LONG_UNALIGNED, 0)).isEqualTo(0xBEEFL);

        expectError(ErrorCode.NOT_MAPPED, "read inside removed RAM", () -> memory.readLong(start + 16));
        expectError(ErrorCode.NOT_MAPPED, "read running into removed RAM",
                () -> memory.read(start - 4, MemorySegment.ofArray(new byte[8])));
        expectError(ErrorCode.NOT_MAPPED, "write inside removed RAM", () -> memory.writeLong(start + length - 8, 1));
        expectError(ErrorCode.NOT_MAPPED, "pin inside removed RAM",
                () -> a.binding().pages().pin(a.gfn(104), 1, GuestPages.Access.READ));
        expectError(ErrorCode.NOT_MAPPED, "pin running into removed RAM",
                () -> a.binding().pages().pin(a.gfn(98), 4, GuestPages.Access.READ));
        assertThat(backed(memory, a.gfn(100))).isFalse();
        assertThat(backed(memory, a.gfn(107))).isFalse();
        assertThat(backed(memory, a.gfn(99))).isTrue();
        assertThat(backed(memory, a.gfn(108))).isTrue();
        if (harness().supports(Behavior.PAGE_TRACKING)) {
            expectError(ErrorCode.NOT_MAPPED, "track inside removed RAM", () -> tracker(a).track(a.gfn(101)));
        }
        memory.writeLong(a.frameGpa(108), 7);
        assertThat(memory.readLong(a.frameGpa(108))).as("RAM after the removed range").isEqualTo(7);
    }

    /** A device that keeps a pin across dmaUnmapped makes the removal fail loudly (BUSY), never hang. */
    @Test
    public void unmapWithAPinKeptFailsLoudly() {
        require(Behavior.REMOVE_RAM);
        Attached a = attach("unmap-kept");
        long gfn = a.gfn(130);
        a.device().holdPin(a.binding().pages().pin(gfn, 1, GuestPages.Access.READ));
        a.device().retainPinsOnUnmap(true);
        GvtException error = removeRamBounded(a, a.frameGpa(128), 4L * PAGE);
        assertThat(error).as("removing RAM while the device keeps a pin in it must fail").isNotNull();
        assertThat(error.code()).as("error of the interlock: %s", error).isEqualTo(ErrorCode.BUSY);
        assertThat(error.getMessage()).as("the message names the frame left pinned")
                .containsAnyOf("0x" + Long.toHexString(gfn), Long.toString(gfn));
        assertThat(a.device().unmaps()).as("dmaUnmapped was called before the check").isNotEmpty();
    }

    // ---------------------------------------------------------------------------------------------
    // InterruptSink (contract 3)

    /** signalMsi from many threads at once returns even while the interrupt consumer is stalled. */
    @Test
    public void signalMsiFromManyThreadsNeverBlocks() throws Exception {
        Attached a = attach("msi");
        InterruptSink sink = a.binding().interrupts();
        boolean stall = harness().supports(Behavior.STALL_INTERRUPTS);
        int threads = 8;
        int signals = 500;
        AutoCloseable stalled = stall ? a.guest().stallInterrupts(a.binding()) : () -> {};
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "conformance-msi");
            t.setDaemon(true);
            return t;
        });
        try {
            CountDownLatch start = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(threads);
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int t = 0; t < threads; t++) {
                pool.execute(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < signals; i++) {
                            sink.signalMsi();
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    } finally {
                        done.countDown();
                    }
                });
            }
            start.countDown();
            assertThat(done.await(bound().toMillis(), TimeUnit.MILLISECONDS))
                    .as("%s threads x %s signalMsi calls returned while the consumer was %s", threads, signals,
                            stall ? "stalled" : "running")
                    .isTrue();
            assertThat(failures).as("exceptions from signalMsi").isEmpty();
        } finally {
            stalled.close();
            pool.shutdownNow();
        }
        if (stall) {
            assertThat(a.guest().awaitInterrupts(a.binding(), 1, bound()))
                    .as("interrupts observed by the guest once the consumer resumed").isPositive();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Detach

    /** Detach is idempotent; afterwards every service fails with ILLEGAL_STATE and every pin is released. */
    @Test
    public void detachIsIdempotentAndServicesFailAfterwards() {
        Attached a = attach("detach");
        GuestBinding binding = a.binding();
        GuestMemory memory = binding.memory();
        GuestPages pages = binding.pages();
        InterruptSink interrupts = binding.interrupts();
        Optional<PageTracker> tracker = binding.tracker();
        tracker.ifPresent(t -> t.track(a.gfn(6)));
        PinnedPages pin = pages.pin(a.gfn(5), 2, GuestPages.Access.READ);
        MemorySegment page = pin.page(0);

        binding.close();
        assertThatCode(binding::close).as("a second close of the binding (close is idempotent)").doesNotThrowAnyException();

        expectError(ErrorCode.ILLEGAL_STATE, "read after detach", () -> memory.read(a.gpa(0), MemorySegment.ofArray(new byte[8])));
        expectError(ErrorCode.ILLEGAL_STATE, "write after detach", () -> memory.write(a.gpa(0), MemorySegment.ofArray(new byte[8])));
        expectError(ErrorCode.ILLEGAL_STATE, "readLong after detach", () -> memory.readLong(a.gpa(0)));
        expectError(ErrorCode.ILLEGAL_STATE, "pin after detach", () -> pages.pin(a.gfn(0), 1, GuestPages.Access.READ));
        expectError(ErrorCode.ILLEGAL_STATE, "signalMsi after detach", interrupts::signalMsi);
        tracker.ifPresent(t -> {
            expectError(ErrorCode.ILLEGAL_STATE, "track after detach", () -> t.track(a.gfn(7)));
            expectError(ErrorCode.ILLEGAL_STATE, "untrack after detach", () -> t.untrack(a.gfn(6)));
        });
        expectError(ErrorCode.ILLEGAL_STATE, "memory() after detach", binding::memory);
        expectError(ErrorCode.ILLEGAL_STATE, "pages() after detach", binding::pages);
        expectError(ErrorCode.ILLEGAL_STATE, "interrupts() after detach", binding::interrupts);
        expectError(ErrorCode.ILLEGAL_STATE, "tracker() after detach", binding::tracker);
        assertThat(backed(memory, a.gfn(0))).as("isBacked after detach (never throws)").isFalse();
        assertThat(pin.isClosed()).as("a pin held at detach is released").isTrue();
        assertThatCode(pin::close).as("closing a pin released by detach").doesNotThrowAnyException();
        if (harness().supports(Behavior.REVOKED_PIN_SEGMENTS)) {
            assertThat(catchThrowable(() -> page.get(ValueLayout.JAVA_BYTE, 0)))
                    .as("a page view of a pin released by detach").isInstanceOf(IllegalStateException.class);
        }
    }

    /**
     * Detach while other threads read, write, pin and signal: each stops with ILLEGAL_STATE and then sees
     * ILLEGAL_STATE from every kind of call (a view of a pin revoked by the detach may throw
     * IllegalStateException); nothing else is thrown, nothing hangs.
     */
    @Test
    public void detachWhileInUseFailsTyped() throws Exception {
        Attached a = attach("detach-race");
        GuestMemory memory = a.binding().memory();
        GuestPages pages = a.binding().pages();
        InterruptSink interrupts = a.binding().interrupts();
        int threads = 4;
        CountDownLatch working = new CountDownLatch(threads);
        List<Throwable> wrong = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers.add(Thread.ofPlatform().daemon().name("conformance-detach-" + t).start(() -> {
                byte[] buffer = new byte[3 * PAGE];
                long i = 0;
                try {
                    while (true) {
                        if (i == 8) {
                            working.countDown();
                        }
                        long offset = ((i * 7919 + id * 131) % (FRAMES - 4)) * PAGE + 100;
                        useServices(a, memory, pages, interrupts, (int) (i % 4), offset, buffer);
                        i++;
                    }
                } catch (GvtException e) {
                    if (e.code() != ErrorCode.ILLEGAL_STATE) {
                        wrong.add(e);
                    }
                } catch (Throwable e) {
                    wrong.add(e);
                } finally {
                    if (i < 8) {
                        working.countDown();
                    }
                }
                for (int kind = 0; kind < 4; kind++) {
                    int k = kind;
                    Throwable after = catchThrowable(() -> useServices(a, memory, pages, interrupts, k, PAGE, buffer));
                    if (!(after instanceof GvtException e && e.code() == ErrorCode.ILLEGAL_STATE)) {
                        wrong.add(new AssertionError("call kind " + k + " after detach: expected ILLEGAL_STATE, got " + after, after));
                    }
                }
            }));
        }
        assertThat(working.await(bound().toMillis(), TimeUnit.MILLISECONDS)).as("workers started").isTrue();
        a.binding().close();
        for (Thread worker : workers) {
            assertThat(worker.join(bound())).as("%s stopped after detach", worker.getName()).isTrue();
        }
        assertThat(wrong).as("errors other than ILLEGAL_STATE while and after detaching").isEmpty();
    }

    private static void useServices(Attached a, GuestMemory memory, GuestPages pages, InterruptSink interrupts, int kind,
            long offset, byte[] buffer) {
        switch (kind) {
            case 0 -> memory.read(a.gpa(offset), MemorySegment.ofArray(buffer));
            case 1 -> memory.write(a.gpa(offset), MemorySegment.ofArray(buffer));
            case 2 -> {
                try (PinnedPages pin = pages.pin(a.gfn(offset / PAGE), 2, GuestPages.Access.READ)) {
                    try {
                        pin.page(1).get(ValueLayout.JAVA_BYTE, 0);
                    } catch (IllegalStateException revoked) {
                        // the detach revoked this pin between pin and access: allowed
                    }
                }
            }
            default -> interrupts.signalMsi();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Errors are typed (contract 4)

    /** Random arguments to every service: whatever fails, fails with a GvtException. */
    @ParameterizedTest(name = "seed={0}")
    @MethodSource("dev.jgvt.testing.conformance.BasePluginConformanceTest#seeds")
    public void everyErrorIsTyped(long seed) {
        Attached a = attach("typed");
        SplittableRandom random = new SplittableRandom(seed);
        GuestMemory memory = a.binding().memory();
        GuestPages pages = a.binding().pages();
        Optional<PageTracker> tracker = a.binding().tracker();
        List<PinnedPages> pins = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(3L * PAGE);
            for (int op = 0; op < 400; op++) {
                long address = interestingLong(random, a);
                int small = (int) interestingLong(random, a);
                String what = "seed " + seed + " op " + op;
                Throwable thrown = catchThrowable(() -> {
                    switch (random.nextInt(7)) {
                        case 0 -> memory.read(address, buffer.asSlice(0, Math.floorMod(small, 3 * PAGE)));
                        case 1 -> memory.write(address, buffer.asSlice(0, Math.floorMod(small, 3 * PAGE)));
                        case 2 -> backed(memory, address);
                        case 3 -> pins.add(pages.pin(address, small, GuestPages.Access.values()[random.nextInt(3)]));
                        case 4 -> tracker.ifPresent(t -> t.track(address));
                        case 5 -> tracker.ifPresent(t -> t.untrack(address));
                        default -> tracker.ifPresent(t -> t.isTracked(address));
                    }
                });
                if (thrown != null && !(thrown instanceof GvtException)) {
                    throw new AssertionError(what + ": an SPI call threw " + thrown + " instead of a GvtException", thrown);
                }
            }
        } finally {
            pins.forEach(PinnedPages::close);
        }
    }

    private static long interestingLong(SplittableRandom random, Attached a) {
        return switch (random.nextInt(8)) {
            case 0 -> random.nextLong();
            case 1 -> -random.nextInt(1, 5000);
            case 2 -> a.gfn(random.nextLong(0, FRAMES + 8));
            case 3 -> a.gpa(random.nextLong(0, RAM_BYTES + 8L * PAGE));
            case 4 -> LongStream.of(0, 1, 511, 512, 513, Integer.MAX_VALUE, Long.MAX_VALUE, Long.MIN_VALUE)
                    .skip(random.nextInt(8)).findFirst().orElseThrow();
            default -> random.nextInt(-2, 600);
        };
    }

    // ---------------------------------------------------------------------------------------------
    // helpers

    /** Runs removeRam on another thread, bounded; returns the GvtException it threw, or null if it completed. */
    protected final GvtException removeRamBounded(Attached a, long gpa, long length) {
        CompletableFuture<Void> removal = new CompletableFuture<>();
        // a thread of its own: a hanging plugin must not occupy a shared pool
        Thread.ofPlatform().daemon().name("conformance-remove-ram").start(() -> {
            try {
                a.guest().removeRam(a.binding(), gpa, length);
                removal.complete(null);
            } catch (Throwable e) {
                removal.completeExceptionally(e);
            }
        });
        try {
            removal.get(bound().toMillis(), TimeUnit.MILLISECONDS);
            return null;
        } catch (TimeoutException e) {
            throw new AssertionError("removing guest RAM [0x" + Long.toHexString(gpa) + ", +0x" + Long.toHexString(length)
                    + ") did not return within " + bound() + ": the plugin hangs instead of failing", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GvtException g) {
                return g;
            }
            throw new AssertionError("removing guest RAM threw " + e.getCause() + " instead of a GvtException", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Removes guest RAM (bounded) and fails the check if the plugin refused. */
    protected final void expectRemoval(Attached a, long gpa, long length, String when) {
        GvtException refused = removeRamBounded(a, gpa, length);
        if (refused != null) {
            throw new AssertionError("removing guest RAM [0x" + Long.toHexString(gpa) + ", +0x" + Long.toHexString(length) + ") "
                    + when + " must succeed, but the plugin refused: " + refused, refused);
        }
    }

    /** isBacked, failing the check if it throws (it never throws for any gfn). */
    protected static boolean backed(GuestMemory memory, long gfn) {
        try {
            return memory.isBacked(gfn);
        } catch (RuntimeException e) {
            throw new AssertionError("isBacked(0x" + Long.toHexString(gfn) + ") threw " + e + "; it never throws", e);
        }
    }

    private static PageTracker tracker(Attached a) {
        return a.binding().tracker().orElseThrow(() -> new AssertionError(
                "the plugin declares PAGE_TRACKING but the binding has no tracker"));
    }

    /** Makes the device read guest memory at each report's range inside trackedWrite; returns what it saw. */
    private static List<byte[]> recordMemoryInsideTrackedWrite(Attached a) {
        List<byte[]> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        GuestMemory memory = a.binding().memory();
        a.device().onTrackedWrite((gpa, bytes) -> {
            byte[] now = new byte[(int) bytes.byteSize()];
            memory.read(gpa, MemorySegment.ofArray(now));
            seen.add(now);
        });
        return seen;
    }

    private static byte[] randomBytes(SplittableRandom random, int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) random.nextInt(256);
        }
        return bytes;
    }
}
