#!/usr/bin/env bash
# npm run test:v2 — run the cgroup v2 suites on a real cgroup-v2-only kernel under QEMU.
#
# Boots Debian 12's stock generic amd64 kernel (fetched by scripts/v2/kernel.sh, cached) with
# software emulation (TCG: this host's /dev/kvm cannot run a stock guest), the host's own /
# shared read-only as the guest root and a per-run directory shared read-write; the built
# project is packed into that directory and unpacked into guest memory; scripts/v2/guest.sh
# runs vitest with test/v2/vitest.config.ts (the suites listed there, or the files given here)
# and writes the exit code back. This script prints the guest console (vitest's output and
# summary), exits with the suites' exit code, 1 when the VM never reported one, and always
# kills QEMU and removes the run directory. It mounts nothing on the host.
#
#   npm run test:v2                                     every suite in test/v2/vitest.config.ts
#   npm run test:v2 -- test/integration/cgroups/knobs   a chosen suite (vitest filters)
# Environment: BERTH_V2_TIMEOUT (hard limit for the whole VM, seconds, default 540),
#   BERTH_V2_SMP (vCPUs, default 2), BERTH_V2_MEM (default 3G), BERTH_V2_KEEP=1 (keep the run
#   dir: console.log, vitest.log), BERTH_V2_CACHE (kernel cache, default /var/cache/berth/v2).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/v2/kernel.sh
. "$REPO/scripts/v2/kernel.sh"

TIMEOUT=${BERTH_V2_TIMEOUT:-540}
SMP=${BERTH_V2_SMP:-2}
MEM=${BERTH_V2_MEM:-3G}
START=$(date +%s.%N)
elapsed() { awk -v s="$START" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }'; }

[ "$(id -u)" = 0 ] || { v2_log "run as root (the guest mounts, cgroups and runc need it; QEMU shares / with passthrough)"; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { v2_log "qemu-system-x86_64 is missing: apt-get install qemu-system-x86 (scripts/setup.sh does)"; exit 1; }

RUN=
PIPE_PID=
# Stop what runs the VM: `timeout` (it passes TERM on to QEMU), then QEMU by its pidfile.
stop_vm() {
  local p pids=()
  for f in "$RUN/timeout.pid" "$RUN/qemu.pid"; do [ -s "$f" ] && pids+=("$(cat "$f")"); done
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && { v2_log "stopping QEMU (pid $p)"; kill -TERM "$p" 2>/dev/null || true; }; done
  for _ in $(seq 1 50); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$RUN" ] && [ -d "$RUN" ]; then stop_vm; fi
  [ -n "$PIPE_PID" ] && wait "$PIPE_PID" 2>/dev/null || true
  if [ -n "$RUN" ] && [ -d "$RUN" ]; then
    if [ "${BERTH_V2_KEEP:-}" = 1 ]; then v2_log "kept $RUN"; else rm -rf "$RUN"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. The project, built (berthd runs from dist/ in the pod suite).
stale=$( [ -f "$REPO/dist/src/daemon/main.js" ] && find "$REPO/src" "$REPO/proto" -newer "$REPO/dist/src/daemon/main.js" \( -name '*.ts' -o -name '*.proto' \) -print -quit || echo missing)
if [ -n "$stale" ]; then
  v2_log "building the project (dist/ is older than $stale)"
  # Like test/global-setup.ts: emit even with type errors elsewhere (CI type-checks strictly).
  (cd "$REPO" && { npx tsc -p tsconfig.build.json >/dev/null || v2_log "tsc reported type errors (emitted anyway)"; } && node scripts/postbuild.mjs)
fi

# 2. The kernel and initramfs (cached after the first run).
KDIR=$(v2_kernel)
v2_log "kernel $(cat "$KDIR/release") from $KDIR ($(elapsed)s)"

# 3. The run directory, shared read-write with the guest at the same path.
RUN=$(mktemp -d /tmp/berth-v2.XXXXXX)
chmod 755 "$RUN"

# 4. vitest's transformed modules, made here into the run dir (transforming the generated CRI
# types alone takes ~20 s under emulation). `vitest list` only collects: no test runs.
export BERTH_V2_MODULE_CACHE=$RUN/vitest-cache
(cd "$REPO" && npx vitest list --config test/v2/vitest.config.ts "$@" >/dev/null 2>&1) \
  || v2_log "vitest list found no suite or failed on the host; the VM's vitest will report it"

# 5. The project for the guest, and its job.
# A small scratch disk (/dev/vda in the guest) so block I/O statistics have a real device.
truncate -s 16M "$RUN/disk.img"
# Everything vitest and the suites load: sources, tests, the build, and node_modules without
# the code generators and compilers that only the host's build uses.
tar -C "$REPO" -cf "$RUN/payload.tar" \
  --exclude='node_modules/typescript' --exclude='node_modules/@bufbuild/buf*' --exclude='node_modules/dprint-node' \
  --exclude='node_modules/ts-proto*' --exclude='node_modules/@types' --exclude='node_modules/.cache' \
  --exclude='*.map' --exclude='*.d.ts' --exclude='*.md' \
  package.json tsconfig.json src test dist node_modules
{
  echo "V2_REPO='$REPO'"
  echo "V2_KDIR='$KDIR'"
  echo "BERTH_V2_MODULE_CACHE='$BERTH_V2_MODULE_CACHE'"
  echo "V2_GUEST_TIMEOUT=$((TIMEOUT > 120 ? TIMEOUT - 45 : TIMEOUT * 3 / 4))"
  printf "V2_ARGS='%s'\n" "$*"
} >"$RUN/job.env"
v2_log "payload $(du -h "$RUN/payload.tar" | cut -f1) in $RUN; booting the VM (TCG, $SMP vCPUs, $MEM; hard limit ${TIMEOUT}s)"

# 6. The VM. Its serial console is this script's output; -no-reboot + panic=-1 turn any
# guest failure into a QEMU exit; `timeout` is the hard limit. cgroup_no_v1=all: v2 only.
# apparmor=0: like this host; with AppArmor on, berthd asks runc for a "berth-default"
# profile that nothing loads, and every unprivileged container fails to start.
{
  timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -name berth-v2 -nodefaults -no-user-config \
    -accel tcg,thread=multi -cpu max -smp "$SMP" -m "$MEM" \
    -kernel "$KDIR/vmlinux" -initrd "$KDIR/initrd.cpio" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 cgroup_no_v1=all apparmor=0 berth.guest=$REPO/scripts/v2/guest.sh berth.run=$RUN" \
    -display none -monitor none -serial stdio -no-reboot -nic none -pidfile "$RUN/qemu.pid" \
    -virtfs "local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap" \
    -virtfs "local,path=$RUN,mount_tag=run,security_model=passthrough,multidevs=remap" \
    -drive "file=$RUN/disk.img,if=virtio,format=raw,cache=unsafe" \
    </dev/null 2>&1 &
  echo $! >"$RUN/timeout.pid"
  code=0
  wait $! || code=$?
  echo "$code" >"$RUN/qemu-exit"
} | tr -d '\r' | tee "$RUN/console.log" &
PIPE_PID=$!
wait "$PIPE_PID" || true
PIPE_PID=
qrc=$(cat "$RUN/qemu-exit" 2>/dev/null || echo '?')

if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then v2_log "hard timeout: the VM ran longer than ${TIMEOUT}s and was killed"; fi
if [ -f "$RUN/exit-code" ]; then
  rc=$(cat "$RUN/exit-code")
  [ "$rc" = 124 ] && v2_log "the suites hit the guest's time limit"
else
  v2_log "the VM stopped without reporting an exit code (QEMU exit $qrc): see the console above"
  rc=1
fi
v2_log "boot to userspace $(cat "$RUN/boot-seconds" 2>/dev/null || echo '?')s (guest clock), whole run $(elapsed)s, exit code $rc"
exit "$rc"
