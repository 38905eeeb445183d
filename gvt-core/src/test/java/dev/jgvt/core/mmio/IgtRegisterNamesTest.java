package dev.jgvt.core.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jgvt.core.hw.Register;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Cross-checks the register table against intel-gpu-tools' register lists (Debian package intel-gpu-tools,
 * {@code /usr/share/igt-gpu-tools/registers/*.txt}: lines {@code ('NAME', '0xOFFSET', 'BASE')}, where a
 * non-empty third field is an MMIO base added to the offset). For every register of the table: if igt knows
 * its name, the offset must be one igt gives that name; if igt knows its offset, the name must be one igt
 * gives that offset. Names that Skylake's own list (the files named by the {@code skylake} platform file)
 * defines must have exactly Skylake's offset, not one another platform gives the name.
 */
final class IgtRegisterNamesTest {
    private static final Path DIR = Path.of("/usr/share/igt-gpu-tools/registers");
    private static final Pattern LINE = Pattern.compile("\\(\\s*'([^']+)'\\s*,\\s*'(0x[0-9a-fA-F]+)'\\s*,\\s*'([^']*)'\\s*\\)");

    @Test
    void namesAndOffsetsAgreeWithIntelGpuTools() throws IOException {
        if (!Files.isDirectory(DIR)) {
            System.out.println("IgtRegisterNamesTest skipped: " + DIR + " is absent (install intel-gpu-tools)");
            assumeTrue(false, DIR + " is absent");
        }
        Map<String, Set<Long>> offsetsByName = new HashMap<>();
        Map<Long, Set<String>> namesByOffset = new HashMap<>();
        List<Path> files;
        try (Stream<Path> list = Files.list(DIR)) {
            files = list.filter(p -> p.toString().endsWith(".txt")).toList();
        }
        for (Path file : files) {
            for (String line : Files.readAllLines(file)) {
                Matcher m = LINE.matcher(line);
                if (m.find()) {
                    String unit = m.group(3).trim();
                    if (!unit.isEmpty() && !unit.startsWith("0x")) {
                        continue; // a sideband unit (DPIO, CCK...), not MMIO
                    }
                    long base = unit.isEmpty() ? 0 : Long.decode(unit);
                    long offset = Long.decode(m.group(2)) + base;
                    offsetsByName.computeIfAbsent(m.group(1), k -> new HashSet<>()).add(offset);
                    namesByOffset.computeIfAbsent(offset, k -> new HashSet<>()).add(m.group(1));
                }
            }
        }
        assertThat(offsetsByName).as("parsed igt register lists").hasSizeGreaterThan(100);
        Map<String, Set<Long>> skylakeOffsetsByName = new HashMap<>();
        for (String file : platformFiles("skylake", new HashSet<>())) {
            for (String line : Files.readAllLines(DIR.resolve(file))) {
                Matcher m = LINE.matcher(line);
                if (m.find() && m.group(3).isBlank()) {
                    skylakeOffsetsByName.computeIfAbsent(m.group(1), k -> new HashSet<>()).add(Long.decode(m.group(2)));
                }
            }
        }
        assertThat(skylakeOffsetsByName).as("parsed Skylake's register list").hasSizeGreaterThan(100);
        int comparedWithSkylake = 0;
        List<String> problems = new ArrayList<>();
        int compared = 0;
        for (Register row : RegisterRegistry.gen9().rows()) {
            for (int i = 0; i < row.count(); i++) {
                String name = row.nameOf(i);
                long offset = row.offsetOf(i);
                Set<Long> igtOffsets = offsetsByName.get(name);
                Set<String> igtNames = namesByOffset.get(offset);
                Set<Long> skylakeOffsets = skylakeOffsetsByName.get(name);
                if (skylakeOffsets != null) {
                    comparedWithSkylake++;
                    if (!skylakeOffsets.contains(offset)) {
                        problems.add(name + " at 0x" + Long.toHexString(offset) + ": Skylake's list has it at " + hex(skylakeOffsets));
                    }
                }
                if (igtOffsets != null) {
                    compared++;
                    if (!igtOffsets.contains(offset)) {
                        problems.add(name + " at 0x" + Long.toHexString(offset) + ": igt has it at " + hex(igtOffsets));
                    }
                }
                if (igtNames != null) {
                    compared++;
                    if (!igtNames.contains(name)) {
                        problems.add("0x" + Long.toHexString(offset) + " is " + name + " here, igt calls it " + igtNames);
                    }
                }
            }
        }
        System.out.println("IgtRegisterNamesTest compared " + compared + " name/offset facts against " + files.size()
                + " igt files, " + comparedWithSkylake + " names against Skylake's list");
        assertThat(problems).isEmpty();
        assertThat(compared).isGreaterThan(50);
        assertThat(comparedWithSkylake).isGreaterThan(50);
    }

    /** The register files a platform file names, following names of other platform files (kabylake names skylake). */
    private static List<String> platformFiles(String platform, Set<String> seen) throws IOException {
        List<String> files = new ArrayList<>();
        if (!seen.add(platform)) {
            return files;
        }
        for (String line : Files.readAllLines(DIR.resolve(platform))) {
            String entry = line.strip();
            if (entry.isEmpty() || entry.startsWith("#")) {
                continue;
            }
            if (entry.endsWith(".txt")) {
                files.add(entry);
            } else {
                files.addAll(platformFiles(entry, seen));
            }
        }
        return files;
    }

    private static List<String> hex(Set<Long> offsets) {
        return offsets.stream().map(o -> "0x" + Long.toHexString(o)).toList();
    }
}
