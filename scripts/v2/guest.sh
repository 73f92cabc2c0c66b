#!/bin/sh
# Stage 2 of the cgroup v2 test VM, PID 1 on the overlay root (the host's / read-only + tmpfs).
# Sets up a cgroup-v2-only userspace the way systemd leaves one (cgroup2 alone on
# /sys/fs/cgroup, nsdelegate, every controller enabled for the root's children, this shell in
# /init.scope), copies the packed project into guest memory, runs the chosen vitest suites and
# writes their exit code to <run>/exit-code on the read-write share. Then powers off; if this
# script dies instead, the kernel panics and QEMU (-no-reboot) exits with no exit code written.
run=$1
export NO_COLOR=1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true TERM=dumb
say() { echo "guest: $*"; }
off() {
  sync
  umount "$run" 2>/dev/null
  exec busybox poweroff -f
}
die() {
  say "$*"
  off
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup || die "cannot mount cgroup2"
# Read through the host's root before fresh tmpfs mounts hide /tmp, /run, /var/lib.
. "$run/job.env" || die "no $run/job.env"
export BERTH_V2_MODULE_CACHE
# The guest kernel's own modules (the host's /lib/modules belongs to the host kernel).
mkdir -p "/lib/modules/$(uname -r)" && mount --bind "$V2_KDIR/lib/modules/$(uname -r)" "/lib/modules/$(uname -r)" || die "cannot bind the guest kernel's modules"
# Fresh state dirs: none of the host's sockets, pid files, CNI or runc state leak in.
for d in /tmp /run /var/tmp /var/lib; do mount -t tmpfs -o mode=0755 tmpfs "$d"; done
chmod 1777 /tmp /var/tmp
mkdir -p "$run" && mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 run "$run" || die "cannot mount the run dir share"
hostname berth-v2
ip link set lo up
busybox modprobe virtio_blk || say "no virtio_blk: block I/O statistics will have no device"

# What systemd does on a v2 host: controllers delegated from the root, processes in leaves.
ctrls=$(sed 's/\([^ ]*\)/+\1/g' /sys/fs/cgroup/cgroup.controllers)
echo "$ctrls" >/sys/fs/cgroup/cgroup.subtree_control || die "cannot enable $ctrls in the root cgroup"
mkdir /sys/fs/cgroup/init.scope && echo $$ >/sys/fs/cgroup/init.scope/cgroup.procs

# Small files over 9p are slow: unpack the project into guest memory at its host path.
t0=$(cut -d' ' -f1 /proc/uptime)
mkdir -p "$V2_REPO" && mount -t tmpfs -o mode=0755 tmpfs "$V2_REPO" && tar -xf "$run/payload.tar" -C "$V2_REPO" || die "cannot unpack the project"
t1=$(cut -d' ' -f1 /proc/uptime)
say "kernel $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control); booted in ${t0}s, project unpacked in $(echo "$t1 $t0" | awk '{ printf "%.1f", $1 - $2 }')s"
echo "$t0" >"$run/boot-seconds"

cd "$V2_REPO" || die "no $V2_REPO"
# The suites get the guest's time budget; `timeout` leaves a little for reporting back.
# shellcheck disable=SC2086 # V2_ARGS is a word list written by the host
{
  timeout -k 10 "$V2_GUEST_TIMEOUT" node node_modules/vitest/vitest.mjs run --config test/v2/vitest.config.ts $V2_ARGS
  echo $? >"$run/exit-code.tmp"
} 2>&1 | tee "$run/vitest.log"
[ -f "$run/exit-code.tmp" ] && mv "$run/exit-code.tmp" "$run/exit-code"
off
