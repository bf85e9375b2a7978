#!/usr/bin/env bash
# Sets medseg up on a fresh Debian/Ubuntu machine (run as root for the apt steps):
#   - libtorch: Debian's libtorch-dev when no libtorch is found (or use LIBTORCH=/path, or a
#     Python torch; see README);
#   - node packages, the native addon (npm's install step builds it), the TypeScript build.
# With --dev it also installs the reference tools the tests compare against (Debian's python3
# torch, nibabel, scipy, pydicom, Pillow); tests that need them skip with a notice where they are absent.
# Safe to run again: every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
for a in "$@"; do
  case "$a" in
    --dev) dev=1 ;;
    *) echo "setup.sh: unknown option $a (use --dev)" >&2; exit 2 ;;
  esac
done

if ! command -v node >/dev/null 2>&1; then
  echo "setup.sh: Node.js 20 or newer is needed (https://nodejs.org or your distribution)." >&2
  exit 1
fi

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup.sh: please install: $* (needs root and apt-get)" >&2
    return 1
  fi
  if [ ! -f /tmp/.medseg-apt-updated ]; then
    apt-get update -qq && touch /tmp/.medseg-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ -z "${LIBTORCH:-}" ] && [ "$(node scripts/find-libtorch.mjs)" = "null" ]; then
  echo "setup.sh: no libtorch found; installing Debian's libtorch-dev"
  apt_install libtorch-dev
fi
# Gloo's headers: Debian's libtorch-dev has c10d's ProcessGroupGloo but its header needs gloo's
# (libgloo-dev); without them the addon is built without data-parallel training (train --nproc)
if [ -f /usr/include/torch/csrc/distributed/c10d/ProcessGroupGloo.hpp ] && [ ! -f /usr/include/gloo/config.h ]; then
  echo "setup.sh: installing libgloo-dev (Gloo's headers, for data-parallel training)"
  apt_install libgloo-dev || echo "setup.sh: continuing without it (no data-parallel training: train --nproc)"
fi

if [ "$dev" = 1 ]; then
  missing=()
  /usr/bin/python3 -c 'import torch' 2>/dev/null || missing+=(python3-torch)
  /usr/bin/python3 -c 'import nibabel' 2>/dev/null || missing+=(python3-nibabel)
  /usr/bin/python3 -c 'import scipy' 2>/dev/null || missing+=(python3-scipy)
  /usr/bin/python3 -c 'import pydicom' 2>/dev/null || missing+=(python3-pydicom)
  # pydicom decodes the JPEG 2000 and RLE test series through Pillow (built with OpenJPEG)
  /usr/bin/python3 -c 'import PIL' 2>/dev/null || missing+=(python3-pil)
  # DCMTK encodes and decodes the JPEG / JPEG-LS test series (test/io/dicom-jpeg.test.ts)
  command -v dcmcjpls >/dev/null 2>&1 || missing+=(dcmtk)
  # the search store's tests start a throwaway PostgreSQL server (initdb, pg_ctl) on loopback
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  # the viewer's browser tests drive Debian's Chromium through playwright-core (no browser download)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup.sh: installing the test references: ${missing[*]}"
    apt_install "${missing[@]}" || echo "setup.sh: continuing without them (their tests will skip)"
  fi
fi

# node packages; the package's install script builds the native addon (skipped when up to date)
# onnxruntime-node: its CPU binaries ship in the package; its install step would download more (refused here)
export ONNXRUNTIME_NODE_INSTALL=skip
npm install --no-audit --no-fund --loglevel=error
npm run --silent build
# the viewer page of `medseg serve` (dist-web/)
npm run --silent build:web >/dev/null
echo "setup.sh: ready ($(node -e "import('./dist/src/engine/index.js').then(m => { const i = m.engineInfo(); console.log('libtorch ' + i.torchVersion + (i.cudaAvailable ? ', CUDA' : ', CPU')) })"))"
