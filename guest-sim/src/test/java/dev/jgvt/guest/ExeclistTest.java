package dev.jgvt.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The guest's execlist port against a scripted device: what it does right, and what it reports when the device does not. */
final class ExeclistTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final Duration SHORT = Duration.ofMillis(200);

    private final ScriptedGpu gpu = new ScriptedGpu();
    private final GuestInterrupts interrupts = new GuestInterrupts(gpu);
    private final GgttMapper ggtt = new GgttMapper(gpu, new GmAllocator(0x4000_0000L, 0x1000_0000L),
            new FrameAllocator(1 << 20, 64L << 20));
    private final PageTables tables = new LegacyPpgtt(gpu, new FrameAllocator(32L << 20, 64L << 20));

    private Execlist port(GuestEngine engine) {
        Execlist port = new Execlist(gpu, interrupts, ggtt, engine);
        port.enable();
        return port;
    }

    private LogicalContext context(GuestEngine engine, int id) {
        return new LogicalContext(gpu, ggtt, engine, id, 1, 4096 - 64, tables);
    }

    @ParameterizedTest
    @EnumSource(GuestEngine.class)
    void submissionsCompleteWithTheirCsbEventsInterruptsAndHeadWriteBack(GuestEngine engine) throws InterruptedException {
        Execlist port = port(engine);
        assertThat(gpu.mmioRead(GuestPlatform.BAR0, engine.register(GuestEngine.RING_MODE), 4)).isEqualTo(0x8000_8000L);
        assertThat(gpu.mmioRead(GuestPlatform.BAR0, engine.register(GuestEngine.HWS_PGA), 4) % 4096).isZero();
        LogicalContext first = context(engine, 0x11);
        LogicalContext second = context(engine, 0x12);
        for (int round = 0; round < 4; round++) {
            first.ring().emit(Commands.storeDataImm(0x1000, false, round));
            second.ring().emit(Commands.noop());
            second.ring().emit(Commands.userInterrupt());
            if (round % 2 == 0) {
                port.submit(engine.userInterrupt(), first);
            } else {
                port.submit(engine.userInterrupt(), first, second);
            }
            assertThat(interrupts.awaitUntil(port::poll, WAIT)).as("round %d", round).isTrue();
            assertThat(port.takeErrors()).isEmpty();
            assertThat(port.succeeded()).isTrue();
            assertThat(first.ring().head()).isEqualTo(first.ring().tail());
        }
        assertThat(first.ring().tail()).as("the ring wrapped").isLessThan(4096 - 64);
        assertThat(port.submissions()).isEqualTo(4);
        assertThat(port.completions()).isEqualTo(6);
        assertThat(port.wedged()).isFalse();
    }

    @Test
    void noCsbEventsIsATimeoutAfterWhichTheEngineIsResetAndWorksAgain() throws InterruptedException {
        gpu.mode = ScriptedGpu.Mode.NO_CSB;
        Execlist port = port(GuestEngine.VECS);
        long hwsPga = gpu.mmioRead(GuestPlatform.BAR0, GuestEngine.VECS.register(GuestEngine.HWS_PGA), 4);
        LogicalContext c = context(GuestEngine.VECS, 1);
        c.ring().emit(Commands.userInterrupt());
        port.submit(GuestEngine.VECS.userInterrupt(), c);
        assertThat(interrupts.awaitUntil(port::poll, SHORT)).isFalse();
        port.timedOut("frame 0");
        assertThat(port.takeErrors()).singleElement().asString()
                .contains("VECS: frame 0 timed out waiting for its CSB events").contains("write pointer 7");
        assertThat(port.succeeded()).isFalse();
        assertThat(port.poll()).isTrue();

        assertThat(gpu.resets).containsExactly(1 << 4);
        assertThat(port.resets()).isEqualTo(1);
        assertThat(port.wedged()).isFalse();
        assertThat(gpu.mmioRead(GuestPlatform.BAR0, GuestEngine.VECS.register(GuestEngine.RING_MODE), 4)).isEqualTo(0x8000_8000L);
        assertThat(gpu.mmioRead(GuestPlatform.BAR0, GuestEngine.VECS.register(GuestEngine.HWS_PGA), 4)).isEqualTo(hwsPga);
        assertThat(c.imageHead()).as("the hung commands are skipped").isEqualTo(c.ring().tail());

        gpu.mode = ScriptedGpu.Mode.CORRECT;
        c.ring().emit(Commands.userInterrupt());
        port.submit(GuestEngine.VECS.userInterrupt(), c);
        assertThat(interrupts.awaitUntil(port::poll, WAIT)).isTrue();
        assertThat(port.takeErrors()).isEmpty();
        assertThat(port.succeeded()).isTrue();
    }

    @Test
    void afterTwoResetsAnEngineThatStillHangsIsGivenUp() throws InterruptedException {
        gpu.mode = ScriptedGpu.Mode.NO_CSB;
        Execlist port = port(GuestEngine.RCS);
        LogicalContext c = context(GuestEngine.RCS, 1);
        for (int i = 0; i < 3; i++) {
            assertThat(port.wedged()).isFalse();
            c.ring().emit(Commands.noop());
            port.submit(0, c);
            assertThat(interrupts.awaitUntil(port::poll, Duration.ofMillis(30))).isFalse();
            port.timedOut("frame " + i);
        }
        assertThat(port.wedged()).isTrue();
        assertThat(gpu.resets).containsExactly(2, 2);
        assertThat(port.takeErrors()).hasSize(4).last().asString().contains("RCS: not reset again after 2 resets");
    }

    @Test
    void csbEventsWithoutTheContextSwitchInterruptAreATimeout() throws InterruptedException {
        gpu.mode = ScriptedGpu.Mode.NO_INTERRUPT;
        Execlist port = port(GuestEngine.VCS0);
        LogicalContext c = context(GuestEngine.VCS0, 1);
        c.ring().emit(Commands.userInterrupt());
        port.submit(GuestEngine.VCS0.userInterrupt(), c);
        assertThat(interrupts.awaitUntil(port::poll, SHORT)).isFalse();
        port.timedOut("frame 2");
        assertThat(port.takeErrors()).singleElement().asString().contains("its context-switch interrupt");
    }

    @Test
    void aNotifyInterruptThatNeverComesIsATimeout() throws InterruptedException {
        gpu.mode = ScriptedGpu.Mode.NO_NOTIFY;
        Execlist port = port(GuestEngine.BCS);
        LogicalContext c = context(GuestEngine.BCS, 1);
        c.ring().emit(Commands.flushDwStore(0x1000, false, 1, true));
        c.ring().emit(Commands.userInterrupt());
        port.submit(port.events(), c);
        assertThat(interrupts.awaitUntil(port::poll, SHORT)).isFalse();
        port.timedOut("frame 1");
        assertThat(port.takeErrors()).singleElement().asString()
                .contains("timed out waiting for its interrupts 0x110000 (saw 0x10000)");
    }

    @Test
    void onlyTheEnginesOwnEventsCanBeExpected() {
        Execlist port = port(GuestEngine.VCS0);
        LogicalContext c = context(GuestEngine.VCS0, 1);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> port.submit(GuestEngine.BCS.userInterrupt(), c))
                .hasMessageContaining("are not VCS0's");
    }

    @Test
    void aWrongContextIdFailsAtOnce() throws InterruptedException {
        gpu.mode = ScriptedGpu.Mode.WRONG_CONTEXT_ID;
        Execlist port = port(GuestEngine.RCS);
        LogicalContext a = context(GuestEngine.RCS, 0x201);
        LogicalContext b = context(GuestEngine.RCS, 0x202);
        a.ring().emit(Commands.noop());
        b.ring().emit(Commands.noop());
        port.submit(0, a, b);
        assertThat(interrupts.awaitUntil(port::poll, WAIT)).isTrue();
        List<String> errors = port.takeErrors();
        assertThat(errors).singleElement().asString().contains("RCS: CSB entry 1").contains("context 0x241")
                .contains("expected {status 0x14, context 0x201}");
        assertThat(gpu.resets).as("the engine is reset").containsExactly(2);
        assertThat(port.wedged()).isFalse();
        assertThat(port.succeeded()).isFalse();
    }

    @Test
    void aMissingIdleToActiveFails() throws InterruptedException {
        gpu.mode = ScriptedGpu.Mode.NO_IDLE_TO_ACTIVE;
        Execlist port = port(GuestEngine.BCS);
        LogicalContext c = context(GuestEngine.BCS, 5);
        c.ring().emit(Commands.noop());
        port.submit(0, c);
        assertThat(interrupts.awaitUntil(port::poll, WAIT)).isTrue();
        assertThat(port.takeErrors()).singleElement().asString().contains("expected {status 0x1}");
    }

    @Test
    void aHeadThatWasNotWrittenBackIsReported() throws InterruptedException {
        gpu.mode = ScriptedGpu.Mode.NO_HEAD_WRITE_BACK;
        Execlist port = port(GuestEngine.BCS);
        LogicalContext c = context(GuestEngine.BCS, 5);
        c.ring().emit(Commands.noop());
        port.submit(0, c);
        assertThat(interrupts.awaitUntil(port::poll, WAIT)).isTrue();
        assertThat(port.succeeded()).isFalse();
        assertThat(port.takeErrors()).singleElement().asString()
                .contains("RING_HEAD is 0xfc0, not the tail 0xfc8");
    }
}
