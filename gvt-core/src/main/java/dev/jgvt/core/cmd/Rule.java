package dev.jgvt.core.cmd;

/** The scanner rule a rejected command broke; {@link #id()} is the stable name printed by {@code gvt scan}. */
public enum Rule {
    UNKNOWN_COMMAND("unknown-command", "no command with this header exists on the engine"),
    WRONG_ENGINE("wrong-engine", "the command belongs to another engine class"),
    FORBIDDEN_COMMAND("forbidden-command", "the command is never allowed in a guest workload"),
    BAD_LENGTH("bad-length", "the command's length field has a value the command cannot have"),
    PAST_BUFFER_END("past-buffer-end", "the command runs past the end of its buffer"),
    GM_OUT_OF_RANGE("gm-out-of-range", "a graphics address lies outside the vGPU's aperture and hidden ranges"),
    GM_UNMAPPED("gm-unmapped", "a graphics address has no valid GTT entry"),
    REGISTER_NOT_ALLOWED("register-not-allowed", "the register may not be accessed from a command stream"),
    HWSP_INDEX_OUT_OF_PAGE("hwsp-index-out-of-page", "an index-mode write leaves the hardware status page"),
    BB_START_IN_SECOND_LEVEL("bb-start-in-2nd-level", "a batch buffer start inside a second-level batch"),
    SECOND_LEVEL_FROM_RING("2nd-level-from-ring", "a second-level batch buffer started directly from the ring"),
    BB_END_IN_RING("bb-end-in-ring", "a batch buffer end in the ring buffer"),
    BATCH_TOO_LARGE("batch-too-large", "a batch buffer exceeds the size limit"),
    TOO_MANY_BATCHES("too-many-batches", "the workload starts more batch buffers than the limit"),
    PDP_LOAD_REJECTED("pdp-load-rejected", "the page-directory pointers loaded by LRI were refused"),
    BAD_RING("bad-ring", "the ring buffer's start, size, head or tail is invalid");

    private final String id;
    private final String description;

    Rule(String id, String description) {
        this.id = id;
        this.description = description;
    }

    public String id() {
        return id;
    }

    public String description() {
        return description;
    }
}
