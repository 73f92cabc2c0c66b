#!/usr/bin/env bash
# Set up berth on a fresh Debian 12 machine (as root): Debian packages, npm dependencies,
# build, then start berthd with its embedded default configuration.
#   scripts/setup.sh             install everything and start berthd
#   scripts/setup.sh --no-start  install and build only (what CI uses)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

START=1
[ "${1:-}" = "--no-start" ] && START=0

[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (berthd manages namespaces, mounts and cgroups)" >&2; exit 1; }

# Runtime parts berth drives, and what its tests use (all from Debian 12).
PKGS=(
  runc crun containerd            # runc/crun + containerd-shim-runc-v2 (the shim berth speaks to)
  containernetworking-plugins     # CNI plugins in /usr/lib/cni
  iproute2 iptables               # netns and port mappings
  attr zstd                       # setfattr for overlay whiteouts; zstd layers
  docker-registry umoci skopeo busybox-static   # test registry and test images
  curl jq ca-certificates
  tmux                            # the CLI's `berth top` is tested in a real terminal
  qemu-system-x86 xz-utils        # npm run test:v2: a cgroup v2 kernel under QEMU (it downloads the kernel itself)
)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The containerd package may start its own daemon; berth needs only its shim binary.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now containerd >/dev/null 2>&1 || true
fi

# cgroup v1 hybrid hosts: a controller left on the cgroup2 hierarchy (hugetlb on some kernels)
# makes crun refuse every container. When cgroup2 uses none of them, give each its own v1
# hierarchy, as systemd's hybrid layout does. Harmless elsewhere; failures only cost crun.
unified=/sys/fs/cgroup/unified
if [ -f "$unified/cgroup.controllers" ] && [ -z "$(cat "$unified/cgroup.subtree_control" 2>/dev/null)" ]; then
  for c in $(cat "$unified/cgroup.controllers"); do
    mountpoint -q "/sys/fs/cgroup/$c" 2>/dev/null && continue
    { mkdir -p "/sys/fs/cgroup/$c" && mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c"; } 2>/dev/null \
      && echo "setup.sh: moved cgroup controller $c from cgroup2 to /sys/fs/cgroup/$c (crun needs that on hybrid hosts)" \
      || echo "setup.sh: could not move cgroup controller $c off cgroup2; the crun handler stays unavailable here"
  done
fi

node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' \
  || { echo "setup.sh: Node.js >= 20 is required (found $(node -v))" >&2; exit 1; }

npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
# A default pod network (bridge berth0, 10.88.0.0/16, portmap, loopback) unless one exists.
node dist/src/daemon/main.js --init-cni
# The commands on PATH.
ln -sf "$PWD/dist/src/daemon/main.js" /usr/local/bin/berthd
ln -sf "$PWD/dist/src/cli/main.js" /usr/local/bin/berth

if [ "$START" = 1 ]; then
  mkdir -p /run/berth /var/log/berth
  if [ -f /run/berth/berthd.pid ] && kill -0 "$(cat /run/berth/berthd.pid)" 2>/dev/null; then
    echo "setup.sh: berthd already running (pid $(cat /run/berth/berthd.pid))"
  else
    setsid node dist/src/daemon/main.js >>/var/log/berth/berthd.log 2>&1 </dev/null &
    echo $! >/run/berth/berthd.pid
    for _ in $(seq 1 100); do [ -S /run/berth/berth.sock ] && break; sleep 0.1; done
    [ -S /run/berth/berth.sock ] || { echo "setup.sh: berthd did not start; see /var/log/berth/berthd.log" >&2; tail -20 /var/log/berth/berthd.log >&2; exit 1; }
    echo "setup.sh: berthd running (pid $(cat /run/berth/berthd.pid)), CRI socket unix:///run/berth/berth.sock, log /var/log/berth/berthd.log"
  fi
fi
