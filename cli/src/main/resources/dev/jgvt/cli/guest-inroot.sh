#!/bin/sh
# inroot COMMAND [ARG...]: runs COMMAND in the Debian root the host shares read-only over 9p
# (gvt qemu --share-root), with /proc, /sys, debugfs, /dev and a writable /tmp and /run mounted in it.
if [ ! -d /mnt/root/usr/bin ]; then
  echo "inroot: no shared root (boot with gvt qemu --share-root)" >&2
  exit 127
fi
exec chroot /mnt/root /usr/bin/env PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp "$@"
