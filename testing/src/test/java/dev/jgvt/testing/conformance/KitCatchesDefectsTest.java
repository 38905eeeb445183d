package dev.jgvt.testing.conformance;

import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.ACCEPT_ANY_TARGET;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.BLOCKING_MSI;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.DETACH_NOT_IDEMPOTENT;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.DUPLICATE_ATTACH_ALLOWED;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.HANG_ON_KEPT_PIN;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.HYPERVISOR_CLOSE_LEAVES_BINDINGS;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.IGNORE_PIN_REFCOUNT;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.IGNORE_READ_ONLY;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.IS_BACKED_THROWS;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.LEAK_FAILED_PIN;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.NOTIFY_BEFORE_COMMIT;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.NO_CONTIGUOUS;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.NO_PIN_LIMIT;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.NO_UNMAP_NOTIFY;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.NO_UNMAP_VERIFY;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.PARTIAL_WRITE_ACROSS_PAGES;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.RAW_ERRORS_AFTER_DETACH;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.REPORT_CORE_WRITES;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.REPORT_UNTRACKED;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.REPORT_WHOLE_WRITE_ONCE;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.SERVICES_WORK_AFTER_DETACH;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.STALE_SEGMENTS;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.UNTRACK_NOT_COUNTED;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.UNTYPED_ERRORS;
import static dev.jgvt.testing.conformance.ReferencePlugin.Defect.WRAP_AS_NOT_MAPPED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kit is not vacuous: each deliberately broken {@link ReferencePlugin} makes the check for the contract
 * it breaks fail with an {@link AssertionError}, while the same check passes on the correct plugin.
 */
final class KitCatchesDefectsTest {
    private static final long SEED = 0x5EED_0001L;

    /** The kit driven by hand (a nested class: Surefire does not run it by itself). */
    static final class Kit extends BasePluginConformanceTest {
        private final Set<ReferencePlugin.Defect> defects;

        Kit(Set<ReferencePlugin.Defect> defects) {
            this.defects = defects;
        }

        @Override
        protected ConformanceHarness createHarness() {
            return new ReferenceHarness(defects);
        }

        @Override
        protected Duration bound() {
            return Duration.ofSeconds(2);
        }
    }

    @FunctionalInterface
    interface Check {
        void run(Kit kit) throws Exception;
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                arguments(NOTIFY_BEFORE_COMMIT, "trackedWriteIsCommittedBeforeNotification",
                        (Check) Kit::trackedWriteIsCommittedBeforeNotification),
                arguments(NOTIFY_BEFORE_COMMIT, "multiFrameGuestWriteIsReportedOncePerTrackedFrame",
                        (Check) Kit::multiFrameGuestWriteIsReportedOncePerTrackedFrame),
                arguments(REPORT_WHOLE_WRITE_ONCE, "multiFrameGuestWriteIsReportedOncePerTrackedFrame",
                        (Check) Kit::multiFrameGuestWriteIsReportedOncePerTrackedFrame),
                arguments(REPORT_CORE_WRITES, "coreWritesAreNotReported", (Check) Kit::coreWritesAreNotReported),
                arguments(REPORT_UNTRACKED, "untrackedFramesAreNotReported", (Check) Kit::untrackedFramesAreNotReported),
                arguments(IGNORE_PIN_REFCOUNT, "pinsAreReferenceCounted", (Check) Kit::pinsAreReferenceCounted),
                arguments(LEAK_FAILED_PIN, "pinOfUnmappedFramesLeavesNothingPinned",
                        (Check) Kit::pinOfUnmappedFramesLeavesNothingPinned),
                arguments(NO_UNMAP_VERIFY, "unmapWithAPinKeptFailsLoudly", (Check) Kit::unmapWithAPinKeptFailsLoudly),
                arguments(HANG_ON_KEPT_PIN, "unmapWithAPinKeptFailsLoudly", (Check) Kit::unmapWithAPinKeptFailsLoudly),
                arguments(NO_UNMAP_NOTIFY, "unmapCallsDmaUnmappedAndRangeIsGone", (Check) Kit::unmapCallsDmaUnmappedAndRangeIsGone),
                arguments(BLOCKING_MSI, "signalMsiFromManyThreadsNeverBlocks", (Check) Kit::signalMsiFromManyThreadsNeverBlocks),
                arguments(UNTYPED_ERRORS, "accessOutsideRamIsNotMapped", (Check) Kit::accessOutsideRamIsNotMapped),
                arguments(UNTYPED_ERRORS, "everyErrorIsTyped", (Check) kit -> kit.everyErrorIsTyped(SEED)),
                arguments(NO_PIN_LIMIT, "pinArgumentsAreChecked", (Check) Kit::pinArgumentsAreChecked),
                arguments(STALE_SEGMENTS, "pinnedSegmentsAreInvalidAfterUnpin", (Check) Kit::pinnedSegmentsAreInvalidAfterUnpin),
                arguments(DETACH_NOT_IDEMPOTENT, "detachIsIdempotentAndServicesFailAfterwards",
                        (Check) Kit::detachIsIdempotentAndServicesFailAfterwards),
                arguments(SERVICES_WORK_AFTER_DETACH, "detachIsIdempotentAndServicesFailAfterwards",
                        (Check) Kit::detachIsIdempotentAndServicesFailAfterwards),
                arguments(ACCEPT_ANY_TARGET, "attachWithUnknownTargetIsInvalidArgument",
                        (Check) Kit::attachWithUnknownTargetIsInvalidArgument),
                arguments(WRAP_AS_NOT_MAPPED, "wrappingAccessIsOutOfRange", (Check) Kit::wrappingAccessIsOutOfRange),
                arguments(WRAP_AS_NOT_MAPPED, "randomAccessesMatchAModel", (Check) kit -> kit.randomAccessesMatchAModel(SEED)),
                arguments(UNTRACK_NOT_COUNTED, "trackingIsReferenceCounted", (Check) Kit::trackingIsReferenceCounted),
                arguments(PARTIAL_WRITE_ACROSS_PAGES, "memoryRoundTripsAcrossPageBoundaries",
                        (Check) Kit::memoryRoundTripsAcrossPageBoundaries),
                arguments(PARTIAL_WRITE_ACROSS_PAGES, "randomAccessesMatchAModel", (Check) kit -> kit.randomAccessesMatchAModel(SEED)),
                arguments(HYPERVISOR_CLOSE_LEAVES_BINDINGS, "closingTheHypervisorDetachesEveryBinding",
                        (Check) Kit::closingTheHypervisorDetachesEveryBinding),
                arguments(DUPLICATE_ATTACH_ALLOWED, "attachTwiceIsAlreadyExists", (Check) Kit::attachTwiceIsAlreadyExists),
                arguments(NO_CONTIGUOUS, "pinOf512PagesIsContiguous", (Check) Kit::pinOf512PagesIsContiguous),
                arguments(IS_BACKED_THROWS, "isBackedAnswersForAnyFrame", (Check) Kit::isBackedAnswersForAnyFrame),
                arguments(IGNORE_READ_ONLY, "readOnlyRamRefusesWrites", (Check) Kit::readOnlyRamRefusesWrites),
                arguments(RAW_ERRORS_AFTER_DETACH, "detachWhileInUseFailsTyped", (Check) Kit::detachWhileInUseFailsTyped),
                arguments(RAW_ERRORS_AFTER_DETACH, "detachIsIdempotentAndServicesFailAfterwards",
                        (Check) Kit::detachIsIdempotentAndServicesFailAfterwards));
    }

    @ParameterizedTest(name = "{0} fails {1}")
    @MethodSource("cases")
    void kitCatchesDefect(ReferencePlugin.Defect defect, String checkName, Check check) {
        assertThat(run(Set.of(), check)).as("%s on the correct plugin", checkName).isNull();
        Throwable failure = run(Set.of(defect), check);
        assertThat(failure).as("%s on a plugin with defect %s", checkName, defect).isInstanceOf(AssertionError.class);
    }

    @Test
    void everyDefectIsCoveredByACase() {
        Set<ReferencePlugin.Defect> covered = cases().map(a -> (ReferencePlugin.Defect) a.get()[0])
                .collect(Collectors.toCollection(() -> EnumSet.noneOf(ReferencePlugin.Defect.class)));
        assertThat(covered).containsExactlyInAnyOrder(ReferencePlugin.Defect.values());
    }

    /** Runs one check in a fresh kit; returns what it threw (null when it passed). */
    private static Throwable run(Set<ReferencePlugin.Defect> defects, Check check) {
        Kit kit = new Kit(defects);
        Throwable failure = null;
        try {
            kit.openHarness();
            check.run(kit);
        } catch (Throwable e) {
            failure = e;
        }
        try {
            kit.closeHarness();
        } catch (Throwable e) {
            if (failure == null && defects.isEmpty()) {
                failure = e;
            }
        }
        return failure;
    }
}
