package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two QEMU guests (Debian's kernel and i915, through the Linux-guest harness {@code gvt qemu --connect}) at once on
 * one {@code gvt daemon}, each on its own vGPU. Needs root and the Debian root the harness prepares once
 * ({@code gvt qemu} prepares it; CI does not): skipped with the reason otherwise.
 */
final class DaemonQemuIT {
    private static final String[] UUIDS = {"00000000-0000-4000-8000-000000000101", "00000000-0000-4000-8000-000000000102"};

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        Distribution.stopAll(processes);
    }

    private Process start(String name, String... args) throws Exception {
        Process p = Distribution.start(dir.resolve(name + ".out"), dir.resolve(name + ".err"), args);
        processes.add(p);
        return p;
    }

    @Test
    void twoLinuxGuestsInQemuShareOneService() throws Exception {
        Path root = GuestCache.root();
        boolean ready = GuestCache.isRoot() && Files.exists(root.resolve(".jgvt-guest-root"));
        if (!ready) {
            System.out.println("SKIPPED DaemonQemuIT: needs root and the guest root prepared in " + root + " (run gvt qemu once as root)");
        }
        assumeTrue(ready, "needs root and a prepared guest root");
        Path run = dir.resolve("run");
        Distribution.Daemon started = Distribution.startDaemon(dir, run, List.of(UUIDS));
        processes.add(started.process());
        List<Process> guests = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            guests.add(start("qemu" + i, "qemu", "--connect", run.resolve(UUIDS[i] + ".sock").toString(), "--out",
                    dir.resolve("qemu" + i).toString(), "--timeout", "240", "cat /sys/bus/pci/devices/0000:00:03.0/vendor"));
        }
        for (int i = 0; i < 2; i++) {
            assertThat(guests.get(i).waitFor(300, TimeUnit.SECONDS)).isTrue();
            JsonNode summary = new ObjectMapper().readTree(dir.resolve("qemu" + i).resolve("summary.json").toFile());
            String log = Files.readString(dir.resolve("qemu" + i + ".out")) + Files.readString(dir.resolve("qemu" + i + ".err"));
            assertThat(summary.path("outcome").asText()).as(log).isEqualTo("powered-off");
            assertThat(summary.path("guest").path("device").path("id").asText()).isEqualTo("8086:1912");
            assertThat(summary.path("guest").path("commands").path("01").asInt(-1)).as("the guest read the vendor id").isZero();
            assertThat(summary.path("guest").path("gvtDetected").asBoolean()).as("i915 saw a GVT-g vGPU: %s", log).isTrue();
        }
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + started.metricsPort() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        for (String u : UUIDS) {
            Matcher reads = Pattern.compile("jgvt_vgpu_mmio_accesses_total\\{op=\"read\",region=\"bar0\",type=\"GVTg_V5_4\",uuid=\"" + u
                    + "\"} (\\S+)").matcher(metrics);
            assertThat(reads.find()).as(metrics).isTrue();
            System.out.println("vGPU " + u + ": BAR0 reads " + reads.group(1));
            assertThat(Double.parseDouble(reads.group(1))).as("i915's register reads on %s", u).isPositive();
        }
    }
}
