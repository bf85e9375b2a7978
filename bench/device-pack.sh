#!/usr/bin/env bash
# Prepares what bench/device-check.sh needs on the GPU machine, which has PyTorch (CUDA) but no
# Node.js: this machine's node binary (xz: 99 MB → ~25 MB; the carry limit is 64 MiB), Node's
# headers, npm's node-gyp, the two runtime packages (node-addon-api, dicom-parser) and the
# compiled dist/. Everything goes to .device-carry/ (git-ignored); dist/ travels as it is.
# Run here, then the `run` call in bench/RESULTS.md ("to do on a GPU").
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
rm -rf .device-carry && mkdir -p .device-carry
NODE=$(readlink -f "$(command -v node)")
PREFIX=$(dirname "$(dirname "$NODE")")
xz -T2 -6 -c "$NODE" > .device-carry/node.xz
# headers: node-gyp builds against include/node (N-API only needs a few, common.gypi wants the set)
tar -C "$PREFIX" -cJf .device-carry/node-include.tar.xz include/node
NPM=$(dirname "$(readlink -f "$(command -v npm)")")/..
tar -C "$(dirname "$(readlink -f "$NPM")")" -cJf .device-carry/npm.tar.xz "$(basename "$(readlink -f "$NPM")")"
tar -C node_modules/.. -chJf .device-carry/node_modules.tar.xz \
  node_modules/node-addon-api node_modules/dicom-parser
node --version > .device-carry/node-version.txt
du -sh .device-carry dist
echo "total carried (must stay under 64 MiB):"
du -cb .device-carry dist | tail -1 | awk '{printf "%.1f MiB\n", $1/1048576}'
