package dev.jgvt.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The checked-in expectations of LinuxGuestIT ({@code linux-guest/dmesg-allowlist.txt}; its header documents
 * the format): the probe outcome and the i915 *ERROR* and WARNING lines still allowed.
 */
record DmesgAllowlist(boolean probeSucceeds, List<Entry> entries) {
    static final String RESOURCE = "/linux-guest/dmesg-allowlist.txt";

    enum Kind { ERROR, WARNING }

    /** One allowed problem: its kind, pattern, whether it must occur, why it occurs, and its line in the file. */
    record Entry(Kind kind, Pattern pattern, boolean required, String why, int line) {
        @Override
        public String toString() {
            return "line " + line + ": " + kind + (required ? "" : "?") + " " + pattern + " # " + why;
        }
    }

    static DmesgAllowlist load() throws IOException {
        try (InputStream in = DmesgAllowlist.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    static DmesgAllowlist parse(String text) {
        Boolean succeeds = null;
        List<Entry> entries = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] words = line.split("\\s+", 2);
            switch (words[0]) {
                case "probe" -> {
                    if (words.length < 2 || !(words[1].equals("fails") || words[1].equals("succeeds"))) {
                        throw new IllegalArgumentException("line " + (i + 1) + ": 'probe fails' or 'probe succeeds', not: " + line);
                    }
                    succeeds = words[1].equals("succeeds");
                }
                case "ERROR", "ERROR?", "WARNING", "WARNING?" -> {
                    if (words.length < 2) {
                        throw new IllegalArgumentException("line " + (i + 1) + ": no pattern: " + line);
                    }
                    int hash = words[1].indexOf(" # ");
                    if (hash < 0) {
                        throw new IllegalArgumentException("line " + (i + 1) + ": no ' # <why>' after the pattern: " + line);
                    }
                    Kind kind = words[0].startsWith("ERROR") ? Kind.ERROR : Kind.WARNING;
                    entries.add(new Entry(kind, Pattern.compile(words[1].substring(0, hash).strip()), !words[0].endsWith("?"),
                            words[1].substring(hash + 3).strip(), i + 1));
                }
                default -> throw new IllegalArgumentException("line " + (i + 1) + ": unknown directive: " + line);
            }
        }
        if (succeeds == null) {
            throw new IllegalArgumentException("no 'probe fails' or 'probe succeeds' line");
        }
        return new DmesgAllowlist(succeeds, List.copyOf(entries));
    }

    /**
     * The problems of one boot against this list.
     *
     * @param unexpected lines no entry allows
     * @param stale required entries no line matched (the problem is gone: delete the entry)
     */
    record Verdict(List<String> unexpected, List<Entry> stale) {
        boolean clean() {
            return unexpected.isEmpty() && stale.isEmpty();
        }

        @Override
        public String toString() {
            StringBuilder s = new StringBuilder();
            unexpected.forEach(l -> s.append("\n  not in the allowlist: ").append(l));
            stale.forEach(e -> s.append("\n  allowlisted but no longer occurs (delete it from " + RESOURCE + "): ").append(e));
            return s.toString();
        }
    }

    Verdict check(List<String> i915Errors, List<String> warnings) {
        List<String> unexpected = new ArrayList<>();
        boolean[] used = new boolean[entries.size()];
        match(Kind.ERROR, i915Errors, used, unexpected);
        match(Kind.WARNING, warnings, used, unexpected);
        List<Entry> stale = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            if (!used[i] && entries.get(i).required()) {
                stale.add(entries.get(i));
            }
        }
        return new Verdict(List.copyOf(unexpected), List.copyOf(stale));
    }

    private void match(Kind kind, List<String> lines, boolean[] used, List<String> unexpected) {
        for (String line : lines) {
            boolean allowed = false;
            for (int i = 0; i < entries.size(); i++) {
                Entry e = entries.get(i);
                if (e.kind() == kind && e.pattern().matcher(line).find()) {
                    used[i] = true;
                    allowed = true;
                }
            }
            if (!allowed) {
                unexpected.add(kind + ": " + line);
            }
        }
    }
}
