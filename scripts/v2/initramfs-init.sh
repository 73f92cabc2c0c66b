#!/bin/busybox sh
# /init of the cgroup v2 test VM's initramfs (static busybox, run by Debian's stock kernel).
# Mounts the host's / (9p tag "hostroot", read-only) under a tmpfs overlay, so the guest
# runs the host's own node, runc and shim with writes kept in guest memory, then hands over
# to scripts/v2/guest.sh on that root. The kernel command line names it:
#   berth.guest=<path of guest.sh>  berth.run=<host run dir, shared read-write as tag "run">
# If anything fails the VM powers off at once; the host sees no exit-code file.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

fail() {
  echo "initramfs: $*" >/dev/console
  poweroff -f
}

while read -r m; do insmod "/lib/modules/$m.ko" || fail "insmod $m failed"; done </lib/modules/load-order

guest=
run=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    berth.guest=*) guest=${arg#berth.guest=} ;;
    berth.run=*) run=${arg#berth.run=} ;;
  esac
done
[ -n "$guest" ] && [ -n "$run" ] || fail "berth.guest= and berth.run= must be on the kernel command line"

# cache=loose: the host's root does not change under the guest during a run that matters to it.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=524288 hostroot /lower || fail "cannot mount the host root (9p)"
mount -t tmpfs -o mode=0755 tmpfs /rw || fail "tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || fail "overlay root"
# runc needs a real root to pivot_root from: switch_root onto the overlay.
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /bin/sh "$guest" "$run"
