package dev.jgvt.plugin.kvm.vfiouser;

import java.util.Optional;

/**
 * The vfio-user commands, one row each: number, who sends it, and the decoders of its request and reply
 * payloads (see {@link Decoders}). Command 14 (the old DIRTY_PAGES) is not part of the protocol.
 */
public enum Command {
    VERSION(1, Direction.CLIENT_TO_SERVER, Decoders::version, Decoders::version),
    DMA_MAP(2, Direction.CLIENT_TO_SERVER, Decoders::dmaMap, Decoders::empty),
    DMA_UNMAP(3, Direction.CLIENT_TO_SERVER, Decoders::dmaUnmap, Decoders::dmaUnmap),
    DEVICE_GET_INFO(4, Direction.CLIENT_TO_SERVER, Decoders::deviceInfo, Decoders::deviceInfo),
    DEVICE_GET_REGION_INFO(5, Direction.CLIENT_TO_SERVER, Decoders::regionInfoRequest, Decoders::regionInfoReply),
    DEVICE_GET_REGION_IO_FDS(6, Direction.CLIENT_TO_SERVER, Decoders::opaque, Decoders::opaque),
    DEVICE_GET_IRQ_INFO(7, Direction.CLIENT_TO_SERVER, Decoders::irqInfo, Decoders::irqInfo),
    DEVICE_SET_IRQS(8, Direction.CLIENT_TO_SERVER, Decoders::irqSet, Decoders::empty),
    REGION_READ(9, Direction.CLIENT_TO_SERVER, Decoders::regionAccessNoData, Decoders::regionAccessWithData),
    REGION_WRITE(10, Direction.CLIENT_TO_SERVER, Decoders::regionAccessWithData, Decoders::regionAccessNoData),
    DMA_READ(11, Direction.SERVER_TO_CLIENT, Decoders::dmaAccessNoData, Decoders::dmaAccessWithData),
    DMA_WRITE(12, Direction.SERVER_TO_CLIENT, Decoders::dmaAccessWithData, Decoders::dmaAccessNoData),
    DEVICE_RESET(13, Direction.CLIENT_TO_SERVER, Decoders::empty, Decoders::empty),
    REGION_WRITE_MULTI(15, Direction.CLIENT_TO_SERVER, Decoders::writeMulti, Decoders::writeMultiReply),
    DEVICE_FEATURE(16, Direction.CLIENT_TO_SERVER, Decoders::deviceFeature, Decoders::deviceFeature),
    MIG_DATA_READ(17, Direction.CLIENT_TO_SERVER, Decoders::migDataReadRequest, Decoders::migData),
    MIG_DATA_WRITE(18, Direction.CLIENT_TO_SERVER, Decoders::migData, Decoders::empty);

    /** Who sends the command (the other side replies). */
    public enum Direction {
        CLIENT_TO_SERVER,
        SERVER_TO_CLIENT
    }

    @FunctionalInterface
    interface Decoder {
        Payload decode(Wire wire);
    }

    private static final Command[] BY_NUMBER = new Command[19];

    static {
        for (Command c : values()) {
            BY_NUMBER[c.number] = c;
        }
    }

    private final int number;
    private final Direction direction;
    private final Decoder request;
    private final Decoder reply;

    Command(int number, Direction direction, Decoder request, Decoder reply) {
        this.number = number;
        this.direction = direction;
        this.request = request;
        this.reply = reply;
    }

    public int number() {
        return number;
    }

    public Direction direction() {
        return direction;
    }

    Decoder requestDecoder() {
        return request;
    }

    Decoder replyDecoder() {
        return reply;
    }

    /** The command with this number, if there is one. */
    public static Optional<Command> byNumber(int number) {
        return number >= 0 && number < BY_NUMBER.length ? Optional.ofNullable(BY_NUMBER[number]) : Optional.empty();
    }
}
