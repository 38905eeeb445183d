package dev.jgvt.cli;

import dev.jgvt.core.cmd.CommandDecoder;
import dev.jgvt.core.cmd.CommandTable;
import dev.jgvt.core.hw.Engine;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gvt decode}: splits a file of little-endian dwords into commands with the Gen9 tables and prints one
 * line per command: {@code 0x%08x NAME LEN} (byte offset, name, length in dwords). An unknown command prints
 * {@code 0x%08x UNKNOWN} and stops decoding with an error (exit 2).
 */
@Command(name = "decode", mixinStandardHelpOptions = true,
        description = "Decode a command buffer (little-endian dwords) into Gen9 commands.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:every dword decoded",
            "2:an unknown or truncated command (decoding stops there), or a file that cannot be read"})
final class DecodeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--engine", required = true, converter = EngineConverter.class,
            description = "Engine whose command set applies: rcs, bcs, vcs, vcs2 or vecs.")
    Engine engine;

    @Option(names = "--json", description = "Print a JSON document instead of text lines.")
    boolean json;

    @Parameters(index = "0", paramLabel = "FILE", description = "The command buffer.")
    Path file;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        byte[] bytes = InputFiles.read(file);
        StringBuilder jsonCommands = new StringBuilder();
        CommandDecoder.Result result;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(Math.max(1, bytes.length)).asSlice(0, bytes.length);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, data, 0, bytes.length);
            result = CommandDecoder.decode(CommandTable.gen9(), engine, data, (offset, def, header, len) -> {
                if (json) {
                    appendJson(jsonCommands, offset, def.name(), len);
                } else {
                    out.printf("0x%08x %s %d%n", offset, def.name(), len);
                }
            });
        }
        String error = switch (result.status()) {
            case COMPLETE -> null;
            case UNKNOWN -> String.format("unknown command 0x%08x at byte 0x%x for %s", result.header(),
                    result.offset(), engine.cliName());
            case TRUNCATED -> String.format("the command at byte 0x%x runs past the end of the file (%d bytes)",
                    result.offset(), bytes.length);
            case PARTIAL_DWORD -> String.format("the file's size (%d bytes) is not a multiple of 4", bytes.length);
        };
        if (result.status() == CommandDecoder.Status.UNKNOWN) {
            if (json) {
                appendJson(jsonCommands, result.offset(), "UNKNOWN", -1);
            } else {
                out.printf("0x%08x UNKNOWN%n", result.offset());
            }
        }
        if (json) {
            out.printf("{\"engine\":\"%s\",\"commands\":[%s],\"status\":\"%s\"%s}%n", engine.cliName(), jsonCommands,
                    result.status().name().toLowerCase(java.util.Locale.ROOT),
                    error == null ? "" : ",\"error\":\"" + error + "\"");
        }
        out.flush();
        if (error != null) {
            err.println("gvt decode: " + error);
            return ErrorHandler.REJECTED;
        }
        return 0;
    }

    private static void appendJson(StringBuilder sb, long offset, String name, int len) {
        if (!sb.isEmpty()) {
            sb.append(',');
        }
        sb.append("{\"offset\":").append(offset).append(",\"name\":\"").append(name).append('"');
        if (len >= 0) {
            sb.append(",\"length\":").append(len);
        }
        sb.append('}');
    }

    /** Parses {@code rcs|bcs|vcs|vcs2|vecs}. */
    static final class EngineConverter implements CommandLine.ITypeConverter<Engine> {
        @Override
        public Engine convert(String value) {
            try {
                return Engine.fromName(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
