#!/usr/bin/env bash
# Fetch, unpack and cache Debian's stock generic amd64 kernel for the cgroup v2 test VM, and
# build its small initramfs. Sourced by scripts/v2/test-v2.sh; `v2_kernel` prints the cache dir:
#   <dir>/vmlinux          decompressed kernel (booting it with -kernel skips in-guest unxz)
#   <dir>/initrd.cpio      static busybox + virtio/9p/overlay modules + scripts/v2/initramfs-init.sh
#   <dir>/lib/modules/<v>  the package's modules (trimmed to fs/net/virtio …), with modules.dep
#   <dir>/release          the kernel release string (uname -r in the guest)
# The package is downloaded with `apt-get download` and unpacked with `dpkg -x`: nothing is
# installed on the host and nothing is mounted. Later runs reuse the cache without apt.

V2_CACHE=${BERTH_V2_CACHE:-/var/cache/berth/v2}
V2_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Modules the initramfs loads, in dependency order, to mount a 9p root under an overlay.
V2_INITRD_MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
  netfs fscache 9pnet 9pnet_virtio 9p overlay)

v2_log() { echo "test:v2: $*" >&2; }

# The versioned image package the generic amd64 metapackage points at (linux-image-6.1.0-N-amd64).
v2_kernel_package() {
  local pkg
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  if [ -z "$pkg" ]; then
    v2_log "apt knows no linux-image-amd64 yet: running apt-get update"
    apt-get update -qq >&2
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  fi
  [ -n "$pkg" ] || { v2_log "cannot resolve linux-image-amd64 to a kernel package"; return 1; }
  echo "$pkg"
}

# Decompress the bzImage payload (xz on Debian's kernels; gzip or zstd handled too).
v2_extract_vmlinux() {
  local bz=$1 out=$2 i off
  local magics=($'\xfd7zXZ' $'\x1f\x8b\x08' $'\x28\xb5\x2f\xfd') tools=(xz gzip zstd)
  for i in 0 1 2; do
    off=$(LC_ALL=C grep -abo "${magics[$i]}" "$bz" | head -1 | cut -d: -f1 || true)
    [ -n "$off" ] || continue
    tail -c +"$((off + 1))" "$bz" | "${tools[$i]}" -dc 2>/dev/null >"$out.tmp" || true
    if [ "$(head -c 4 "$out.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
      mv "$out.tmp" "$out"
      return 0
    fi
  done
  rm -f "$out.tmp"
  v2_log "no ELF kernel found inside $bz"
  return 1
}

# The module file and its dependencies (from the .ko's own modinfo), dependencies first.
v2_module_closure() {
  local moddir=$1 name=$2 file deps d
  file=$(find "$moddir/kernel" -name "$name.ko" -print -quit)
  [ -n "$file" ] || { v2_log "module $name not in $moddir"; return 1; }
  deps=$(LC_ALL=C grep -ao 'depends=[^[:cntrl:]]*' "$file" | head -1 | cut -d= -f2 | tr ',' ' ')
  for d in $deps; do v2_module_closure "$moddir" "$d"; done
  echo "$file"
}

v2_build_initrd() {
  local dir=$1 release=$2 tree m f
  tree=$(mktemp -d)
  mkdir -p "$tree"/{bin,lib/modules,proc,sys,dev,lower,rw,newroot}
  cp /usr/bin/busybox "$tree/bin/busybox"
  cp "$V2_SCRIPTS/initramfs-init.sh" "$tree/init"
  chmod 755 "$tree/init"
  for m in "${V2_INITRD_MODULES[@]}"; do
    for f in $(v2_module_closure "$dir/lib/modules/$release" "$m"); do
      [ -e "$tree/lib/modules/$(basename "$f")" ] && continue
      cp "$f" "$tree/lib/modules/"
      basename "$f" .ko >>"$tree/lib/modules/load-order"
    done
  done
  # Uncompressed: the kernel would spend longer unpacking it under emulation than it saves.
  (cd "$tree" && find . | busybox cpio -o -H newc 2>/dev/null) >"$dir/initrd.cpio.tmp"
  mv "$dir/initrd.cpio.tmp" "$dir/initrd.cpio"
  rm -rf "$tree"
}

# Prints the cache dir of a ready kernel; downloads and prepares one when none is cached.
v2_kernel() {
  # ldd succeeds only on a dynamically linked binary: the initramfs has no libc.
  if ! [ -x /usr/bin/busybox ] || ldd /usr/bin/busybox >/dev/null 2>&1; then
    v2_log "needs a static /usr/bin/busybox (Debian package busybox-static)"
    return 1
  fi
  local ready
  ready=$(ls -d "$V2_CACHE"/linux-image-*/ready 2>/dev/null | sort -V | tail -1)
  if [ -n "$ready" ]; then
    local dir
    dir=$(dirname "$ready")
    # The initramfs follows its init script and module list: rebuild it when they changed.
    if [ "$V2_SCRIPTS/initramfs-init.sh" -nt "$dir/initrd.cpio" ] || [ "$V2_SCRIPTS/kernel.sh" -nt "$dir/initrd.cpio" ]; then v2_build_initrd "$dir" "$(cat "$dir/release")"; fi
    echo "$dir"
    return 0
  fi
  local pkg dir work deb release
  pkg=$(v2_kernel_package) || return 1
  dir=$V2_CACHE/$pkg
  work=$(mktemp -d)
  v2_log "downloading $pkg (Debian's stock kernel; cached in $dir)"
  (cd "$work" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) || { rm -rf "$work"; v2_log "apt-get download $pkg failed"; return 1; }
  deb=$(ls "$work"/*.deb)
  dpkg -x "$deb" "$work/x"
  release=$(ls "$work/x/lib/modules")
  rm -rf "$dir"
  mkdir -p "$dir/lib/modules/$release/kernel/drivers"
  v2_extract_vmlinux "$work/x/boot/vmlinuz-$release" "$dir/vmlinux" || { rm -rf "$work"; return 1; }
  cp "$work/x/boot/config-$release" "$dir/config"
  # Keep what a VM without hardware can load (filesystems, networking, virtio); drop the rest.
  local k=$work/x/lib/modules/$release/kernel
  for sub in fs net lib crypto arch mm block virt; do [ -d "$k/$sub" ] && mv "$k/$sub" "$dir/lib/modules/$release/kernel/"; done
  mkdir -p "$dir/lib/modules/$release/kernel/drivers/net"
  for sub in virtio block char; do [ -d "$k/drivers/$sub" ] && mv "$k/drivers/$sub" "$dir/lib/modules/$release/kernel/drivers/"; done
  find "$k/drivers/net" -maxdepth 1 -name '*.ko' -exec mv {} "$dir/lib/modules/$release/kernel/drivers/net/" \;
  cp "$work/x/lib/modules/$release"/modules.* "$dir/lib/modules/$release/"
  busybox depmod -b "$dir" "$release"
  echo "$release" >"$dir/release"
  rm -rf "$work"
  v2_build_initrd "$dir" "$release"
  touch "$dir/ready"
  echo "$dir"
}
