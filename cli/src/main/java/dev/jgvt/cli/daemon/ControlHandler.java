package dev.jgvt.cli.daemon;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jgvt.core.vgpu.VgpuManager;
import dev.jgvt.core.vgpu.VgpuType;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers control requests ({@code {"op": …, …}}) with the service: {@code types}, {@code define}, {@code undefine},
 * {@code modify}, {@code start}, {@code stop}, {@code list}. A response is {@code {"ok": true, "result": …}} or
 * {@code {"ok": false, "code": <ErrorCode>, "message": …}}.
 */
final class ControlHandler implements Function<JsonNode, JsonNode> {
    private static final Logger log = LoggerFactory.getLogger(ControlHandler.class);

    private final VgpuService service;

    ControlHandler(VgpuService service) {
        this.service = requireNonNull(service, "service is null");
    }

    @Override
    public JsonNode apply(JsonNode request) {
        try {
            ObjectNode response = ControlServer.JSON.createObjectNode();
            response.put("ok", true);
            response.set("result", handle(request));
            return response;
        } catch (GvtException e) {
            return ControlServer.error(e.code(), e.getMessage());
        } catch (RuntimeException e) {
            log.error("control request {} failed", request, e);
            return ControlServer.error(ErrorCode.INTERNAL, e.toString());
        }
    }

    private JsonNode handle(JsonNode request) {
        String op = request.path("op").asText("");
        return switch (op) {
            case "types" -> types();
            case "define" -> definition(service.define(uuid(request), text(request, "type")
                    .orElseThrow(() -> missing("type")), request.path("auto").asBoolean(false)));
            case "undefine" -> {
                service.undefine(uuid(request));
                yield ControlServer.JSON.createObjectNode();
            }
            case "modify" -> definition(service.modify(uuid(request), text(request, "type"),
                    request.hasNonNull("auto") ? Optional.of(request.get("auto").asBoolean()) : Optional.empty()));
            case "start" -> started(service.start(uuid(request), text(request, "type")));
            case "stop" -> {
                service.stop(uuid(request), request.path("force").asBoolean(false));
                yield ControlServer.JSON.createObjectNode();
            }
            case "list" -> list(request.path("defined").asBoolean(false));
            default -> throw new GvtException(ErrorCode.INVALID_ARGUMENT, "unknown op '" + op
                    + "' (types, define, undefine, modify, start, stop, list)");
        };
    }

    private static GvtException missing(String field) {
        return new GvtException(ErrorCode.INVALID_ARGUMENT, "the request has no '" + field + "'");
    }

    private static Optional<String> text(JsonNode request, String field) {
        JsonNode node = request.get(field);
        return node == null || node.isNull() ? Optional.empty() : Optional.of(node.asText());
    }

    private static UUID uuid(JsonNode request) {
        String text = text(request, "uuid").orElseThrow(() -> missing("uuid"));
        try {
            return UUID.fromString(text);
        } catch (IllegalArgumentException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "'" + text + "' is not a UUID");
        }
    }

    private JsonNode types() {
        ArrayNode array = ControlServer.JSON.createArrayNode();
        for (VgpuManager.TypeAvailability t : service.types()) {
            VgpuType type = t.type();
            ObjectNode node = array.addObject();
            node.put("name", type.name());
            node.put("lowGmMiB", type.lowGm() >> 20);
            node.put("highGmMiB", type.highGm() >> 20);
            node.put("fences", type.fences());
            node.put("weight", type.weight());
            node.put("resolution", type.resolution().toString());
            node.put("availableInstances", t.availableInstances());
            node.put("description", type.description());
        }
        return array;
    }

    private static JsonNode definition(Definition d) {
        ObjectNode node = ControlServer.JSON.createObjectNode();
        node.put("uuid", d.uuid().toString());
        node.put("type", d.type());
        node.put("auto", d.auto());
        return node;
    }

    private static JsonNode started(VgpuService.Started s) {
        ObjectNode node = ControlServer.JSON.createObjectNode();
        node.put("uuid", s.uuid().toString());
        node.put("type", s.type());
        node.put("vgpu", s.vgpuId());
        node.put("socket", s.socket().toString());
        s.vncPort().ifPresent(p -> node.put("vncPort", p));
        return node;
    }

    private JsonNode list(boolean defined) {
        ArrayNode array = ControlServer.JSON.createArrayNode();
        for (VgpuService.Entry e : service.list(defined)) {
            ObjectNode node = array.addObject();
            node.put("uuid", e.uuid().toString());
            node.put("type", e.type());
            node.put("auto", e.auto());
            node.put("defined", e.defined());
            node.put("active", e.active());
            node.put("connected", e.connected());
            if (e.socket().isPresent()) {
                node.put("socket", e.socket().get().toString());
            } else {
                node.putNull("socket");
            }
            if (e.vncPort().isPresent()) {
                node.put("vncPort", e.vncPort().get());
            } else {
                node.putNull("vncPort");
            }
        }
        return array;
    }
}
