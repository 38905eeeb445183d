package dev.jgvt.core.vgpu;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.util.List;

/**
 * A vGPU's lifecycle state and what it is attached to, with the transitions that are allowed: CREATED → ATTACHED
 * (an attachment installed whole) → ACTIVE and back, CREATED or ATTACHED → DESTROYED. Changed under the vGPU's
 * lock only; the attachment is also read without it (volatile) on the paths that forward to it.
 */
final class VgpuLifecycle {
    private final int id;
    private VgpuState state = VgpuState.CREATED;
    private volatile VgpuAttachment attachment = VgpuAttachment.DETACHED;

    VgpuLifecycle(int id) {
        this.id = id;
    }

    VgpuState state() {
        return state;
    }

    VgpuAttachment attachment() {
        return attachment;
    }

    boolean destroyed() {
        return state == VgpuState.DESTROYED;
    }

    /** CREATED → ATTACHED with {@code wired} (the caller checked CREATED before building it). */
    void attached(VgpuAttachment wired) {
        expect("attach", VgpuState.CREATED);
        attachment = wired;
        state = VgpuState.ATTACHED;
    }

    /** ATTACHED → CREATED; the attachment becomes {@link VgpuAttachment#DETACHED}. */
    void detach() {
        expect("detach", VgpuState.ATTACHED);
        attachment = VgpuAttachment.DETACHED;
        state = VgpuState.CREATED;
    }

    void activate() {
        expect("activate", VgpuState.ATTACHED);
        state = VgpuState.ACTIVE;
    }

    void deactivate() {
        expect("deactivate", VgpuState.ACTIVE);
        state = VgpuState.ATTACHED;
    }

    /** CREATED or ATTACHED → DESTROYED. */
    void destroy() {
        expect("destroy", VgpuState.CREATED, VgpuState.ATTACHED);
        attachment = VgpuAttachment.DETACHED;
        state = VgpuState.DESTROYED;
    }

    void expect(String operation, VgpuState... allowed) {
        for (VgpuState s : allowed) {
            if (state == s) {
                return;
            }
        }
        throw new GvtException(ErrorCode.ILLEGAL_STATE, "cannot " + operation + " vGPU " + id + ": it is " + state
                + " (allowed from " + List.of(allowed) + ")");
    }

    void expectAlive() {
        if (state == VgpuState.DESTROYED) {
            throw new GvtException(ErrorCode.ILLEGAL_STATE, "vGPU " + id + " is destroyed");
        }
    }
}
