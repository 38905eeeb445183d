#!/bin/sh
# /init of the initramfs `gvt qemu` builds (docs/linux-guest.md). /jgvt/config, written per run, sets
# DEPS (i915's dependencies in load order), I915, LOAD_I915, SHARE_MODULES and SHARE_ROOT. Lines starting
# with "jgvt-" are markers the host parses; "jgvt-mark:" lines go through /dev/kmsg, so dmesg timestamps them.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
. /jgvt/config
mark() { echo "jgvt-mark: $*" > /dev/kmsg; }
mark "init"
for m in $DEPS; do
  insmod "/lib/modules/$m" || mark "insmod-failed $m"
done
if [ "$LOAD_I915" = 1 ]; then
  mark "insmod-i915-begin"
  insmod "/lib/modules/$I915"
  mark "insmod-i915-end status=$?"
fi
if [ "$SHARE_ROOT" = 1 ]; then
  for m in $SHARE_MODULES; do
    insmod "/lib/modules/$m" || mark "insmod-failed $m"
  done
  r=/mnt/root
  if mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose jgvtroot $r; then
    mount -t proc proc $r/proc && mount -t sysfs sysfs $r/sys && mount -t debugfs debugfs $r/sys/kernel/debug \
      && mount -t devtmpfs devtmpfs $r/dev && mount -t tmpfs tmpfs $r/tmp && mount -t tmpfs tmpfs $r/run \
      && mark "root-shared" || mark "root-share-failed"
  else
    mark "root-share-failed"
  fi
fi
worst=0
for f in /jgvt/cmd/*; do
  [ -f "$f" ] || continue
  n=${f##*/}
  echo "jgvt-cmd-begin $n"
  sh "$f"
  st=$?
  echo "jgvt-cmd-end $n status=$st"
  [ "$worst" = 0 ] && worst=$st
done
dmesg -n 1
for w in /sys/kernel/debug/dri/*/i915_wedged; do
  [ -f "$w" ] && echo "jgvt-wedged: $(cat "$w")" && break
done
echo "jgvt-dmesg-begin"
dmesg
echo "jgvt-dmesg-end"
echo "jgvt-exit status=$worst"
sync
poweroff -f
