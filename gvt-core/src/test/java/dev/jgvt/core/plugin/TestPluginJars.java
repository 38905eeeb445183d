package dev.jgvt.core.plugin;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.SpiVersion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Builds real plugin jars at test time: compiles Java sources against the test class path, writes
 * {@code META-INF/extensions.idx} and a manifest with {@code Plugin-*} entries, and can break any of it.
 */
public final class TestPluginJars {
    private TestPluginJars() {}

    /** A jar under construction; defaults describe a valid plugin with no classes yet. */
    public static Builder plugin(String id) {
        return new Builder(id);
    }

    /** Source of a HypervisorPlugin extension {@code <pkg>.<name>} whose {@code id()} returns {@code reportedId}. */
    public static String hypervisorPluginSource(String pkg, String name, String reportedId, String constructor) {
        return """
                package %s;

                import dev.jgvt.spi.*;
                import java.util.Set;

                public final class %s implements HypervisorPlugin {
                    private HostContext context;

                    %s

                    public HostContext context() { return context; }

                    @Override public String id() { return "%s"; }

                    @Override public Set<Capability> capabilities() { return Set.of(Capability.PAGE_TRACKING); }

                    @Override public Availability availability() { return Availability.unavailable("test platform absent"); }

                    @Override public Hypervisor open(HostContext context) {
                        throw new GvtException(ErrorCode.UNSUPPORTED, "test plugin");
                    }
                }
                """.formatted(pkg, name, constructor.replace("NAME", name), reportedId);
    }

    /** An injectable constructor taking the HostContext. */
    public static final String INJECTED_CONSTRUCTOR =
            "@jakarta.inject.Inject public NAME(HostContext context) { this.context = context; }";

    /** A public no-argument constructor. */
    public static final String NO_ARG_CONSTRUCTOR = "public NAME() {}";

    public static final class Builder {
        private final String id;
        private final Map<String, String> manifest = new LinkedHashMap<>();
        private final Map<String, String> sources = new LinkedHashMap<>();
        private final Map<String, byte[]> rawEntries = new LinkedHashMap<>();
        private final List<String> index = new ArrayList<>();
        private boolean writeIndex = true;

        private Builder(String id) {
            this.id = requireNonNull(id, "id is null");
            manifest.put("Plugin-Id", id);
            manifest.put("Plugin-Version", "1.2.3");
            manifest.put("Plugin-Requires", ">=1.0.0 & <2.0.0");
            manifest.put("Plugin-Provider", "jgvt tests");
            manifest.put("Jgvt-Spi-Version", SpiVersion.current().toString());
        }

        /** The package of this plugin's classes: {@code test.<id with non-letters replaced>}. */
        public String pkg() {
            return "test." + id.replaceAll("[^A-Za-z0-9]", "_");
        }

        /** Adds the standard HypervisorPlugin extension (injected constructor) to sources and index. */
        public Builder standardExtension() {
            return extension("TestHypervisor", hypervisorPluginSource(pkg(), "TestHypervisor", id, INJECTED_CONSTRUCTOR));
        }

        /** Adds a class and lists it in the extension index. */
        public Builder extension(String simpleName, String source) {
            source(simpleName, source);
            index.add(pkg() + "." + simpleName);
            return this;
        }

        /** Adds a class that is not an extension. */
        public Builder source(String simpleName, String source) {
            sources.put(pkg() + "." + simpleName, source);
            return this;
        }

        public Builder indexLine(String line) {
            index.add(line);
            return this;
        }

        public Builder noIndex() {
            writeIndex = false;
            return this;
        }

        public Builder manifest(String key, String value) {
            manifest.put(key, value);
            return this;
        }

        public Builder withoutManifest(String key) {
            manifest.remove(key);
            return this;
        }

        /** Adds an entry verbatim (for example a copy of a host class). */
        public Builder raw(String entryName, byte[] bytes) {
            rawEntries.put(entryName, bytes.clone());
            return this;
        }

        /** Compiles and writes {@code directory/fileName}; returns the jar. */
        public Path writeTo(Path directory, String fileName) {
            try {
                Path jar = directory.resolve(fileName);
                Map<String, byte[]> classes = compile(sources);
                Manifest mf = new Manifest();
                mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
                manifest.forEach((key, value) -> mf.getMainAttributes().putValue(key, value));
                try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, mf)) {
                    if (writeIndex) {
                        out.putNextEntry(new JarEntry("META-INF/extensions.idx"));
                        String text = "# Generated by the jgvt tests\n" + String.join("\n", index) + (index.isEmpty() ? "" : "\n");
                        out.write(text.getBytes(StandardCharsets.UTF_8));
                        out.closeEntry();
                    }
                    for (Map.Entry<String, byte[]> entry : classes.entrySet()) {
                        out.putNextEntry(new JarEntry(entry.getKey()));
                        out.write(entry.getValue());
                        out.closeEntry();
                    }
                    for (Map.Entry<String, byte[]> entry : rawEntries.entrySet()) {
                        out.putNextEntry(new JarEntry(entry.getKey()));
                        out.write(entry.getValue());
                        out.closeEntry();
                    }
                }
                return jar;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** The test class path (Surefire passes it in a property when it launches through a manifest jar). */
    static String testClassPath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    /** The bytes of a class file on the host's class path, for planting copies in plugin jars. */
    public static byte[] hostClassBytes(Class<?> type) {
        String resource = "/" + type.getName().replace('.', '/') + ".class";
        try (InputStream in = requireNonNull(type.getResourceAsStream(resource), resource)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Compiled classes by sources: many tests build the same good plugins, javac runs once for each. */
    private static final Map<Map<String, String>, Map<String, byte[]>> COMPILED = new java.util.concurrent.ConcurrentHashMap<>();

    private static Map<String, byte[]> compile(Map<String, String> sources) throws IOException {
        Map<String, String> key = Map.copyOf(sources);
        Map<String, byte[]> cached = COMPILED.get(key);
        if (cached != null) {
            return cached;
        }
        Map<String, byte[]> classes = javac(sources);
        COMPILED.put(key, classes);
        return classes;
    }

    private static Map<String, byte[]> javac(Map<String, String> sources) throws IOException {
        Map<String, byte[]> classes = new LinkedHashMap<>();
        if (sources.isEmpty()) {
            return classes;
        }
        Path work = Files.createTempDirectory("jgvt-plugin-src");
        try {
            Path src = work.resolve("src");
            Path out = work.resolve("classes");
            Files.createDirectories(out);
            List<String> args = new ArrayList<>(List.of("-d", out.toString(), "-cp", testClassPath(), "-proc:none",
                    "--release", "25", "-nowarn"));
            for (Map.Entry<String, String> source : sources.entrySet()) {
                Path file = src.resolve(source.getKey().replace('.', '/') + ".java");
                Files.createDirectories(file.getParent());
                Files.writeString(file, source.getValue());
                args.add(file.toString());
            }
            JavaCompiler javac = requireNonNull(ToolProvider.getSystemJavaCompiler(), "no system Java compiler: run on a JDK");
            ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
            int rc = javac.run(null, diagnostics, diagnostics, args.toArray(String[]::new));
            if (rc != 0) {
                throw new IllegalStateException("test plugin sources did not compile:\n"
                        + diagnostics.toString(StandardCharsets.UTF_8));
            }
            try (Stream<Path> files = Files.walk(out)) {
                for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                    classes.put(out.relativize(file).toString().replace('\\', '/'), Files.readAllBytes(file));
                }
            }
            return classes;
        } finally {
            try (Stream<Path> files = Files.walk(work)) {
                for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }
}
