package dev.jgvt.core.cmd;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Engine;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Splits a buffer of little-endian dwords into commands with the tables, without any policy ({@code gvt decode}). */
public final class CommandDecoder {
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private CommandDecoder() {}

    /** Receives each command found. */
    @FunctionalInterface
    public interface Visitor {
        void command(long offset, CommandDef def, int header, int lengthDwords);
    }

    /** How decoding ended. */
    public enum Status {
        /** Every byte belonged to a command. */
        COMPLETE,
        /** The header at {@link Result#offset()} is not a command of the engine. */
        UNKNOWN,
        /** The command at {@link Result#offset()} runs past the end of the buffer. */
        TRUNCATED,
        /** The buffer's size is not a multiple of 4. */
        PARTIAL_DWORD
    }

    /**
     * @param status how decoding ended
     * @param offset where it stopped (the buffer size when complete)
     * @param header the header at that offset (0 when complete)
     */
    public record Result(Status status, long offset, int header) {}

    public static Result decode(CommandTable table, Engine engine, MemorySegment data, Visitor visitor) {
        requireNonNull(table, "table is null");
        requireNonNull(engine, "engine is null");
        requireNonNull(visitor, "visitor is null");
        long size = data.byteSize();
        long pos = 0;
        while (pos + 4 <= size) {
            int header = data.get(DW, pos);
            CommandDef def = table.find(engine, header);
            if (def == null) {
                return new Result(Status.UNKNOWN, pos, header);
            }
            int len = def.length(header);
            visitor.command(pos, def, header, len);
            if (pos + 4L * len > size) {
                return new Result(Status.TRUNCATED, pos, header);
            }
            pos += 4L * len;
        }
        if (pos != size) {
            return new Result(Status.PARTIAL_DWORD, pos, 0);
        }
        return new Result(Status.COMPLETE, pos, 0);
    }
}
