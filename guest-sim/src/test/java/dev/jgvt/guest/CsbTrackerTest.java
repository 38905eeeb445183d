package dev.jgvt.guest;

import static dev.jgvt.guest.CsbTracker.ACTIVE_TO_IDLE;
import static dev.jgvt.guest.CsbTracker.CONTEXT_COMPLETE;
import static dev.jgvt.guest.CsbTracker.ELEMENT_SWITCH;
import static dev.jgvt.guest.CsbTracker.IDLE_TO_ACTIVE;
import static dev.jgvt.guest.CsbTracker.LITE_RESTORE;
import static dev.jgvt.guest.CsbTracker.PREEMPTED;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

final class CsbTrackerTest {
    /** A CSB as the device writes it: six entries and the index of the last one written. */
    private final CsbTracker.Entry[] entries = new CsbTracker.Entry[6];
    private int writePointer = CsbTracker.NOTHING_WRITTEN;

    CsbTrackerTest() {
        java.util.Arrays.fill(entries, new CsbTracker.Entry(0, 0));
    }

    private void write(int status, int context) {
        writePointer = writePointer == CsbTracker.NOTHING_WRITTEN ? 0 : (writePointer + 1) % 6;
        entries[writePointer] = new CsbTracker.Entry(status, context);
    }

    private CsbTracker.State consume(CsbTracker csb) {
        return csb.consume(writePointer, entries);
    }

    @Test
    void aSingleContextGoesIdleToActiveThenCompletesToIdle() {
        CsbTracker csb = new CsbTracker("BCS");
        assertThat(consume(csb)).isEqualTo(CsbTracker.State.IDLE);
        csb.submitted(0x101);
        assertThat(consume(csb)).isEqualTo(CsbTracker.State.PENDING);
        write(IDLE_TO_ACTIVE, 0);
        assertThat(consume(csb)).isEqualTo(CsbTracker.State.PENDING);
        write(ACTIVE_TO_IDLE | CONTEXT_COMPLETE, 0x101);
        assertThat(consume(csb)).isEqualTo(CsbTracker.State.COMPLETE);
        assertThat(csb.completions()).isEqualTo(1);
        assertThat(csb.readPointer()).isEqualTo(1);
        assertThat(csb.takeErrors()).isEmpty();
    }

    @Test
    void twoElementsSwitchThenGoIdleAndTheIndexWrapsAfterSixEntries() {
        CsbTracker csb = new CsbTracker("RCS");
        for (int round = 0; round < 5; round++) {
            csb.reset();
            csb.submitted(0x201, 0x202);
            write(IDLE_TO_ACTIVE, 0x201);
            write(ELEMENT_SWITCH | CONTEXT_COMPLETE, 0x201);
            assertThat(consume(csb)).isEqualTo(CsbTracker.State.PENDING);
            write(ACTIVE_TO_IDLE | CONTEXT_COMPLETE, 0x202);
            assertThat(consume(csb)).as("round %d", round).isEqualTo(CsbTracker.State.COMPLETE);
        }
        assertThat(csb.completions()).isEqualTo(10);
        assertThat(csb.readPointer()).isEqualTo((5 * 3 - 1) % 6);
        assertThat(csb.takeErrors()).isEmpty();
    }

    @Test
    void undefinedStatusBitsAreIgnored() {
        CsbTracker csb = new CsbTracker("VCS0");
        csb.submitted(7);
        write(IDLE_TO_ACTIVE | (1 << 6), 0);
        write(ACTIVE_TO_IDLE | CONTEXT_COMPLETE | (1 << 5), 7);
        assertThat(consume(csb)).isEqualTo(CsbTracker.State.COMPLETE);
    }

    @Test
    void aWrongContextIdFailsTheSubmission() {
        CsbTracker csb = new CsbTracker("VECS");
        csb.submitted(0x401);
        write(IDLE_TO_ACTIVE, 0);
        write(ACTIVE_TO_IDLE | CONTEXT_COMPLETE, 0x999);
        assertThat(consume(csb)).isEqualTo(CsbTracker.State.FAILED);
        assertThat(csb.takeErrors()).singleElement().asString()
                .contains("VECS").contains("context 0x999").contains("expected {status 0x18, context 0x401}");
        assertThat(csb.completions()).isZero();
    }

    @Test
    void aMissingIdleToActiveFailsTheSubmission() {
        CsbTracker csb = new CsbTracker("BCS");
        csb.submitted(1);
        write(ACTIVE_TO_IDLE | CONTEXT_COMPLETE, 1);
        assertThat(consume(csb)).isEqualTo(CsbTracker.State.FAILED);
        assertThat(csb.takeErrors()).singleElement().asString().contains("expected {status 0x1}");
    }

    @Test
    void aMissingElementSwitchFailsATwoElementSubmission() {
        CsbTracker csb = new CsbTracker("RCS");
        csb.submitted(1, 2);
        write(IDLE_TO_ACTIVE, 0);
        write(ACTIVE_TO_IDLE | CONTEXT_COMPLETE, 2);
        assertThat(consume(csb)).isEqualTo(CsbTracker.State.FAILED);
        assertThat(csb.takeErrors()).singleElement().asString().contains("expected {status 0x14, context 0x1}");
    }

    @Test
    void preemptionAndLiteRestoreAreNotWhatAnIdleEngineReports() {
        CsbTracker csb = new CsbTracker("RCS");
        csb.submitted(1);
        write(PREEMPTED | LITE_RESTORE, 1);
        assertThat(consume(csb)).isEqualTo(CsbTracker.State.FAILED);
        assertThat(csb.takeErrors()).hasSize(1);
    }

    @Test
    void anEntryNobodyWaitedForIsReportedOnce() {
        CsbTracker csb = new CsbTracker("BCS");
        write(IDLE_TO_ACTIVE, 0);
        write(ACTIVE_TO_IDLE | CONTEXT_COMPLETE, 5);
        assertThat(consume(csb)).isEqualTo(CsbTracker.State.FAILED);
        assertThat(csb.takeErrors()).singleElement().asString().contains("nothing was pending");
    }

    @Test
    void aWritePointerThatIsNoEntryIndexFails() {
        CsbTracker csb = new CsbTracker("BCS");
        csb.submitted(1);
        assertThat(csb.consume(6, entries)).isEqualTo(CsbTracker.State.FAILED);
        assertThat(csb.takeErrors()).singleElement().asString().contains("write pointer 6");
    }

    @Test
    void abandoningATimedOutSubmissionRecordsWhy() {
        CsbTracker csb = new CsbTracker("VECS");
        csb.submitted(1);
        write(IDLE_TO_ACTIVE, 0);
        consume(csb);
        csb.abandon("frame 3 timed out");
        assertThat(csb.state()).isEqualTo(CsbTracker.State.FAILED);
        assertThat(csb.takeErrors()).containsExactly("VECS: frame 3 timed out");
        csb.reset();
        assertThat(csb.state()).isEqualTo(CsbTracker.State.IDLE);
    }
}
