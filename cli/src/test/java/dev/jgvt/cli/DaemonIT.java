package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgvt.guest.Picture;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gvt daemon} as a process of the distribution, managed with the verbs, with reference VMMs ({@code gvt vmm})
 * as processes of their own: define three vGPUs, start them, run three guests at once (the scheduler's shares
 * measured), watch one over VNC with a real client (gtk-vnc's {@code gvnccapture}), read the Prometheus metrics,
 * stop (refused while a VMM is connected), restart the service and find the definitions back, autostart.
 */
final class DaemonIT {
    private static final String A = "00000000-0000-4000-8000-00000000000a";
    private static final String B = "00000000-0000-4000-8000-00000000000b";
    private static final String C = "00000000-0000-4000-8000-00000000000c";

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopProcesses() throws InterruptedException {
        Distribution.stopAll(processes);
    }

    private Process start(Path out, Path err, String... args) throws IOException {
        Process p = Distribution.start(out, err, args);
        processes.add(p);
        return p;
    }

    private Process daemon(String name, Path run, Path conf, int vncBase) throws Exception {
        Path out = dir.resolve(name + ".out");
        Path err = dir.resolve(name + ".err");
        Process d = start(out, err, "daemon", "--runtime-dir", run.toString(), "--config-dir", conf.toString(), "--metrics-port", "0",
                "--vnc-base-port", Integer.toString(vncBase));
        Distribution.awaitLine(d, out, err, "Ready.");
        return d;
    }

    private static int metricsPort(Path out) throws IOException {
        Matcher m = Pattern.compile("metrics: http://127.0.0.1:(\\d+)/metrics").matcher(Files.readString(out));
        assertThat(m.find()).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static void stopDaemon(Process d) throws InterruptedException {
        d.destroy(); // SIGTERM
        assertThat(d.waitFor(30, TimeUnit.SECONDS)).as("gvt daemon stops on SIGTERM").isTrue();
    }

    private static CliRun verb(Path run, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--runtime-dir");
        all.add(run.toString());
        return CliRun.of(all.toArray(String[]::new));
    }

    private static CliRun ok(CliRun run) {
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        return run;
    }

    /** A base port with base+1..base+7 free, in VNC's display range (gvnccapture takes a display number). */
    private static int freeVncBase() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = 5910 + ThreadLocalRandom.current().nextInt(80);
            boolean free = true;
            for (int i = 1; i <= 7 && free; i++) {
                try (ServerSocket probe = new ServerSocket(base + i, 1, java.net.InetAddress.getLoopbackAddress())) {
                    free = probe.isBound();
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new AssertionError("no free VNC ports");
    }

    private static Map<String, Double> scrape(int port, String metric) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        Map<String, Double> values = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^" + metric + "\\{type=\"[^\"]+\",uuid=\"([^\"]+)\"} (\\S+)$").matcher(response.body());
        while (m.find()) {
            values.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        return values;
    }

    private static Map<String, Double> scrapeRegion(int port, String region, String op) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        Map<String, Double> values = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^jgvt_vgpu_mmio_accesses_total\\{op=\"" + op + "\",region=\"" + region
                + "\",type=\"[^\"]+\",uuid=\"([^\"]+)\"} (\\S+)$").matcher(response.body());
        while (m.find()) {
            values.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        return values;
    }

    @Test
    void threeVgpusOnOneServiceManagedWithTheVerbsWatchedOverVncAndCountedInPrometheus() throws Exception {
        Path run = dir.resolve("run");
        Path conf = dir.resolve("conf");
        int vncBase = freeVncBase();
        Process d = daemon("daemon1", run, conf, vncBase);
        int metrics = metricsPort(dir.resolve("daemon1.out"));

        assertThat(ok(verb(run, "define", "--uuid", A, "--type", "GVTg_V5_4", "--auto")).out().strip()).isEqualTo(A);
        ok(verb(run, "define", "--uuid", B, "--type", "GVTg_V5_4"));
        ok(verb(run, "define", "--uuid", C, "--type", "GVTg_V5_4"));
        CliRun twice = verb(run, "define", "--uuid", B, "--type", "GVTg_V5_4");
        assertThat(twice.exitCode()).isEqualTo(1);
        assertThat(twice.err().strip()).isEqualTo("gvt define: ALREADY_EXISTS: vGPU " + B + " is defined already");
        CliRun badType = verb(run, "define", "--type", "GVTg_V9_9");
        assertThat(badType.exitCode()).isEqualTo(2);
        assertThat(badType.err()).contains("no vGPU type GVTg_V9_9");
        assertThat(conf.resolve(A + ".json")).exists();

        JsonNode types = new ObjectMapper().readTree(ok(verb(run, "types", "--json")).out());
        assertThat(available(types, "GVTg_V5_4")).as("nothing started: GVT-g's 5 instances").isEqualTo(5);
        for (String u : List.of(A, B, C)) {
            assertThat(ok(verb(run, "start", "--uuid", u)).out()).startsWith(run.resolve(u + ".sock").toString());
        }
        types = new ObjectMapper().readTree(ok(verb(run, "types", "--json")).out());
        assertThat(available(types, "GVTg_V5_4")).as("three started").isEqualTo(2);
        assertThat(available(types, "GVTg_V5_1")).as("the big type no longer fits").isZero();
        CliRun noInstances = verb(run, "start", "--uuid", "00000000-0000-4000-8000-0000000000ff", "--type", "GVTg_V5_1");
        assertThat(noInstances.exitCode()).isEqualTo(1);
        assertThat(noInstances.err()).contains("NO_SPACE").contains("no available instances of type GVTg_V5_1");
        CliRun unknown = verb(run, "start", "--uuid", "00000000-0000-4000-8000-0000000000ee");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err()).contains("no vGPU defined with UUID 00000000-0000-4000-8000-0000000000ee");
        assertThat(Files.getPosixFilePermissions(run.resolve(A + ".sock"))).as("vfio-user socket mode 0660")
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE, java.nio.file.attribute.PosixFilePermission.GROUP_READ,
                        java.nio.file.attribute.PosixFilePermission.GROUP_WRITE);

        // three guests at once, one per vGPU, each in its own VMM process
        List<Process> vmms = new ArrayList<>();
        String[] uuids = {A, B, C};
        for (int i = 0; i < 3; i++) {
            vmms.add(start(dir.resolve("vmm" + i + ".out"), dir.resolve("vmm" + i + ".err"), "vmm", "--socket",
                    run.resolve(uuids[i] + ".sock").toString(), "--frames", "8", "--size", "200x120", "--index", Integer.toString(i + 1),
                    "--ram", "64M", "--hold-ms", i == 0 ? "10000" : "0"));
        }
        for (int i = 1; i < 3; i++) {
            assertThat(vmms.get(i).waitFor(90, TimeUnit.SECONDS)).isTrue();
            String out = Files.readString(dir.resolve("vmm" + i + ".out"));
            assertThat(vmms.get(i).exitValue()).as(out + Files.readString(dir.resolve("vmm" + i + ".err"))).isZero();
            assertThat(out).contains("The guest saw correct results.");
        }

        Map<String, Double> shares = scrape(metrics, "jgvt_vgpu_scheduler_share");
        Map<String, Double> scheduled = scrape(metrics, "jgvt_vgpu_scheduled_seconds_total");
        Map<String, Double> msis = scrape(metrics, "jgvt_vgpu_msis_total");
        Map<String, Double> submissions = scrape(metrics, "jgvt_vgpu_submissions_total");
        Map<String, Double> bar0Writes = scrapeRegion(metrics, "bar0", "write");
        Map<String, Double> ggttWrites = scrape(metrics, "jgvt_vgpu_ggtt_writes_total");
        System.out.println("scheduler shares " + shares + ", scheduled seconds " + scheduled);
        assertThat(shares.keySet()).containsExactlyInAnyOrder(A, B, C);
        for (String u : uuids) {
            // equal types (weights) and equal work, but the guests do not saturate the GPU, so the shares follow their
            // demand and the machine's load (0.17-0.53 seen): each guest got GPU time, and the shares add up to one.
            // Weighted fairness under saturation is TimeSlicePolicyTest's.
            assertThat(shares.get(u)).as("share of %s in %s", u, shares).isGreaterThan(0.0).isLessThan(1.0);
            assertThat(msis.get(u)).isPositive();
            assertThat(bar0Writes.get(u)).as("MMIO writes trapped").isGreaterThan(100);
            assertThat(ggttWrites.get(u)).as("GGTT entry writes shadowed").isPositive();
            assertThat(submissions.get(u)).isGreaterThanOrEqualTo(8 * 4);
        }
        assertThat(shares.values().stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        for (String engine : List.of("rcs", "bcs", "vcs", "vecs")) {
            // every guest ran work on all four engines, so each engine's busy time is positive
            Matcher busy = Pattern.compile("(?m)^jgvt_engine_busy_seconds_total\\{engine=\"" + engine + "\"} (\\S+)$").matcher(body);
            assertThat(busy.find()).as("engine busy time of %s in the metrics", engine).isTrue();
            assertThat(Double.parseDouble(busy.group(1))).as("busy seconds of %s", engine).isPositive();
        }

        // what a VNC viewer shows is what the guest drew
        snapshotEqualsTheGuestsPicture(vncBase + 1, 1, 7, 200, 120);

        // A's VMM is still connected: stop is refused, --force stops it
        assertThat(ok(verb(run, "list")).out()).contains(A + " GVTg_V5_4 auto connected");
        CliRun refused = verb(run, "stop", "--uuid", A);
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err().strip()).startsWith("gvt stop: BUSY: vGPU " + A + " is in use by a VMM");
        ok(verb(run, "stop", "--uuid", B));
        ok(verb(run, "stop", "--uuid", A, "--force"));
        assertThat(vmms.getFirst().waitFor(30, TimeUnit.SECONDS)).as("the VMM of a vGPU stopped with --force ends").isTrue();
        CliRun notStarted = verb(run, "stop", "--uuid", A);
        assertThat(notStarted.exitCode()).isEqualTo(2);
        assertThat(notStarted.err()).contains("is not started");
        assertThat(ok(verb(run, "list")).out().strip()).startsWith(C + " GVTg_V5_4 manual").doesNotContain(A);

        // restart: the definitions are back, the auto one is started again
        stopDaemon(d);
        assertThat(run.resolve(C + ".sock")).doesNotExist();
        Process again = daemon("daemon2", run, conf, vncBase);
        assertThat(Files.readString(dir.resolve("daemon2.out"))).contains("started " + A + " (GVTg_V5_4)");
        String defined = ok(verb(run, "list", "--defined")).out();
        assertThat(defined.lines()).hasSize(3);
        assertThat(defined).contains(A + " GVTg_V5_4 auto active").contains(B + " GVTg_V5_4 manual").contains(C + " GVTg_V5_4 manual");
        assertThat(ok(verb(run, "list")).out().lines()).hasSize(1).first().asString().startsWith(A);

        // modify and undefine
        ok(verb(run, "modify", "--uuid", A, "--manual"));
        ok(verb(run, "modify", "--uuid", B, "--type", "GVTg_V5_8", "--auto"));
        ok(verb(run, "undefine", "--uuid", C));
        JsonNode list = new ObjectMapper().readTree(ok(verb(run, "list", "--defined", "--json")).out());
        assertThat(list).hasSize(2);
        assertThat(list.get(0).path("uuid").asText()).isEqualTo(A);
        assertThat(list.get(0).path("auto").asBoolean()).isFalse();
        assertThat(list.get(1).path("type").asText()).isEqualTo("GVTg_V5_8");
        assertThat(list.get(1).path("auto").asBoolean()).isTrue();
        assertThat(conf.resolve(C + ".json")).doesNotExist();
        CliRun gone = verb(run, "undefine", "--uuid", C);
        assertThat(gone.exitCode()).isEqualTo(2);
        assertThat(gone.err()).contains("no vGPU defined with UUID " + C);

        // libvirt's hook starts the vGPU a domain attaches before the domain, and stops it after
        String xml = Files.readString(Distribution.home().resolve("libvirt/vgpu-domain.xml"))
                .replace("/run/jgvt/UUID.sock", run.resolve(C + ".sock").toString());
        ok(verb(run, "define", "--uuid", C, "--type", "GVTg_V5_4"));
        assertThat(hook(xml, "prepare", "begin").exitCode()).isZero();
        assertThat(ok(verb(run, "list")).out()).contains(C + " GVTg_V5_4 manual " + run.resolve(C + ".sock"));
        assertThat(hook(xml, "prepare", "begin").exitCode()).as("started already is fine").isZero();
        assertThat(hook(xml, "release", "end").exitCode()).isZero();
        assertThat(ok(verb(run, "list")).out()).doesNotContain(C);
        String unknownDomain = xml.replace(C, "00000000-0000-4000-8000-0000000000dd");
        Distribution.Result hookRefused = hook(unknownDomain, "prepare", "begin");
        assertThat(hookRefused.exitCode()).isEqualTo(1);
        assertThat(hookRefused.err()).contains("no vGPU defined with UUID 00000000-0000-4000-8000-0000000000dd");
        stopDaemon(again);
    }

    /** Runs the distribution's libvirt hook as libvirt does: {@code qemu DOMAIN OP SUBOP -}, the domain XML on stdin. */
    private Distribution.Result hook(String xml, String operation, String sub) throws Exception {
        Path out = dir.resolve("hook.out");
        Path err = dir.resolve("hook.err");
        ProcessBuilder builder = new ProcessBuilder(Distribution.home().resolve("libvirt/qemu-hook").toString(), "vgpu-guest", operation, sub, "-")
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().put("JGVT_GVT", Distribution.home().resolve("bin/gvt").toString());
        Process p = builder.start();
        p.getOutputStream().write(xml.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Distribution.Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static long available(JsonNode types, String name) {
        for (JsonNode t : types) {
            if (t.path("name").asText().equals(name)) {
                return t.path("availableInstances").asLong();
            }
        }
        throw new AssertionError("no type " + name + " in " + types);
    }

    private void snapshotEqualsTheGuestsPicture(int port, int index, int frame, int width, int height) throws Exception {
        Path client = Path.of("/usr/bin/gvnccapture");
        if (!Files.isExecutable(client)) {
            assertThat(System.getenv("CI")).as("gvnccapture (Debian package gvncviewer) is installed by .ci/run").isNotEqualTo("true");
            System.out.println("SKIPPED the VNC snapshot check: gvnccapture is not installed (apt-get install gvncviewer)");
            return;
        }
        // the guest may still be drawing its last frames: the viewer must show the last one, pixel for pixel
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String mismatch;
        do {
            Path png = dir.resolve("snapshot.png");
            Process capture = new ProcessBuilder(client.toString(), "127.0.0.1:" + (port - 5900), png.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("gvnccapture.out").toFile()).start();
            assertThat(capture.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(capture.exitValue()).as(Files.readString(dir.resolve("gvnccapture.out"))).isZero();
            BufferedImage image = ImageIO.read(png.toFile());
            mismatch = compare(image, index, frame, width, height);
            if (mismatch == null) {
                return;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("the VNC snapshot is not the guest's last frame: " + mismatch);
    }

    private static String compare(BufferedImage image, int index, int frame, int width, int height) {
        if (image.getWidth() != width || image.getHeight() != height) {
            return "size " + image.getWidth() + "x" + image.getHeight();
        }
        int wrong = 0;
        String first = null;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int expected = Picture.pixel(index, frame, width, height, x, y);
                if ((image.getRGB(x, y) & 0xFF_FFFF) != expected) {
                    wrong++;
                    if (first == null) {
                        first = String.format("(%d,%d) is %06x, not %06x", x, y, image.getRGB(x, y) & 0xFF_FFFF, expected);
                    }
                }
            }
        }
        return wrong == 0 ? null : wrong + " pixels differ, first " + first;
    }
}
