package dev.jgvt.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the guest's serial console said, line by line: the markers of the harness's /init (lines starting
 * with {@code jgvt-}), the kernel's messages, and the dmesg dump /init prints before it powers off. Marks
 * ({@code jgvt-mark: NAME}) are reported as they arrive, so the host can take counters at that moment.
 * Thread-safe: the console reader feeds it, the command reads it.
 */
final class GuestLog {
    static final String DEVICE = "0000:00:03.0";
    private static final Pattern KERNEL = Pattern.compile("^\\[\\s*(\\d+\\.\\d+)\\] (.*)$");
    private static final Pattern MARK = Pattern.compile("jgvt-mark: (\\S+)(?: (.*))?$");
    private static final Pattern CMD_END = Pattern.compile("^jgvt-cmd-end (\\S+) status=(\\d+)");
    private static final Pattern EXIT = Pattern.compile("^jgvt-exit status=(\\d+)");
    private static final Pattern WEDGED = Pattern.compile("^jgvt-wedged: (-?\\d+)");
    private static final Pattern ENUMERATED = Pattern.compile("pci " + DEVICE + ": \\[([0-9a-f]{4}:[0-9a-f]{4})\\] type (\\S+) class (0x[0-9a-f]+)");
    private static final Pattern BAR = Pattern.compile("pci " + DEVICE + ": BAR (\\d+) \\[(\\w+) (0x[0-9a-f]+)-(0x[0-9a-f]+)( [^\\]]*)?\\]");

    private final BiConsumer<String, String> onMark;
    private final List<String> console = new ArrayList<>();
    private final List<String> dmesg = new ArrayList<>();
    private final Map<String, Integer> commandStatus = new LinkedHashMap<>();
    private boolean inDmesg;
    private boolean dmesgComplete;
    private Integer exitStatus;
    private Integer wedged;

    /** @param onMark called with a mark's name and argument (or "") when its console line arrives */
    GuestLog(BiConsumer<String, String> onMark) {
        this.onMark = onMark;
    }

    /** One console line, without its line terminator. */
    void accept(String raw) {
        String line = raw.replace("\r", "");
        synchronized (this) {
            console.add(line);
            if (line.equals("jgvt-dmesg-begin")) {
                inDmesg = true;
                dmesg.clear();
                return;
            }
            if (line.equals("jgvt-dmesg-end")) {
                inDmesg = false;
                dmesgComplete = true;
                return;
            }
            if (inDmesg) {
                dmesg.add(line);
                return;
            }
            Matcher m;
            if ((m = CMD_END.matcher(line)).find()) {
                commandStatus.put(m.group(1), Integer.parseInt(m.group(2)));
            } else if ((m = EXIT.matcher(line)).find()) {
                exitStatus = Integer.parseInt(m.group(1));
            } else if ((m = WEDGED.matcher(line)).find()) {
                wedged = Integer.parseInt(m.group(1));
            }
        }
        Matcher mark = MARK.matcher(line);
        if (mark.find()) {
            onMark.accept(mark.group(1), mark.group(2) == null ? "" : mark.group(2));
        }
    }

    synchronized List<String> consoleLines() {
        return List.copyOf(console);
    }

    /** The guest exit status /init reported (the first failing command's status, else 0), or null. */
    synchronized Integer exitStatus() {
        return exitStatus;
    }

    /** The kernel's messages: the dmesg dump when /init printed it whole, else the kernel lines seen on the console. */
    synchronized List<String> kernelLines() {
        if (dmesgComplete) {
            return List.copyOf(dmesg);
        }
        return console.stream().filter(l -> KERNEL.matcher(l).find()).toList();
    }

    /** What the guest's log says, for the summary. */
    /** The kernel's panic line on the console, or null. */
    synchronized String panic() {
        return console.stream().filter(l -> l.contains("Kernel panic - not syncing")).findFirst()
                .map(l -> KERNEL.matcher(l).replaceFirst("$2")).orElse(null);
    }

    synchronized Report report() {
        List<String> kernel = kernelLines();
        List<String> errors = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        Map<String, Double> marks = new LinkedHashMap<>();
        Double initializedAt = null;
        Double firstDeviceLineAt = null;
        boolean detected = false;
        String deviceId = null;
        String deviceClass = null;
        List<Map<String, Object>> bars = new ArrayList<>();
        for (String line : kernel) {
            Matcher k = KERNEL.matcher(line);
            double time = k.find() ? Double.parseDouble(k.group(1)) : -1;
            String text = time >= 0 ? k.group(2) : line;
            Matcher m;
            if (text.contains("*ERROR*") && text.contains("i915")) {
                errors.add(text);
            }
            if (text.startsWith("WARNING: ")) {
                warnings.add(text);
            }
            if (text.contains("Virtual GPU for Intel GVT-g detected")) {
                detected = true;
            }
            if (firstDeviceLineAt == null && marks.containsKey("insmod-i915-begin") && text.startsWith("i915 " + DEVICE)) {
                firstDeviceLineAt = time;
            }
            if (initializedAt == null && text.contains("[drm] Initialized i915 ")) {
                initializedAt = time;
            }
            if ((m = MARK.matcher(text)).find()) {
                marks.putIfAbsent(m.group(1), time);
            }
            if (deviceId == null && (m = ENUMERATED.matcher(text)).find()) {
                deviceId = m.group(1);
                deviceClass = m.group(3);
            }
            if ((m = BAR.matcher(text)).find()) {
                Map<String, Object> bar = new LinkedHashMap<>();
                bar.put("index", Integer.parseInt(m.group(1)));
                bar.put("type", m.group(2));
                bar.put("size", Long.parseUnsignedLong(m.group(4).substring(2), 16) - Long.parseUnsignedLong(m.group(3).substring(2), 16) + 1);
                bar.put("flags", m.group(5) == null ? "" : m.group(5).strip());
                bars.add(bar);
            }
        }
        Double probeSeconds = null;
        Double begin = marks.get("insmod-i915-begin");
        if (begin != null && initializedAt != null && begin >= 0 && initializedAt >= 0) {
            probeSeconds = Math.round((initializedAt - begin) * 1e6) / 1e6;
        }
        Double deviceProbeSeconds = null;
        if (firstDeviceLineAt != null && initializedAt != null && firstDeviceLineAt >= 0 && initializedAt >= 0) {
            deviceProbeSeconds = Math.round((initializedAt - firstDeviceLineAt) * 1e6) / 1e6;
        }
        return new Report(dmesgComplete, exitStatus, new LinkedHashMap<>(commandStatus), detected, initializedAt != null, wedged,
                List.copyOf(errors), List.copyOf(warnings), marks, probeSeconds, deviceProbeSeconds, deviceId, deviceClass,
                List.copyOf(bars));
    }

    /**
     * The guest's side of a run.
     *
     * @param dmesgComplete whether /init printed dmesg whole (false: the guest was stopped before; the kernel lines
     *     seen on the console were analysed instead)
     * @param exitStatus /init's exit marker, or null when the guest did not get there
     * @param commandStatus each test command's exit status by its number
     * @param gvtDetected i915 logged {@code Virtual GPU for Intel GVT-g detected}
     * @param i915Initialized i915 logged {@code [drm] Initialized i915}
     * @param wedged debugfs i915_wedged, or null when there was none (no i915 device)
     * @param i915Errors i915's {@code *ERROR*} lines
     * @param warnings the kernel's {@code WARNING:} lines (one per WARN trace)
     * @param marks the /init marks with their dmesg timestamps (seconds)
     * @param probeSeconds guest time from insmod i915 to {@code Initialized i915}, or null
     * @param deviceProbeSeconds guest time from i915's first message about the device (its probe has begun: the
     *     module is loaded and linked) to {@code Initialized i915}, or null
     * @param deviceId vendor:device of the device at 00:03.0 as the guest enumerated it
     * @param deviceClass its class code
     * @param bars its BARs as the guest sized them
     */
    record Report(boolean dmesgComplete, Integer exitStatus, Map<String, Integer> commandStatus, boolean gvtDetected,
            boolean i915Initialized, Integer wedged, List<String> i915Errors, List<String> warnings, Map<String, Double> marks,
            Double probeSeconds, Double deviceProbeSeconds, String deviceId, String deviceClass, List<Map<String, Object>> bars) {}
}
