package dev.jgvt.cli.daemon;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configuration directory: one JSON file per defined vGPU ({@code <uuid>.json}:
 * {@code {"uuid": …, "type": …, "auto": …}}). A file is replaced atomically — written to a temporary file in the
 * same directory, forced to disk, renamed over the old one, and the directory forced — so a crash leaves the old
 * or the new definition, never a torn one. A file that does not parse is skipped with a warning when loading
 * (one bad file must not hide the others).
 */
final class DefinitionStore {
    private static final Logger log = LoggerFactory.getLogger(DefinitionStore.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;

    DefinitionStore(Path dir) {
        this.dir = requireNonNull(dir, "dir is null").toAbsolutePath().normalize();
    }

    Path directory() {
        return dir;
    }

    /** Creates the directory (and its parents) if needed. */
    void create() {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new GvtException(ErrorCode.IO_ERROR, "cannot create the configuration directory " + dir + ": " + e, e);
        }
    }

    /** Every readable definition, ordered by UUID. */
    List<Definition> load() {
        List<Definition> result = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList()) {
                try {
                    result.add(read(file));
                } catch (IOException | RuntimeException e) {
                    log.warn("skipping vGPU definition {}: {}", file, e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new GvtException(ErrorCode.IO_ERROR, "cannot list the configuration directory " + dir + ": " + e, e);
        }
        return result;
    }

    Optional<Definition> find(UUID uuid) {
        Path file = file(uuid);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(read(file));
        } catch (IOException | RuntimeException e) {
            throw new GvtException(ErrorCode.IO_ERROR, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private Definition read(Path file) throws IOException {
        JsonNode node = JSON.readTree(file.toFile());
        if (node == null || !node.isObject() || !node.path("uuid").isTextual() || !node.path("type").isTextual()) {
            throw new IOException("not a vGPU definition (expected {\"uuid\": …, \"type\": …, \"auto\": …})");
        }
        UUID uuid = UUID.fromString(node.get("uuid").asText());
        if (!file.getFileName().toString().equals(uuid + ".json")) {
            throw new IOException("its uuid " + uuid + " does not match the file name");
        }
        return new Definition(uuid, node.get("type").asText(), node.path("auto").asBoolean(false));
    }

    /** Writes (or replaces) a definition atomically. */
    void write(Definition definition) {
        Path file = file(definition.uuid());
        Path temp = dir.resolve("." + definition.uuid() + ".json.tmp");
        ObjectNode node = JSON.createObjectNode();
        node.put("uuid", definition.uuid().toString());
        node.put("type", definition.type());
        node.put("auto", definition.auto());
        try {
            byte[] bytes = JSON.writeValueAsBytes(node);
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                channel.write(java.nio.ByteBuffer.wrap(bytes));
                channel.force(true);
            }
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system of " + dir + " cannot rename atomically", e);
            }
            forceDirectory();
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // the temporary file is named after the UUID and replaced by the next write
            }
            throw new GvtException(ErrorCode.IO_ERROR, "cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Deletes a definition; false when there was none. */
    boolean delete(UUID uuid) {
        try {
            boolean deleted = Files.deleteIfExists(file(uuid));
            if (deleted) {
                forceDirectory();
            }
            return deleted;
        } catch (IOException e) {
            throw new GvtException(ErrorCode.IO_ERROR, "cannot delete " + file(uuid) + ": " + e.getMessage(), e);
        }
    }

    private Path file(UUID uuid) {
        return dir.resolve(uuid + ".json");
    }

    /** Makes the rename durable (Linux lets a directory be opened read-only and fsync'ed). */
    private void forceDirectory() throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
