package dev.jgvt.core.cmd;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;

/**
 * A workload broke a scanner rule. Names the command, the byte offset of the command in the buffer it was
 * found in, the buffer (kind and graphics address), and the rule. The workload fails and the vGPU goes to its
 * failsafe state; nothing else is affected.
 */
public final class ScanRejectedException extends Exception {
    private static final long serialVersionUID = 1L;

    private final Rule rule;
    private final String command;
    private final long offset;
    private final BufferKind buffer;
    private final long bufferAddress;
    private final String detail;

    public ScanRejectedException(Rule rule, String command, long offset, BufferKind buffer, long bufferAddress,
            String detail) {
        super(format(rule, command, offset, buffer, bufferAddress, detail), null, false, false);
        this.rule = requireNonNull(rule, "rule is null");
        this.command = requireNonNull(command, "command is null");
        this.offset = offset;
        this.buffer = requireNonNull(buffer, "buffer is null");
        this.bufferAddress = bufferAddress;
        this.detail = requireNonNull(detail, "detail is null");
    }

    private static String format(Rule rule, String command, long offset, BufferKind buffer, long bufferAddress,
            String detail) {
        return String.format("%s rejected (%s) at byte 0x%x of the %s at 0x%x: %s", command, rule.id(), offset, buffer,
                bufferAddress, detail);
    }

    public Rule rule() {
        return rule;
    }

    /** The offending command's name ({@code UNKNOWN} when the header matches no command). */
    public String command() {
        return command;
    }

    /** Byte offset of the offending command from the start of its buffer (for the ring: from the ring start). */
    public long offset() {
        return offset;
    }

    public BufferKind buffer() {
        return buffer;
    }

    /** Graphics address of the start of the buffer (ring start or batch start). */
    public long bufferAddress() {
        return bufferAddress;
    }

    /** What exactly was wrong (values, limits). */
    public String detail() {
        return detail;
    }

    /** The SPI form: a guest error that fails the vGPU. */
    public GvtException toGvtException() {
        return new GvtException(ErrorCode.GUEST_ERROR, getMessage(), this);
    }
}
