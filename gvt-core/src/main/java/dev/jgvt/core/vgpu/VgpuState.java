package dev.jgvt.core.vgpu;

/**
 * Lifecycle of a vGPU. {@code CREATED --attach--> ATTACHED --activate--> ACTIVE}, {@code deactivate} back
 * to ATTACHED, {@code detach} back to CREATED, {@code destroy} from CREATED or ATTACHED to DESTROYED.
 * Reset is allowed in every state but DESTROYED.
 */
public enum VgpuState {
    CREATED,
    ATTACHED,
    ACTIVE,
    DESTROYED
}
