"""Tiled memory from an unmodified i915 guest, through the i915 uAPI only (Python's standard library).

For X and then Y tiling: a 64 KiB object (pitch 1024 bytes, 64 rows) is made tiled (SET_TILING), a linear
picture is written through its GTT mapping (i915 gives the mapping a fence; the vGPU detiles the trapped
aperture writes), read back through the same mapping, and its raw pages are read with PREAD and checked
dword by dword at the tiled offsets; then the blitter copies the tiled object to a linear one
(XY_SRC_COPY_BLT with BCS_SWCTRL, tiled source) and a linear one to a second tiled object
(XY_FAST_COPY_BLT, tiled destination), checked with PREAD and through the second object's GTT mapping.
Prints one line per check; exits 1 at the first mismatch.
"""
import array
import ctypes
import fcntl
import mmap
import os
import struct
import sys

SIZE, PITCH, ROWS = 65536, 1024, 64
TILING_X, TILING_Y = 1, 2


def iowr(nr, size):
    return (3 << 30) | (size << 16) | (ord('d') << 8) | (0x40 + nr)


def iow(nr, size):
    return (1 << 30) | (size << 16) | (ord('d') << 8) | (0x40 + nr)


GEM_CREATE = iowr(0x1b, 16)
GEM_PREAD = iow(0x1c, 32)
GEM_PWRITE = iow(0x1d, 32)
GEM_SET_TILING = iowr(0x21, 16)
GEM_GET_TILING = iowr(0x22, 16)
GEM_MMAP_GTT = iowr(0x24, 16)
GEM_EXECBUFFER2 = iow(0x29, 64)
GEM_WAIT = iowr(0x2c, 16)
GEM_CLOSE = (1 << 30) | (8 << 16) | (ord('d') << 8) | 0x09

fd = os.open('/dev/dri/card0', os.O_RDWR)


def ioctl(req, fmt, *values):
    buf = bytearray(struct.pack(fmt, *values))
    fcntl.ioctl(fd, req, buf, True)
    return struct.unpack(fmt, buf)


def create(size):
    return ioctl(GEM_CREATE, '<QII', size, 0, 0)[1]


def set_tiling(handle, mode, stride):
    got = ioctl(GEM_SET_TILING, '<IIII', handle, mode, stride, 0)
    tiling = ioctl(GEM_GET_TILING, '<IIII', handle, 0, 0, 0)
    return got[1], got[3], tiling[3]


def pread(handle, size):
    buf = ctypes.create_string_buffer(size)
    ioctl(GEM_PREAD, '<IIQQQ', handle, 0, 0, size, ctypes.addressof(buf))
    return buf.raw


def pwrite(handle, data):
    buf = ctypes.create_string_buffer(data, len(data))
    ioctl(GEM_PWRITE, '<IIQQQ', handle, 0, 0, len(data), ctypes.addressof(buf))


def gtt_map(handle):
    offset = ioctl(GEM_MMAP_GTT, '<IIQ', handle, 0, 0)[2]
    return mmap.mmap(fd, SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=offset)


def execbuf(objects, batch_len):
    """objects: (handle, pinned offset, write) tuples, the batch last; runs on the blitter."""
    table = b''.join(struct.pack('<IIQQQQQQ', h, 0, 0, 0, off, (1 << 4) | (1 << 3) | ((1 << 2) if w else 0), 0, 0)
                     for h, off, w in objects)
    tbuf = ctypes.create_string_buffer(table, len(table))
    ioctl(GEM_EXECBUFFER2, '<QIIIIIIQQQQ', ctypes.addressof(tbuf), len(objects), 0, batch_len, 0, 0, 0, 0,
          3 | (1 << 11), 0, 0)
    for h, _, _ in objects:
        ioctl(GEM_WAIT, '<IIq', h, 0, 10 * 10**9)


def tiled_offset(mode, x, y):
    if mode == TILING_X:
        return (y // 8) * PITCH * 8 + (x // 512) * 4096 + (y % 8) * 512 + x % 512
    return (y // 32) * PITCH * 32 + (x // 128) * 4096 + ((x % 128) // 16) * 512 + (y % 32) * 16 + x % 16


def check(name, ok):
    print('TILED-CHECK %s %s' % (name, 'ok' if ok else 'FAILED'), flush=True)
    if not ok:
        sys.exit(1)


def check_raw(name, mode, raw, picture):
    bad = 0
    for y in range(ROWS):
        for x in range(0, PITCH, 4):
            at = tiled_offset(mode, x, y)
            if raw[at:at + 4] != picture[y * PITCH + x:y * PITCH + x + 4]:
                bad += 1
    if bad:
        print('TILED-CHECK %s: %d of %d dwords not at their tiled offset' % (name, bad, SIZE // 4))
    check(name, bad == 0)


for mode, label in ((TILING_X, 'X'), (TILING_Y, 'Y')):
    picture = array.array('I', ((i * 2654435761 + mode) & 0xFFFFFFFF for i in range(SIZE // 4))).tobytes()
    tiled = create(SIZE)
    got, swizzle, phys = set_tiling(tiled, mode, PITCH)
    print('TILED-CHECK %s set_tiling mode %d swizzle %d phys_swizzle %d' % (label, got, swizzle, phys), flush=True)
    check(label + ' tiling accepted', got == mode)

    m = gtt_map(tiled)
    m[:] = picture
    check(label + ' GTT mapping reads back what it wrote', m[:] == picture)
    m.close()
    check_raw(label + ' GTT write landed tiled in the pages', mode, pread(tiled, SIZE), picture)

    linear, batch, tiled2, source = create(SIZE), create(4096), create(SIZE), create(SIZE)
    set_tiling(tiled2, mode, PITCH)
    pwrite(source, picture)
    y_bits = 3 if mode == TILING_Y else 0
    cmds = [0x11000001, 0x22200, (3 << 16) | (y_bits & 1),              # LRI BCS_SWCTRL: source Y for Y
            0x54C00000 | (3 << 20) | (1 << 15) | 8,                       # XY_SRC_COPY_BLT, source tiled
            (3 << 24) | (0xCC << 16) | PITCH, 0, (ROWS << 16) | (PITCH // 4),
            0x200000, 0, 0, PITCH // 4, 0x100000, 0,
            0x50800008 | ((2 if mode == TILING_Y else 1) << 13),          # XY_FAST_COPY_BLT, destination tiled
            (3 << 24) | (PITCH // 4), 0, (ROWS << 16) | (PITCH // 4),
            0x400000, 0, 0, PITCH, 0x500000, 0,
            0x05000000]                                                     # MI_BATCH_BUFFER_END
    cmds += [0] * (len(cmds) % 2)                                           # a whole number of qwords
    pwrite(batch, struct.pack('<%dI' % len(cmds), *cmds))
    execbuf([(tiled, 0x100000, False), (linear, 0x200000, True), (tiled2, 0x400000, True),
             (source, 0x500000, False), (batch, 0x300000, False)], 4 * len(cmds))
    check(label + ' blit from the tiled object is the picture', pread(linear, SIZE) == picture)
    check_raw(label + ' fast copy wrote the picture tiled', mode, pread(tiled2, SIZE), picture)
    m = gtt_map(tiled2)
    check(label + ' GTT mapping of the fast copy reads the picture', m[:] == picture)
    m.close()
    for h in (tiled, linear, batch, tiled2, source):
        ioctl(GEM_CLOSE, '<II', h, 0)

print('TILED-CHECK all ok', flush=True)
