package dev.jgvt.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class SpiValuesTest {
    @Test
    void currentVersionComesFromTheBuild() {
        // the pom's jgvt.spi.version is filtered into the resource; an unfiltered "${...}" would not parse
        assertThat(SpiVersion.current().major()).isEqualTo(1);
    }

    @Test
    void versionParsingRejectsAnythingButThreeNumbers() {
        assertThat(SpiVersion.parse(" 1.2.3 ")).isEqualTo(new SpiVersion(1, 2, 3));
        for (String bad : List.of("", "1", "1.2", "1.2.3.4", "1.x.0", "-1.0.0", "a.b.c")) {
            assertThatThrownBy(() -> SpiVersion.parse(bad))
                    .isInstanceOf(GvtException.class)
                    .satisfies(e -> assertThat(((GvtException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("'" + bad + "'");
        }
    }

    @Test
    void pluginRunsOnSameMajorNotOlderHost() {
        SpiVersion built = new SpiVersion(1, 2, 0);
        assertThat(built.runsOn(new SpiVersion(1, 2, 0))).isTrue();
        assertThat(built.runsOn(new SpiVersion(1, 3, 1))).isTrue();
        assertThat(built.runsOn(new SpiVersion(1, 1, 9))).isFalse();
        assertThat(built.runsOn(new SpiVersion(2, 0, 0))).isFalse();
    }

    @Test
    void layoutRejectsDuplicateIndicesAndAreasOutsideTheRegion() {
        DeviceLayout.Region config = new DeviceLayout.Region(
                DeviceLayout.CONFIG, "config", 4096, Set.of(DeviceLayout.Flag.READ), List.of(), 0, 0);
        assertThatThrownBy(() -> new DeviceLayout(0x8086, 0x1912, List.of(config, config), List.of()))
                .hasMessageContaining("duplicate region index");
        assertThatThrownBy(() -> new DeviceLayout.Region(
                        2, "bar2", 4096, Set.of(DeviceLayout.Flag.MMAP), List.of(new DeviceLayout.Area(0, 8192)), 0, 0))
                .hasMessageContaining("exceeds region bar2");
        DeviceLayout layout = new DeviceLayout(0x8086, 0x1912, List.of(config), List.of(new DeviceLayout.Irq(1, 1)));
        assertThat(layout.region(DeviceLayout.CONFIG)).contains(config);
        assertThat(layout.region(DeviceLayout.BAR0)).isEmpty();
    }

    @Test
    void attachTargetsValidateTheirData() {
        assertThatThrownBy(() -> new AttachRequest.InProcess("g", 4097)).hasMessageContaining("multiple of 4096");
        assertThatThrownBy(() -> new AttachRequest.XenDomain(0)).hasMessageContaining("not a guest domain id");
        assertThatThrownBy(() -> new AttachRequest(" ", new AttachRequest.UnixSocket(Path.of("/tmp/s"))))
                .hasMessageContaining("blank");
        Map<String, String> params = new java.util.HashMap<>(Map.of("k", "v"));
        AttachRequest.Custom custom = new AttachRequest.Custom("acme", params);
        params.put("k2", "v2");
        assertThat(custom.parameters()).containsOnlyKeys("k");
    }

    @Test
    void exceptionCarriesItsCode() {
        GvtException e = new GvtException(ErrorCode.NOT_MAPPED, "gpa 0x1000 is not guest RAM");
        assertThat(e.code()).isEqualTo(ErrorCode.NOT_MAPPED);
        assertThat(e).hasToString("GvtException[NOT_MAPPED]: gpa 0x1000 is not guest RAM");
    }

    @Test
    void defaultIntxIsUnsupported() {
        InterruptSink sink = () -> {};
        assertThatThrownBy(sink::signalIntx)
                .isInstanceOf(GvtException.class)
                .satisfies(e -> assertThat(((GvtException) e).code()).isEqualTo(ErrorCode.UNSUPPORTED));
    }
}
