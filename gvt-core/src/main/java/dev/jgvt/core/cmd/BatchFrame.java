package dev.jgvt.core.cmd;

/**
 * The caller's place saved by a batch-buffer call (a first-level batch started from the ring, a second-level batch
 * started from a first-level one): the buffer being scanned and where its copy stands, restored when the callee's
 * {@code MI_BATCH_BUFFER_END} returns. One is made per call, never per command.
 *
 * @param buf the shadow buffer holding the caller's copy
 * @param bufId {@link ShadowBatches#RING}, {@link ShadowBatches#FIRST_LEVEL_POOL} or
 *     {@link ShadowBatches#SECOND_LEVEL_POOL}
 * @param kind the caller's buffer kind
 * @param regionStart where the caller's copy starts in {@code buf}
 * @param limit how far the caller's copy reaches in {@code buf}
 * @param regionGma the caller's graphics address
 * @param gmaLimit the graphics address the caller's copy may not pass
 * @param unmappedAt the first unmapped graphics address met while copying the caller, or -1
 * @param chunk the caller's next copy chunk
 * @param ppgtt whether the caller is a PPGTT buffer
 * @param memory the graphics memory the caller is copied from
 * @param record the caller's {@link ShadowBatches} record (unused for the ring)
 */
record BatchFrame(ShadowBuffer buf, int bufId, BufferKind kind, long regionStart, long limit, long regionGma,
        long gmaLimit, long unmappedAt, long chunk, boolean ppgtt, GraphicsMemory memory, int record) {}
