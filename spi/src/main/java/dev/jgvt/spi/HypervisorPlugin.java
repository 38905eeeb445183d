package dev.jgvt.spi;

import java.util.Set;
import org.pf4j.ExtensionPoint;

/**
 * The single extension point of the SPI: one per plugin artifact, annotated with PF4J's
 * {@code @Extension}. The core creates it once when the plugin starts, through an injector of its own,
 * so the constructor may take {@code @jakarta.inject.Inject} parameters of SPI types only (today:
 * {@link HostContext}); a public no-argument constructor also works.
 *
 * <p>Threading: every method may be called from any thread; {@link #open} is called at most once per
 * engine at a time and may block (it can create sockets, map libraries, probe devices).
 */
public interface HypervisorPlugin extends ExtensionPoint {
    /** The plugin's id, equal to its descriptor's {@code Plugin-Id} (for example {@code fake}, {@code xen}). */
    String id();

    /** What this plugin can do beyond the mandatory SPI; must not change over the plugin's life. */
    Set<Capability> capabilities();

    /**
     * Whether the platform this plugin needs is present (a device node, a library, a hypervisor), with a
     * one-line reason when it is not. The default says available. Must not block for long or print.
     */
    default Availability availability() {
        return Availability.AVAILABLE;
    }

    /**
     * Opens the hypervisor for use by this engine.
     *
     * @throws GvtException {@link ErrorCode#UNSUPPORTED} when the platform is absent (the message is the
     *     reason, as in {@link #availability()}), {@link ErrorCode#IO_ERROR} when it is present but fails
     */
    Hypervisor open(HostContext context);

    /** Whether a plugin can be used here, and if not, why (one line, no stack trace). */
    record Availability(boolean available, String reason) {
        public static final Availability AVAILABLE = new Availability(true, "available");

        public Availability {
            java.util.Objects.requireNonNull(reason, "reason is null");
        }

        public static Availability unavailable(String reason) {
            return new Availability(false, reason);
        }
    }
}
