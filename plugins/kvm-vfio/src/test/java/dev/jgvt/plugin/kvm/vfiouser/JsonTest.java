package dev.jgvt.plugin.kvm.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class JsonTest {
    @Test
    void readsEveryKindOfValueWithAnyWhitespace() {
        Object v = Json.parse(" \n{ \"a\" :\t[1, -2, 3.5, 1e3, true, false, null, \"x\\n\\u0041\\\"\"],\r\n \"b\": {} , \"c\": [] } ");
        assertThat(v).isInstanceOfSatisfying(Map.class, m -> {
            assertThat(m.get("a")).isEqualTo(List.of(1L, -2L, new BigDecimal("3.5"), new BigDecimal("1e3"), true, false,
                    Json.NULL, "x\nA\""));
            assertThat(m.get("b")).isEqualTo(Map.of());
            assertThat(m.get("c")).isEqualTo(List.of());
        });
        assertThat(Json.parse("18446744073709551616")).isEqualTo(new BigInteger("18446744073709551616"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "{", "{\"a\"}", "{\"a\":1,}", "[1 2]", "01", "-", "1.", "\"abc", "tru", "{} x", "\"\\q\"",
            "{\"a\":\"\u0001\"}", "[1e]"})
    void malformedDocumentsAreProtocolErrors(String text) {
        assertThatThrownBy(() -> Json.parse(text)).isInstanceOfSatisfying(GvtException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL_ERROR));
    }

    @Test
    void nestingIsBounded() {
        String deep = "[".repeat(100) + "]".repeat(100);
        assertThatThrownBy(() -> Json.parse(deep)).hasMessageContaining("nesting deeper than 64");
        assertThat(Json.parse("[".repeat(60) + "]".repeat(60))).isInstanceOf(List.class);
    }

    @Test
    void writerOutputParsesBack() {
        Map<String, Object> doc = Map.of("k", List.of(1L, "a\"b\\c\n", true, Json.NULL, Map.of("z", 2L)));
        assertThat(Json.parse(Json.write(doc))).isEqualTo(doc);
    }

    @Test
    void capabilitiesHaveTheProtocolDefaults() {
        assertThat(Capabilities.parse("{}")).isEqualTo(Capabilities.DEFAULTS);
        assertThat(Capabilities.parse("{\"capabilities\":{}}")).isEqualTo(Capabilities.DEFAULTS);
        assertThat(Capabilities.DEFAULTS.maxMsgFds()).isEqualTo(1);
        assertThat(Capabilities.DEFAULTS.maxDataXferSize()).isEqualTo(1 << 20);
        assertThat(Capabilities.DEFAULTS.maxDmaMaps()).isEqualTo(65535);
        assertThat(Capabilities.DEFAULTS.pgsizes()).isEqualTo(4096);
        assertThat(Capabilities.DEFAULTS.writeMultiple()).isFalse();
    }

    @Test
    void qemuStyleCapabilitiesAndUnknownMembersAreRead() {
        Capabilities c = Capabilities.parse("""
                {"capabilities": {"max_msg_fds": 16, "max_data_xfer_size": 1048576, "pgsizes": 4096,
                  "max_dma_maps": 65535, "migration": {"pgsize": 4096, "max_bitmap_size": 268435456},
                  "write_multiple": true, "twin_socket": {"supported": true}, "x-jgvt-vendor": {"v": 1}},
                 "ignored": [1, 2]}
                """);
        assertThat(c.maxMsgFds()).isEqualTo(16);
        assertThat(c.writeMultiple()).isTrue();
        assertThat(c.migration()).hasValueSatisfying(m -> assertThat(m.maxBitmapSize()).contains(268435456L));
        assertThat(c.twinSocket()).hasValueSatisfying(t -> assertThat(t.supported()).isTrue());
        assertThat(c.extra()).containsEntry("x-jgvt-vendor", Map.of("v", 1L));
        assertThat(Capabilities.parse(c.toJson())).isEqualTo(c);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"capabilities\":{\"max_msg_fds\":1025}}", "{\"capabilities\":{\"max_msg_fds\":-1}}",
            "{\"capabilities\":{\"max_msg_fds\":\"8\"}}", "{\"capabilities\":{\"max_data_xfer_size\":0}}",
            "{\"capabilities\":{\"pgsizes\":4096.5}}", "{\"capabilities\":{\"migration\":4096}}",
            "{\"capabilities\":{\"write_multiple\":1}}", "[]", "{\"capabilities\":{\"max_dma_maps\":99999999999999999999}}"})
    void badCapabilityValuesAreProtocolErrors(String json) {
        assertThatThrownBy(() -> Capabilities.parse(json)).isInstanceOfSatisfying(GvtException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL_ERROR));
    }
}
