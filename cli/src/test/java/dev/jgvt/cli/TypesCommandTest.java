package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

final class TypesCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int gvt(String... args) {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setExecutionExceptionHandler(new ErrorHandler());
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }

    /** One expected row, computed from GVT-g's table and formula without the project's code. */
    private record Expected(String name, long low, long high, int weight, String resolution, long available) {}

    private static List<Expected> gvtArithmetic(long ggttMib, long apertureMib, int fences) {
        long[][] table = {{8, 64, 384, 2}, {4, 128, 512, 4}, {2, 256, 1024, 8}, {1, 512, 2048, 16}};
        long lowAvail = apertureMib - 128;
        long highAvail = ggttMib - apertureMib - 384;
        long fenceAvail = fences - 4;
        List<Expected> rows = new ArrayList<>();
        for (long[] t : table) {
            if (lowAvail / t[1] == 0) {
                break;
            }
            long available = Math.min(Math.min(lowAvail / t[1], highAvail / t[2]), fenceAvail / 4);
            rows.add(new Expected("GVTg_V5_" + t[0], t[1], t[2], (int) t[3], t[0] == 8 ? "1024x768" : "1920x1200", available));
        }
        return rows;
    }

    @ParameterizedTest
    @ValueSource(strings = {"256M", "1G"})
    void jsonMatchesGvtArithmetic(String aperture) throws Exception {
        assertThat(gvt("types", "--json", "--aperture", aperture)).isZero();
        JsonNode json = new ObjectMapper().readTree(out.toString());
        long apertureMib = aperture.equals("1G") ? 1024 : 256;
        List<Expected> expected = gvtArithmetic(4096, apertureMib, 32);
        assertThat(json.size()).isEqualTo(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            JsonNode row = json.get(i);
            Expected e = expected.get(i);
            assertThat(row.get("name").asText()).isEqualTo(e.name());
            assertThat(row.get("lowGmMiB").asLong()).isEqualTo(e.low());
            assertThat(row.get("highGmMiB").asLong()).isEqualTo(e.high());
            assertThat(row.get("fences").asInt()).isEqualTo(4);
            assertThat(row.get("weight").asInt()).isEqualTo(e.weight());
            assertThat(row.get("resolution").asText()).isEqualTo(e.resolution());
            assertThat(row.get("availableInstances").asLong()).as(e.name()).isEqualTo(e.available());
        }
        if (apertureMib == 256) {
            // GVT-g's worked example: 128 MiB free low GM = two V5_8 or one V5_4
            assertThat(expected).extracting(Expected::available).containsExactly(2L, 1L);
        } else {
            assertThat(expected).extracting(Expected::available).containsExactly(7L, 5L, 2L, 1L);
        }
    }

    @Test
    void tableListsEveryOfferedType() {
        assertThat(gvt("types", "--ggtt", "4096M", "--fences", "12")).isZero();
        String[] lines = out.toString().split("\\R");
        assertThat(lines[0]).contains("NAME", "LOW_MiB", "HIGH_MiB", "FENCES", "WEIGHT", "RESOLUTION", "AVAILABLE");
        assertThat(lines).hasSize(5);
        assertThat(lines[1].split("\\s+")).containsExactly("GVTg_V5_8", "64", "384", "4", "2", "1024x768", "2");
        assertThat(lines[4].split("\\s+")).containsExactly("GVTg_V5_1", "512", "2048", "4", "16", "1920x1200", "1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"12Q", "-1G", "", "1.5G", "99999999999999999999", "0", "9999999999G"})
    void badSizesAreRejectedNamingTheValue(String size) {
        assertThat(gvt("types", "--aperture", size)).isEqualTo(2);
        assertThat(err.toString()).contains("--aperture");
        if (!size.isEmpty()) {
            assertThat(err.toString()).contains(size);
        }
    }

    @Test
    void impossibleGeometryIsRejected() {
        assertThat(gvt("types", "--aperture", "8G")).isEqualTo(2);
        assertThat(err.toString()).contains("8589934592");
        assertThat(gvt("types", "--aperture", "300M")).isEqualTo(2);
        assertThat(gvt("types", "--fences", "40")).isEqualTo(2);
        assertThat(err.toString()).contains("40");
    }

    @Test
    void sizeConverterUnits() {
        TypesCommand.SizeConverter c = new TypesCommand.SizeConverter();
        assertThat(c.convert("4096")).isEqualTo(4096L);
        assertThat(c.convert("256K")).isEqualTo(256L << 10);
        assertThat(c.convert("256m")).isEqualTo(256L << 20);
        assertThat(c.convert("1GiB")).isEqualTo(1L << 30);
        assertThat(c.convert("4G")).isEqualTo(4L << 30);
    }
}
