package dev.jgvt.plugin.kvm.os;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

final class SharedMemoryTest {
    private static final int RW = Libc.PROT_READ | Libc.PROT_WRITE;

    @Test
    void twoMappingsOfTheSameMemfdShowTheSameBytes() {
        try (SharedMemory mem = SharedMemory.create("jgvt-test", 3 * 4096);
                SharedMemory.Mapping a = mem.map(RW);
                SharedMemory.Mapping b = mem.map(RW)) {
            assertThat(a.segment().address()).isNotEqualTo(b.segment().address());
            assertThat(b.segment().get(JAVA_LONG, 8192)).isZero();
            a.segment().set(JAVA_LONG, 8192, 0x1122334455667788L);
            assertThat(b.segment().get(JAVA_LONG, 8192)).isEqualTo(0x1122334455667788L);
            b.segment().set(JAVA_LONG, 0, -5L);
            assertThat(a.segment().get(JAVA_LONG, 0)).isEqualTo(-5L);
        }
    }

    @Test
    void anOffsetMappingSeesTheFileAtThatOffset() {
        try (SharedMemory mem = SharedMemory.create("jgvt-test", 4 * 4096);
                SharedMemory.Mapping whole = mem.map(RW);
                SharedMemory.Mapping part = mem.map(2 * 4096, 4096, Libc.PROT_READ)) {
            whole.segment().set(JAVA_LONG, 2 * 4096 + 16, 99L);
            assertThat(part.segment().byteSize()).isEqualTo(4096);
            assertThat(part.segment().get(JAVA_LONG, 16)).isEqualTo(99L);
        }
    }

    @Test
    void writesAreVisibleThroughTheFdItself() {
        try (SharedMemory mem = SharedMemory.create("jgvt-test", 4096);
                SharedMemory.Mapping m = mem.map(RW);
                Arena arena = Arena.ofConfined()) {
            m.segment().set(JAVA_LONG, 64, 0xCAFEL);
            MemorySegment buf = arena.allocate(8);
            assertThat(Libc.pread(mem.fd(), buf, 64)).isEqualTo(8);
            assertThat(buf.get(JAVA_LONG, 0)).isEqualTo(0xCAFEL);
        }
    }

    @Test
    void aClosedMappingCannotBeAccessed() {
        try (SharedMemory mem = SharedMemory.create("jgvt-test", 4096)) {
            SharedMemory.Mapping m = mem.map(RW);
            MemorySegment seg = m.segment();
            m.close();
            m.close();
            assertThatThrownBy(() -> seg.get(JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void misalignedOffsetIsRejectedBeforeTheKernel() {
        try (SharedMemory mem = SharedMemory.create("jgvt-test", 8192)) {
            assertThatThrownBy(() -> mem.map(100, 4096, RW)).hasMessageContaining("offset 100");
        }
    }
}
