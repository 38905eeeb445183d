# Vblank intervals of one pipe as a guest program sees them (LinuxDisplayIT; docs/linux-guest.md).
# usage: python3 vblank-intervals.py PIPE COUNT
# Waits COUNT times for the pipe's next vblank (DRM_IOCTL_WAIT_VBLANK, relative 1, blocking) and prints one line:
# the vblanks missed (sequence gaps), the mean period from the first to the last vblank timestamp, and the
# spread of the intervals between consecutive vblank timestamps (the kernel's, derived from the scan line) and
# between the moments this program got them (CLOCK_MONOTONIC; includes the guest's interrupt and scheduling delay).
import fcntl
import os
import struct
import sys
import time

WAIT_VBLANK = 0xC018643A  # _IOWR('d', 0x3a, 24-byte union drm_wait_vblank)
RELATIVE = 0x1
SECONDARY = 0x20000000
HIGH_CRTC_SHIFT = 1
HIGH_CRTC_MASK = 0x3E

pipe = int(sys.argv[1])
count = int(sys.argv[2])
card = os.open('/dev/dri/card0', os.O_RDWR)
if pipe == 1:
    kind = RELATIVE | SECONDARY
else:
    kind = RELATIVE | ((pipe << HIGH_CRTC_SHIFT) & HIGH_CRTC_MASK)


def next_vblank():
    req = bytearray(struct.pack('IIQQ', kind, 1, 0, 0))
    fcntl.ioctl(card, WAIT_VBLANK, req, True)
    _, seq, sec, usec = struct.unpack('IIqq', req)
    return seq, sec + usec / 1e6, time.monotonic()


def spread(values):
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    return 'mean %.4f sd %.4f min %.4f max %.4f' % (mean, sd, min(values), max(values))


next_vblank()
seen = [next_vblank() for _ in range(count)]
stamps, receipts, missed = [], [], 0
for (s0, t0, r0), (s1, t1, r1) in zip(seen, seen[1:]):
    frames = (s1 - s0) & 0xFFFFFFFF
    missed += frames - 1
    stamps.append((t1 - t0) / frames * 1e3)
    if frames == 1:
        receipts.append((r1 - r0) * 1e3)
frames = (seen[-1][0] - seen[0][0]) & 0xFFFFFFFF
period = (seen[-1][1] - seen[0][1]) / frames * 1e3
print('vblank-intervals pipe=%d count=%d missed=%d period=%.5f ms; timestamps (ms): %s; received (ms, %d consecutive): %s'
      % (pipe, count, missed, period, spread(stamps), len(receipts), spread(receipts) if receipts else '-'))
