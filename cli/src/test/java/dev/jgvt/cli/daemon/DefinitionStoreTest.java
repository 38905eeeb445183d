package dev.jgvt.cli.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class DefinitionStoreTest {
    @TempDir
    Path dir;

    @Test
    void definitionsAreOneJsonFileEachReplacedWithoutLeftoversAndABadFileIsSkipped() throws Exception {
        DefinitionStore store = new DefinitionStore(dir.resolve("vgpus"));
        store.create();
        UUID a = UUID.fromString("00000000-0000-4000-8000-000000000001");
        UUID b = UUID.fromString("00000000-0000-4000-8000-000000000002");
        store.write(new Definition(b, "GVTg_V5_8", false));
        store.write(new Definition(a, "GVTg_V5_4", true));
        store.write(new Definition(a, "GVTg_V5_2", false));
        try (var files = Files.list(dir.resolve("vgpus"))) {
            assertThat(files.map(f -> f.getFileName().toString()).sorted().toList()).as("no temporary file left")
                    .containsExactly(a + ".json", b + ".json");
        }
        assertThat(Files.readString(dir.resolve("vgpus").resolve(a + ".json"))).contains("\"type\" : \"GVTg_V5_2\"").contains("\"auto\" : false");
        Files.writeString(dir.resolve("vgpus").resolve("00000000-0000-4000-8000-000000000003.json"), "{not json");
        Files.writeString(dir.resolve("vgpus").resolve("00000000-0000-4000-8000-000000000004.json"),
                "{\"uuid\": \"" + a + "\", \"type\": \"GVTg_V5_4\"}");
        assertThat(store.load()).as("sorted; the broken and the misnamed file are skipped")
                .containsExactly(new Definition(a, "GVTg_V5_2", false), new Definition(b, "GVTg_V5_8", false));
        assertThat(store.find(b)).contains(new Definition(b, "GVTg_V5_8", false));
        assertThat(store.delete(b)).isTrue();
        assertThat(store.delete(b)).isFalse();
        assertThat(store.find(b)).isEmpty();
    }
}
