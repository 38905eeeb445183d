package dev.jgvt.cli;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A Debian kernel in a guest root: {@code boot/vmlinuz-VERSION} and {@code lib/modules/VERSION} with its
 * {@code modules.dep}, from which module dependencies are resolved (paths relative to the modules directory).
 *
 * @param root the root directory the kernel was found in
 * @param version the kernel release ({@code uname -r})
 * @param vmlinuz the kernel image
 * @param modules {@code lib/modules/VERSION}
 */
record GuestKernel(Path root, String version, Path vmlinuz, Path modules) {
    GuestKernel {
        requireNonNull(root, "root is null");
        requireNonNull(version, "version is null");
        requireNonNull(vmlinuz, "vmlinuz is null");
        requireNonNull(modules, "modules is null");
    }

    /**
     * The newest kernel in {@code root} that has both an image and a {@code modules.dep}.
     *
     * @throws GvtException {@link ErrorCode#NOT_FOUND} when there is none
     */
    static GuestKernel find(Path root) throws IOException {
        Path boot = root.resolve("boot");
        List<String> versions = new ArrayList<>();
        if (Files.isDirectory(boot)) {
            try (Stream<Path> files = Files.list(boot)) {
                files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("vmlinuz-"))
                        .map(n -> n.substring("vmlinuz-".length()))
                        .filter(v -> Files.isRegularFile(root.resolve("lib/modules").resolve(v).resolve("modules.dep")))
                        .forEach(versions::add);
            }
        }
        if (versions.isEmpty()) {
            throw new GvtException(ErrorCode.NOT_FOUND, "no kernel in " + root
                    + " (boot/vmlinuz-VERSION with lib/modules/VERSION/modules.dep)");
        }
        versions.sort(Comparator.comparing(GuestKernel::versionKey));
        String version = versions.getLast();
        return new GuestKernel(root, version, boot.resolve("vmlinuz-" + version), root.resolve("lib/modules").resolve(version));
    }

    /** A sort key that orders "6.12.9" before "6.12.117". */
    private static String versionKey(String version) {
        StringBuilder key = new StringBuilder();
        for (String part : version.split("[.+~-]")) {
            key.append(part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? "%010d".formatted(Long.parseLong(part)) : part)
                    .append('.');
        }
        return key.toString();
    }

    /**
     * The modules.dep paths of {@code name} (e.g. {@code i915}, {@code 9pnet_virtio}) and everything it needs,
     * dependencies first, the module itself last.
     *
     * @throws GvtException {@link ErrorCode#NOT_FOUND} when modules.dep has no such module
     */
    List<String> withDependencies(String name) throws IOException {
        Map<String, List<String>> deps = dependencies();
        String path = deps.keySet().stream().filter(p -> moduleName(p).equals(name)).findFirst()
                .orElseThrow(() -> new GvtException(ErrorCode.NOT_FOUND, "kernel " + version + " has no module " + name
                        + " (" + modules.resolve("modules.dep") + ")"));
        Set<String> ordered = new LinkedHashSet<>();
        visit(path, deps, ordered, new java.util.HashSet<>());
        return List.copyOf(ordered);
    }

    private static void visit(String path, Map<String, List<String>> deps, Set<String> ordered, Set<String> visiting) {
        if (ordered.contains(path) || !visiting.add(path)) {
            return;
        }
        for (String dep : deps.getOrDefault(path, List.of())) {
            visit(dep, deps, ordered, visiting);
        }
        ordered.add(path);
    }

    private Map<String, List<String>> dependencies() throws IOException {
        Map<String, List<String>> deps = new HashMap<>();
        for (String line : Files.readAllLines(modules.resolve("modules.dep"), StandardCharsets.UTF_8)) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String rest = line.substring(colon + 1).strip();
            deps.put(line.substring(0, colon), rest.isEmpty() ? List.of() : List.of(rest.split("\\s+")));
        }
        return deps;
    }

    /** {@code kernel/drivers/gpu/drm/i915/i915.ko.xz} → {@code i915}; dashes and underscores are the same to the kernel. */
    static String moduleName(String path) {
        String file = path.substring(path.lastIndexOf('/') + 1);
        int ko = file.indexOf(".ko");
        return (ko < 0 ? file : file.substring(0, ko)).replace('-', '_');
    }
}
