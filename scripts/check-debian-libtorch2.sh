#!/usr/bin/env bash
# Builds the addon against Debian 13 (trixie)'s libtorch 2.x and runs the test suite with it, in a
# trixie chroot beside this checkout (Debian 12 itself has only libtorch 1.13). Needs root, apt's
# network (deb.debian.org) and about 3 GB of disk; takes ~5 minutes the first time, the chroot is
# kept for the next run. Tests needing the Python references skip there (none are installed).
#   bash scripts/check-debian-libtorch2.sh [ROOT] [TEST PATHS...]   (ROOT default /tmp/medseg-trixie)
# The built dist/ is used as it is: run `npm run build` first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-/tmp/medseg-trixie}
shift || true
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(dist/test/)

if [ "$(id -u)" != 0 ]; then echo "check-debian-libtorch2: needs root (debootstrap, chroot)" >&2; exit 1; fi
[ -d dist/test ] || { echo "check-debian-libtorch2: no dist/test: run npm run build first" >&2; exit 1; }
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null

if [ ! -x "$root/usr/bin/apt-get" ]; then
  echo "check-debian-libtorch2: debootstrap trixie into $root"
  debootstrap --variant=minbase trixie "$root" http://deb.debian.org/debian >/dev/null
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
mounted=()
bind() { # src dst: bind-mount once, unmounted on exit
  mkdir -p "$root$2"
  if ! mountpoint -q "$root$2"; then mount --bind "$1" "$root$2" && mounted+=("$root$2"); fi
}
cleanup() { for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}" || true; done; }
trap cleanup EXIT
bind /proc /proc
bind /dev /dev
if [ ! -f "$root/usr/include/torch/csrc/api/include/torch/version.h" ]; then
  echo "check-debian-libtorch2: installing trixie's libtorch-dev and a compiler in the chroot"
  chroot "$root" bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libtorch-dev g++ make python3 >/dev/null'
fi

# This machine's Node.js (glibc is backwards compatible), npm with node-gyp, and Node's headers.
node_bin=$(command -v node)
cp "$(readlink -f "$node_bin")" "$root/usr/bin/node"
bind "$(dirname "$(readlink -f "$(command -v npm)")")/../.." /usr/lib/node_modules
[ -d /usr/include/node ] && bind /usr/include/node /usr/include/node

# A copy of the checkout (its own native/build and torch-config.json), node packages and dist.
rm -rf "$root/medseg" && mkdir -p "$root/medseg"
git ls-files -z | tar --null -cf - -T - | tar -xf - -C "$root/medseg"
cp -r node_modules dist "$root/medseg/"
chroot "$root" bash -c "cd /medseg && node scripts/build-native.mjs >/tmp/build.log 2>&1 || { tail -30 /tmp/build.log; exit 1; }"
chroot "$root" bash -c "cd /medseg && node -e \"import('./dist/src/engine/index.js').then(m => console.log('check-debian-libtorch2: libtorch ' + m.engineInfo().torchVersion))\""
chroot "$root" bash -c "cd /medseg && node --test --test-concurrency=1 ${tests[*]}"
