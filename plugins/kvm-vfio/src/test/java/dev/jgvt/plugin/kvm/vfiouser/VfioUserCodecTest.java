package dev.jgvt.plugin.kvm.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jgvt.plugin.kvm.vfiouser.Payload.DeviceFeature;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DeviceInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaAccess;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaMap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.DmaUnmap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.IrqSet;
import dev.jgvt.plugin.kvm.vfiouser.Payload.MigData;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionAccess;
import dev.jgvt.plugin.kvm.vfiouser.Payload.RegionInfo;
import dev.jgvt.plugin.kvm.vfiouser.Payload.SparseMmap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.TypeCap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.UnknownCap;
import dev.jgvt.plugin.kvm.vfiouser.Payload.Version;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteMulti;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteMultiReply;
import dev.jgvt.plugin.kvm.vfiouser.Payload.WriteRecord;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

final class VfioUserCodecTest {
    private static final VfioUserCodec CODEC = new VfioUserCodec();

    private static void assertProtocolError(ThrowingCallable call, String fragment) {
        assertThatThrownBy(call).isInstanceOfSatisfying(GvtException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL_ERROR);
            assertThat(e.getMessage()).contains(fragment);
        });
    }

    private static byte[] message(int id, int cmd, int flags, int error, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(16 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) id).putShort((short) cmd).putInt(16 + payload.length).putInt(flags).putInt(error).put(payload);
        return b.array();
    }

    private static byte[] le(Object... fields) {
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        for (Object f : fields) {
            switch (f) {
                case Integer i -> b.putInt(i);
                case Long l -> b.putLong(l);
                case Short s -> b.putShort(s);
                case byte[] bytes -> b.put(bytes);
                default -> throw new IllegalArgumentException(String.valueOf(f));
            }
        }
        return Arrays.copyOf(b.array(), b.position());
    }

    private static Message roundTrip(Message m) {
        byte[] bytes = VfioUserCodec.encode(m);
        Message back = CODEC.decode(bytes);
        assertThat(VfioUserCodec.encode(back)).isEqualTo(bytes);
        return back;
    }

    static Stream<Message> everyShape() {
        Header req = new Header(7, 13, 16, 0, 0);
        return Stream.of(
                Message.command(1, Command.VERSION, new Version(0, 2, Optional.of("{\"capabilities\":{\"write_multiple\":true}}"))),
                Message.command(1, Command.VERSION, new Version(0, 0, Optional.empty())),
                Message.command(2, Command.DMA_MAP, new DmaMap(32, 3, 0, 0x10_0000, 0x20_0000)),
                Message.reply(new Header(2, 2, 48, 0, 0), Payload.Empty.INSTANCE),
                Message.command(3, Command.DMA_UNMAP, new DmaUnmap(24, DmaUnmap.FLAG_ALL, 0, 0)),
                Message.command(3, Command.DMA_UNMAP, new DmaUnmap(48, DmaUnmap.FLAG_GET_DIRTY_BITMAP, 0x1000, 0x1000,
                        new byte[] {0, 16, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0})),
                Message.reply(new Header(3, 3, 40, 0, 0), new DmaUnmap(24, 0, 0x1000, 0x1000)),
                Message.command(4, Command.DEVICE_GET_INFO, new DeviceInfo(16, 0, 0, 0)),
                Message.reply(new Header(5, 5, 48, 0, 0), new RegionInfo(72, 0xF, 9, 0x1000, 0, List.of(
                        new TypeCap(1, 0x8086_0000 | 3, 1), new SparseMmap(1, List.of(new SparseMmap.Area(0, 0x1000)))))),
                Message.reply(new Header(5, 5, 48, 0, 0), new RegionInfo(48, 0x9, 10, 0x80, 0, List.of(
                        new UnknownCap(0x77, 2, new byte[] {1, 2, 3, 4, 5, 6, 7, 8})))),
                Message.reply(new Header(6, 7, 32, 0, 0), new IrqInfo(16, 1, 1, 1)),
                Message.command(8, Command.DEVICE_SET_IRQS, new IrqSet(22, IrqSet.DATA_BOOL | IrqSet.ACTION_TRIGGER, 1, 0, 2,
                        new byte[] {1, 0})),
                Message.command(8, Command.DEVICE_SET_IRQS, new IrqSet(20, IrqSet.DATA_NONE | IrqSet.ACTION_TRIGGER, 1, 0, 0,
                        new byte[0])),
                Message.command(9, Command.REGION_READ, new RegionAccess(0x2000, 0, 4)),
                Message.reply(new Header(9, 9, 32, 0, 0), new RegionAccess(0x2000, 0, 4, new byte[] {1, 2, 3, 4})),
                Message.command(10, Command.REGION_WRITE, new RegionAccess(8, 0, 8, new byte[8])),
                Message.reply(new Header(10, 10, 40, 0, 0), new RegionAccess(8, 0, 8)),
                Message.command(11, Command.DMA_READ, new DmaAccess(0x1000, 3)),
                Message.reply(new Header(11, 11, 32, 0, 0), new DmaAccess(0x1000, 3, new byte[] {9, 8, 7})),
                Message.command(12, Command.DMA_WRITE, new DmaAccess(0x1000, 2, new byte[] {5, 6})),
                Message.command(13, Command.DEVICE_RESET, Payload.Empty.INSTANCE),
                Message.command(15, Command.REGION_WRITE_MULTI, new WriteMulti(List.of(
                        new WriteRecord(0x100, 0, 4, 0xDEADBEEFL), new WriteRecord(0x2000, 2, 8, -1L)))),
                Message.reply(new Header(15, 15, 64, 0, 0), new WriteMultiReply(2)),
                Message.command(16, Command.DEVICE_FEATURE, new DeviceFeature(16, (1 << 17) | 2, new byte[] {2, 0, 0, 0, -1, -1, -1, -1})),
                Message.command(17, Command.MIG_DATA_READ, new MigData(1032, 1024, new byte[0])),
                Message.command(18, Command.MIG_DATA_WRITE, new MigData(12, 4, new byte[] {1, 2, 3, 4})),
                Message.command(19, Command.DEVICE_GET_REGION_IO_FDS, new Payload.Opaque(new byte[16])),
                Message.errorReply(req, 22));
    }

    @ParameterizedTest
    @MethodSource("everyShape")
    void everyPayloadShapeRoundTrips(Message m) {
        Message back = roundTrip(m);
        assertThat(back.header()).isEqualTo(m.header());
        assertThat(back.payload().getClass()).isEqualTo(m.payload().getClass());
    }

    @Test
    void regionInfoCapsAreChainedFromOffset32() {
        RegionInfo info = new RegionInfo(72, 0xF, 9, 0x1000, 0, List.of(new TypeCap(1, 0x80868086, 1),
                new SparseMmap(1, List.of(new SparseMmap.Area(0, 0x1000)))));
        byte[] bytes = VfioUserCodec.encode(Message.reply(new Header(1, 5, 48, 0, 0), info));
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(16 + 12)).as("cap_offset").isEqualTo(32);
        assertThat(b.getShort(16 + 32)).as("first cap id").isEqualTo((short) TypeCap.ID);
        assertThat(b.getInt(16 + 36)).as("first cap next").isEqualTo(48);
        assertThat(b.getShort(16 + 48)).as("second cap id").isEqualTo((short) SparseMmap.ID);
        assertThat(b.getInt(16 + 52)).as("second cap next").isZero();
        assertThat(bytes).hasSize(16 + 32 + 16 + 32);
        assertThat(((RegionInfo) CODEC.decode(bytes).payload()).caps()).isEqualTo(info.caps());
        // the sparse-mmap capability's reserved dword (after nr_areas) must be 0: rejected, never re-encoded as 0
        b.putInt(16 + 48 + 12, 0x100);
        assertProtocolError(() -> CODEC.decode(bytes), "sparse_mmap.reserved is 0x100, must be 0");
    }

    @Test
    void shortHeadersAreRejected() {
        assertProtocolError(() -> CODEC.decode(new byte[10]), "header: 10 bytes, need 16");
        assertProtocolError(() -> CODEC.decodeHeader(new byte[16], 0, 15), "need 16");
    }

    @Test
    void lyingSizeFieldsAreRejected() {
        byte[] m = message(1, 13, 0, 0, new byte[0]);
        ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 8);
        assertProtocolError(() -> CODEC.decode(m), "header.size 8 is smaller than the 16-byte header");
        ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 40);
        assertProtocolError(() -> CODEC.decode(m), "truncated message: header.size 40 but only 16 bytes");
        byte[] longer = Arrays.copyOf(message(1, 13, 0, 0, new byte[0]), 20);
        assertProtocolError(() -> CODEC.decode(longer), "4 bytes beyond header.size 16");
    }

    @Test
    void oversizeMessagesAreRejectedFromTheHeader() {
        byte[] h = message(1, 10, 0, 0, new byte[0]);
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putInt(4, (1 << 20) + 33);
        assertProtocolError(() -> CODEC.decodeHeader(h, 0, 16), "header.size 1048609 exceeds the limit of 1048608");
        ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).putInt(4, -1);
        assertProtocolError(() -> CODEC.decodeHeader(h, 0, 16), "exceeds the limit");
        assertProtocolError(() -> new VfioUserCodec(64).decode(message(1, 10, 0, 0, new byte[64])), "exceeds the limit of 64");
    }

    @Test
    void flagsAndCommandsAreChecked() {
        assertProtocolError(() -> CODEC.decode(message(1, 13, 0x40, 0, new byte[0])), "header.flags 0x40 has unknown bits");
        assertProtocolError(() -> CODEC.decode(message(1, 13, 2, 0, new byte[0])), "header.flags type 2");
        assertProtocolError(() -> CODEC.decode(message(1, 14, 0, 0, new byte[0])), "header.command 14 is not a vfio-user command");
        assertProtocolError(() -> CODEC.decode(message(1, 99, 0, 0, new byte[0])), "header.command 99");
        assertProtocolError(() -> CODEC.decode(message(1, 13, 0x20, 22, new byte[0])), "ERROR flag is only valid in a reply");
        assertProtocolError(() -> CODEC.decode(message(1, 9, 0x21, 22, new byte[4])), "an error reply carries no payload");
        assertThat(CODEC.decode(message(1, 13, 0x10, 0, new byte[0])).header().noReply()).isTrue();
    }

    @Test
    void versionJsonMustBeNulTerminatedUtf8AndValid() {
        assertProtocolError(() -> CODEC.decode(message(1, 1, 0, 0, le((short) 0, (short) 2, "{}".getBytes()))),
                "json is not NUL-terminated");
        assertProtocolError(() -> CODEC.decode(message(1, 1, 0, 0, le((short) 0, (short) 2, new byte[] {'{', 0, '}', 0}))),
                "NUL byte at offset 1");
        assertProtocolError(() -> CODEC.decode(message(1, 1, 0, 0, le((short) 0, (short) 2, new byte[] {(byte) 0xC3, 0}))),
                "not valid UTF-8");
        assertProtocolError(() -> CODEC.decode(message(1, 1, 0, 0, le((short) 0, (short) 2, "{\"capabilities\":[1]}\0".getBytes()))),
                "capabilities is not an object");
        assertProtocolError(() -> CODEC.decode(message(1, 1, 0, 0, le((short) 0, (short) 2, "{oops}\0".getBytes()))),
                "JSON at offset 1");
        assertProtocolError(() -> CODEC.decode(message(1, 1, 0, 0, new byte[3])), "VERSION request id 1: minor needs 2 bytes");
    }

    @Test
    void fixedStructsNameTheFieldThatIsShort() {
        assertProtocolError(() -> CODEC.decode(message(5, 2, 0, 0, le(32, 3, 0L, 0L))), "DMA_MAP request id 5: size needs 8 bytes");
        assertProtocolError(() -> CODEC.decode(message(5, 2, 0, 0, le(16, 3, 0L, 0L, 0L))), "argsz 16 is smaller than the 32-byte");
        assertProtocolError(() -> CODEC.decode(message(5, 2, 0, 0, le(32, 3, 0L, 0L, 0L, 0))), "4 unexpected bytes after the dma_map");
        assertProtocolError(() -> CODEC.decode(message(5, 3, 0, 0, le(24, 0, 0L))), "DMA_UNMAP request id 5: size needs 8 bytes");
        assertProtocolError(() -> CODEC.decode(message(5, 7, 0, 0, le(16, 0, 0))), "count needs 4 bytes");
    }

    @Test
    void paddingIsAcceptedOnlyWhenZeroAndWithinArgsz() {
        Message padded = CODEC.decode(message(5, 5, 0, 0, le(48, 0, 1, 0, 0L, 0L, new byte[16])));
        assertThat(padded.header().size()).isEqualTo(64);
        assertThat(VfioUserCodec.encode(padded)).hasSize(64);
        assertProtocolError(() -> CODEC.decode(message(5, 5, 0, 0, le(32, 0, 1, 0, 0L, 0L, new byte[16]))),
                "payload 48 > argsz 32");
        assertProtocolError(() -> CODEC.decode(message(5, 5, 0, 0, le(48, 0, 1, 0, 0L, 0L, new byte[15], new byte[] {1}))),
                "non-zero padding byte at payload offset 47");
        assertProtocolError(() -> CODEC.decode(message(5, 5, 0, 0, le(32, 0, 1, 8, 0L, 0L))), "cap_offset 8 in a request must be 0");
    }

    @Test
    void capabilityChainsAreBoundsChecked() {
        byte[] head = le(80, 0xF, 1, 32, 0x3000L, 0L);
        assertProtocolError(() -> CODEC.decode(message(5, 5, 1, 0, le(80, 0xF, 1, 200, 0x3000L, 0L, new byte[8]))),
                "cap_offset 200 outside 32..32");
        assertProtocolError(() -> CODEC.decode(message(5, 5, 1, 0, le(head, (short) 1, (short) 1, 0, 5, 0, 0L, 0L))),
                "sparse_mmap.nr_areas 5 does not fit");
        assertProtocolError(() -> CODEC.decode(message(5, 5, 1, 0, le(head, (short) 2, (short) 1, 32, 0, 0))),
                "next 32 must be 0 or a later offset");
        assertProtocolError(() -> CODEC.decode(message(5, 5, 1, 0, le(head, (short) 2, (short) 1, 0, 1))),
                "type.subtype needs 4 bytes");
        assertProtocolError(() -> CODEC.decode(message(5, 5, 1, 0, le(head, (short) 2, (short) 1, 56, 1, 2, 0L,
                (short) 2, (short) 1, 0, 3, 4))), "cap 2 at 32 is 16 bytes but next is at 56");
    }

    @Test
    void dataCountsMustMatchTheBytesPresent() {
        assertProtocolError(() -> CODEC.decode(message(1, 10, 0, 0, le(0L, 0, 8, new byte[4]))), "count 8 but 4 data bytes follow");
        assertProtocolError(() -> CODEC.decode(message(1, 9, 1, 0, le(0L, 0, 2, new byte[4]))), "count 2 but 4 data bytes follow");
        assertProtocolError(() -> CODEC.decode(message(1, 9, 0, 0, le(0L, 0, 4, new byte[4]))), "4 unexpected bytes");
        assertProtocolError(() -> CODEC.decode(message(1, 12, 0, 0, le(0L, -1L))), "count 18446744073709551615 but 0 data bytes");
        assertProtocolError(() -> CODEC.decode(message(1, 11, 1, 0, le(0L, 16L, new byte[8]))), "count 16 but 8 data bytes");
        assertProtocolError(() -> CODEC.decode(message(1, 17, 1, 0, le(16, 9, new byte[8]))), "size 9 but only 8 data bytes");
    }

    @Test
    void setIrqsIsValidatedLikeTheKernel() {
        assertProtocolError(() -> CODEC.decode(message(1, 8, 0, 0, le(24, 0x24, 1, 0, 1))), "argsz 24 but the payload has 20 bytes");
        assertProtocolError(() -> CODEC.decode(message(1, 8, 0, 0, le(20, 0x26, 1, 0, 1))), "exactly one DATA and one ACTION bit");
        assertProtocolError(() -> CODEC.decode(message(1, 8, 0, 0, le(20, 0x04, 1, 0, 1))), "exactly one DATA and one ACTION bit");
        assertProtocolError(() -> CODEC.decode(message(1, 8, 0, 0, le(20, 0x64, 1, 0, 1))), "unknown bits");
        assertProtocolError(() -> CODEC.decode(message(1, 8, 0, 0, le(21, 0x22, 1, 0, 2, new byte[1]))),
                "count 2 needs 2 data bytes but 1 follow");
        assertProtocolError(() -> CODEC.decode(message(1, 8, 0, 0, le(24, 0x24, 1, 0, 1, 5))), "needs 0 data bytes but 4 follow");
    }

    @Test
    void writeMultiCountsAndSizesAreChecked() {
        byte[] rec = le(0L, 0, 4, 0L);
        assertProtocolError(() -> CODEC.decode(message(1, 15, 0, 0, le(2L, rec))), "wr_cnt 2 but 24 record bytes follow");
        assertProtocolError(() -> CODEC.decode(message(1, 15, 0, 0, le(0L))), "wr_cnt 0");
        assertProtocolError(() -> CODEC.decode(message(1, 15, 0, 0, le(1L, 0L, 0, 9, 0L))), "write 0: count 9 outside 1..8");
        assertProtocolError(() -> CODEC.decode(message(1, 15, 0, 0, le(1L, rec, new byte[3]))), "27 record bytes");
    }

    @Test
    void headerEncodingIsLittleEndianAndExact() {
        byte[] bytes = VfioUserCodec.encode(Message.errorReply(new Header(0xf00f, 9, 32, 0, 0), 22));
        assertThat(HexFormat.of().formatHex(bytes)).isEqualTo("0ff0090010000000210000001600000" + "0");
    }

    @Test
    void messageSizeMustHoldThePayload() {
        assertThatThrownBy(() -> new Message(new Header(1, 9, 20, 0, 0), new RegionAccess(0, 0, 0)))
                .isInstanceOfSatisfying(GvtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void randomBytesNeverEscapeAsAnythingButProtocolErrors(long seed) {
        Random rnd = new Random(seed);
        for (int i = 0; i < 3000; i++) {
            int len = 16 + rnd.nextInt(80);
            byte[] payload = new byte[len - 16];
            rnd.nextBytes(payload);
            if (rnd.nextBoolean()) {
                Arrays.fill(payload, rnd.nextInt(payload.length + 1), payload.length, (byte) 0);
            }
            byte[] bytes = message(rnd.nextInt(65536), 1 + rnd.nextInt(18), rnd.nextInt(4) == 0 ? 0x21 : rnd.nextInt(2), 0,
                    payload);
            try {
                Message m = CODEC.decode(bytes);
                assertThat(VfioUserCodec.encode(m)).as("seed " + seed + " case " + i).isEqualTo(bytes);
            } catch (GvtException e) {
                assertThat(e.code()).as("seed " + seed + " case " + i + ": " + e.getMessage()).isEqualTo(ErrorCode.PROTOCOL_ERROR);
            }
        }
    }
}
