package dev.jgvt.plugin.kvm.vfiouser;

import static java.util.Objects.requireNonNull;

import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The capabilities object of a VERSION message, with the protocol's defaults for absent members.
 * Unknown members are kept in {@link #extra()} (vendor extensions are negotiated there).
 *
 * @param maxMsgFds fds the sender can receive per message (default 1; 0..1024 accepted)
 * @param maxDataXferSize the largest data {@code count} the sender accepts (default 1 MiB)
 * @param maxDmaMaps DMA regions (default 65535)
 * @param pgsizes OR of supported DMA page sizes (default 4096)
 * @param migration migration parameters, if offered
 * @param twinSocket twin-socket mode, if offered
 * @param writeMultiple whether REGION_WRITE_MULTI is accepted (default false)
 * @param extra every other member, as parsed
 */
public record Capabilities(
        int maxMsgFds,
        long maxDataXferSize,
        long maxDmaMaps,
        long pgsizes,
        Optional<Migration> migration,
        Optional<TwinSocket> twinSocket,
        boolean writeMultiple,
        Map<String, Object> extra) {
    public static final int DEFAULT_MAX_MSG_FDS = 1;
    public static final long DEFAULT_MAX_DATA_XFER_SIZE = 1 << 20;
    public static final long DEFAULT_MAX_DMA_MAPS = 65535;
    public static final long DEFAULT_PGSIZES = 4096;
    public static final int MAX_MSG_FDS_LIMIT = 1024;

    /** Everything at its default. */
    public static final Capabilities DEFAULTS = new Capabilities(DEFAULT_MAX_MSG_FDS, DEFAULT_MAX_DATA_XFER_SIZE,
            DEFAULT_MAX_DMA_MAPS, DEFAULT_PGSIZES, Optional.empty(), Optional.empty(), false, Map.of());

    public Capabilities {
        requireNonNull(migration, "migration is null");
        requireNonNull(twinSocket, "twinSocket is null");
        extra = Map.copyOf(requireNonNull(extra, "extra is null"));
        if (maxMsgFds < 0 || maxMsgFds > MAX_MSG_FDS_LIMIT) {
            throw bad("max_msg_fds " + maxMsgFds + " outside 0.." + MAX_MSG_FDS_LIMIT);
        }
        if (maxDataXferSize <= 0 || maxDmaMaps <= 0 || pgsizes <= 0) {
            throw bad("max_data_xfer_size, max_dma_maps and pgsizes must be positive");
        }
    }

    /** {@code migration}: page size and largest dirty bitmap. */
    public record Migration(long pgsize, Optional<Long> maxBitmapSize) {}

    /** {@code twin_socket}: whether supported, and the fd index of the server's end (replies only). */
    public record TwinSocket(boolean supported, Optional<Long> fdIndex) {}

    private static GvtException bad(String what) {
        return new GvtException(ErrorCode.PROTOCOL_ERROR, "VERSION capabilities: " + what);
    }

    /** Parses a VERSION JSON document; a missing {@code capabilities} member means all defaults. */
    public static Capabilities parse(String json) {
        Object root = Json.parse(json);
        if (!(root instanceof Map<?, ?> top)) {
            throw bad("the document is not an object");
        }
        Object capsValue = top.get("capabilities");
        if (capsValue == null) {
            return DEFAULTS;
        }
        if (!(capsValue instanceof Map<?, ?> caps)) {
            throw bad("capabilities is not an object");
        }
        Map<String, Object> extra = new LinkedHashMap<>();
        int maxMsgFds = DEFAULT_MAX_MSG_FDS;
        long maxData = DEFAULT_MAX_DATA_XFER_SIZE;
        long maxDma = DEFAULT_MAX_DMA_MAPS;
        long pgsizes = DEFAULT_PGSIZES;
        Optional<Migration> migration = Optional.empty();
        Optional<TwinSocket> twin = Optional.empty();
        boolean writeMultiple = false;
        for (Map.Entry<?, ?> e : caps.entrySet()) {
            String key = (String) e.getKey();
            Object v = e.getValue();
            switch (key) {
                case "max_msg_fds" -> {
                    long n = number(key, v);
                    if (n < 0 || n > MAX_MSG_FDS_LIMIT) {
                        throw bad("max_msg_fds " + n + " outside 0.." + MAX_MSG_FDS_LIMIT);
                    }
                    maxMsgFds = (int) n;
                }
                case "max_data_xfer_size" -> maxData = positive(key, v);
                case "max_dma_maps" -> maxDma = positive(key, v);
                case "pgsizes" -> pgsizes = positive(key, v);
                case "migration" -> {
                    if (!(v instanceof Map<?, ?> m)) {
                        throw bad("migration is not an object");
                    }
                    long pgsize = m.containsKey("pgsize") ? positive("migration.pgsize", m.get("pgsize")) : DEFAULT_PGSIZES;
                    Optional<Long> maxBitmap = m.containsKey("max_bitmap_size")
                            ? Optional.of(positive("migration.max_bitmap_size", m.get("max_bitmap_size")))
                            : Optional.empty();
                    migration = Optional.of(new Migration(pgsize, maxBitmap));
                }
                case "twin_socket" -> {
                    if (!(v instanceof Map<?, ?> m)) {
                        throw bad("twin_socket is not an object");
                    }
                    Object supported = m.get("supported");
                    if (supported != null && !(supported instanceof Boolean)) {
                        throw bad("twin_socket.supported is not a boolean");
                    }
                    Optional<Long> fdIndex = m.containsKey("fd_index")
                            ? Optional.of(number("twin_socket.fd_index", m.get("fd_index")))
                            : Optional.empty();
                    twin = Optional.of(new TwinSocket(Boolean.TRUE.equals(supported), fdIndex));
                }
                case "write_multiple" -> {
                    if (!(v instanceof Boolean b)) {
                        throw bad("write_multiple is not a boolean");
                    }
                    writeMultiple = b;
                }
                default -> extra.put(key, v);
            }
        }
        return new Capabilities(maxMsgFds, maxData, maxDma, pgsizes, migration, twin, writeMultiple, extra);
    }

    private static long number(String key, Object v) {
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof BigInteger) {
            throw bad(key + " " + v + " is too large");
        }
        throw bad(key + " is not an integer: " + Json.write(v instanceof Map || v instanceof java.util.List ? "(structure)" : v));
    }

    private static long positive(String key, Object v) {
        long n = number(key, v);
        if (n <= 0) {
            throw bad(key + " " + n + " must be positive");
        }
        return n;
    }

    /** The VERSION JSON for these capabilities ({@code {"capabilities":{...}}}), members in a fixed order. */
    public String toJson() {
        Map<String, Object> caps = new LinkedHashMap<>();
        caps.put("max_msg_fds", (long) maxMsgFds);
        caps.put("max_data_xfer_size", maxDataXferSize);
        caps.put("max_dma_maps", maxDmaMaps);
        caps.put("pgsizes", pgsizes);
        migration.ifPresent(m -> {
            Map<String, Object> mig = new LinkedHashMap<>();
            mig.put("pgsize", m.pgsize());
            m.maxBitmapSize().ifPresent(s -> mig.put("max_bitmap_size", s));
            caps.put("migration", mig);
        });
        twinSocket.ifPresent(t -> {
            Map<String, Object> ts = new LinkedHashMap<>();
            ts.put("supported", t.supported());
            t.fdIndex().ifPresent(i -> ts.put("fd_index", i));
            caps.put("twin_socket", ts);
        });
        if (writeMultiple) {
            caps.put("write_multiple", true);
        }
        caps.putAll(extra);
        return Json.write(Map.of("capabilities", caps));
    }
}
