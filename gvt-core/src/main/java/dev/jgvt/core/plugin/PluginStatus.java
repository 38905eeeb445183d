package dev.jgvt.core.plugin;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.Capability;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.HypervisorPlugin.Availability;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * What the engine knows about one plugin file.
 *
 * @param file the plugin jar
 * @param id the descriptor's {@code Plugin-Id}; empty when no descriptor could be read
 * @param version the descriptor's {@code Plugin-Version}; empty when no descriptor could be read
 * @param state where the plugin stands
 * @param capabilities what the started plugin declared; empty unless it started
 * @param availability whether the started plugin's platform is present; empty unless it started
 * @param failure why it is not running; present exactly when {@code state} is {@link State#FAILED}
 */
public record PluginStatus(
        Path file,
        Optional<String> id,
        Optional<String> version,
        State state,
        Set<Capability> capabilities,
        Optional<Availability> availability,
        Optional<Failure> failure) {
    public PluginStatus {
        requireNonNull(file, "file is null");
        requireNonNull(id, "id is null");
        requireNonNull(version, "version is null");
        requireNonNull(state, "state is null");
        capabilities = Set.copyOf(requireNonNull(capabilities, "capabilities is null"));
        requireNonNull(availability, "availability is null");
        requireNonNull(failure, "failure is null");
        if (failure.isPresent() != (state == State.FAILED)) {
            throw new IllegalArgumentException("a failure is present exactly for FAILED, not for " + state);
        }
    }

    static PluginStatus failed(Path file, Optional<String> id, Optional<String> version, ErrorCode code, String reason) {
        return new PluginStatus(file, id, version, State.FAILED, Set.of(), Optional.empty(),
                Optional.of(new Failure(code, file.getFileName() + ": " + reason)));
    }

    /** Where a plugin stands. */
    public enum State {
        /** Loaded, started, its {@code HypervisorPlugin} created: usable. */
        STARTED,
        /** Was started and has been stopped since. */
        STOPPED,
        /** Switched off in the plugins directory's {@code disabled.txt} / {@code enabled.txt}; not loaded. */
        DISABLED,
        /** Refused or broken; the failure says why. Its class loader has been released. */
        FAILED
    }

    /**
     * Why a plugin is not running.
     *
     * @param code the kind of failure ({@link ErrorCode#INCOMPATIBLE_VERSION} for version mismatches)
     * @param message one line naming the file and the reason
     */
    public record Failure(ErrorCode code, String message) {
        public Failure {
            requireNonNull(code, "code is null");
            requireNonNull(message, "message is null");
        }
    }
}
