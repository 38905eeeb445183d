package dev.jgvt.plugin.kvm.vfiouser;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.jr.ob.JSON;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * vfio-user's VERSION JSON through jackson-jr (bundled in the plugin jar): a whole RFC 8259 document — any
 * whitespace, unknown members, nesting up to {@link #MAX_DEPTH} — maps objects to {@link Map} (insertion
 * ordered), arrays to {@link List}, integers to {@link Long} (or {@link BigInteger} when larger), other numbers
 * to {@link BigDecimal}, strings, booleans and {@code null} to {@link #NULL}. Malformed input, and anything after
 * the document, is a {@link ErrorCode#PROTOCOL_ERROR} with the library's description of what was wrong.
 */
public final class Json {
    /** The JSON {@code null} (Java's null is avoided in the maps). */
    public static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    public static final int MAX_DEPTH = 64;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
            .build();
    private static final JSON READER = JSON.builder(FACTORY).enable(JSON.Feature.USE_BIG_DECIMAL_FOR_FLOATS).build();
    private static final JSON WRITER = JSON.std;

    private Json() {}

    /** Parses a whole document (surrounding whitespace allowed, anything else after it is an error). */
    public static Object parse(String text) {
        Objects.requireNonNull(text, "text is null");
        try (JsonParser p = FACTORY.createParser(text)) {
            if (p.nextToken() == null) {
                throw new GvtException(ErrorCode.PROTOCOL_ERROR, "JSON: empty document");
            }
            Object v = READER.anyFrom(p);
            if (p.nextToken() != null) {
                throw new GvtException(ErrorCode.PROTOCOL_ERROR, "JSON at offset " + p.currentTokenLocation().getCharOffset()
                        + ": unexpected " + p.currentToken() + " after the document");
            }
            return normalise(v);
        } catch (StreamConstraintsException e) {
            throw new GvtException(ErrorCode.PROTOCOL_ERROR, "JSON: nesting deeper than " + MAX_DEPTH + " (" + e.getOriginalMessage() + ")");
        } catch (JsonProcessingException e) {
            throw new GvtException(ErrorCode.PROTOCOL_ERROR, "JSON at offset " + e.getLocation().getCharOffset() + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new GvtException(ErrorCode.PROTOCOL_ERROR, "JSON: " + e.getMessage());
        }
    }

    /** jackson-jr's values in this class's vocabulary: Long for every integer that fits, NULL for null. */
    private static Object normalise(Object v) {
        return switch (v) {
            case null -> NULL;
            case Integer i -> (long) i;
            case Short s -> (long) s;
            case Byte b -> (long) b;
            case BigInteger b when b.bitLength() < 64 -> b.longValue();
            case Double d -> new BigDecimal(Double.toString(d));
            case Float f -> new BigDecimal(Float.toString(f));
            case Map<?, ?> m -> {
                Map<String, Object> out = new LinkedHashMap<>();
                m.forEach((k, x) -> out.put((String) k, normalise(x)));
                yield out;
            }
            case List<?> l -> {
                List<Object> out = new ArrayList<>(l.size());
                l.forEach(x -> out.add(normalise(x)));
                yield out;
            }
            case Object[] a -> normalise(List.of(a));
            default -> v;
        };
    }

    /** Compact JSON for maps, lists, strings, numbers, booleans and {@link #NULL}. */
    public static String write(Object value) {
        try {
            return WRITER.asString(denormalise(value));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot write " + value + " as JSON: " + e.getMessage(), e);
        }
    }

    private static Object denormalise(Object v) {
        if (v == NULL) {
            return null;
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put((String) k, denormalise(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(x -> out.add(denormalise(x)));
            return out;
        }
        return v;
    }
}
