#!/usr/bin/env bash
# The GPU check (issue 11, "CUDA"): run on the device machine by the `run` tool, ≤ 8 minutes, from
# the repository root, after bench/device-pack.sh filled .device-carry/ here. Steps:
#   1. unpack the carried node (+ headers, npm's node-gyp, runtime packages);
#   2. build the addon against the machine's PyTorch (scripts/find-libtorch.mjs: python3 -c 'import torch');
#   3. medseg info; the device tests with MEDSEG_TEST_DEVICE=cuda;
#   4. train-step: medseg (fp32, fp16 + loss scaling, bf16) beside bench/pytorch_unet.py on the same GPU;
#   5. a tiny train (fp16) + predict on cuda.
# Every output goes under $OUT (summary.txt first). A failing step is logged and the next one runs.
# DEVICE=cpu SKIP_BUILD=1 bash bench/device-check.sh runs the same steps on a CPU machine (dry run).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/device-check}
DEVICE=${DEVICE:-cuda}
PYTHON=${PYTHON:-python3}
PATCH=${PATCH:-128,128,128}
STEPS=${STEPS:-10}
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
log() { echo "[$(date -u +%T)] $*" | tee -a "$SUMMARY"; }
# step NAME TIMEOUT CMD...: runs CMD with a time limit, output to $OUT/NAME.txt, status to the summary
step() {
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1
  local rc=$?
  log "$name: exit $rc in $((SECONDS - t0)) s"
  return $rc
}

log "device-check on $(hostname), DEVICE=$DEVICE PATCH=$PATCH"
command -v nvidia-smi > /dev/null && nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
$PYTHON -c 'import torch; print(torch.__version__, torch.version.cuda, torch.backends.cudnn.version(), torch.cuda.is_available() and torch.cuda.get_device_name(0))' \
  > "$OUT/python-torch.txt" 2>&1
log "python torch: $(cat "$OUT/python-torch.txt")"

# 1. node (xz, or Python's lzma where xz is not installed)
unxz() {
  if command -v xz > /dev/null; then xz -dc "$1"; else
    $PYTHON -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"
  fi
}
if ! command -v node > /dev/null || [ -f .device-carry/node.xz ]; then
  NODE_PREFIX=/tmp/medseg-node
  mkdir -p $NODE_PREFIX/bin $NODE_PREFIX/lib/node_modules
  unxz .device-carry/node.xz > $NODE_PREFIX/bin/node && chmod +x $NODE_PREFIX/bin/node
  unxz .device-carry/node-include.tar.xz | tar -C $NODE_PREFIX -x
  unxz .device-carry/npm.tar.xz | tar -C $NODE_PREFIX/lib/node_modules -x
  export PATH=$NODE_PREFIX/bin:$PATH
fi
[ -d node_modules/node-addon-api ] || unxz .device-carry/node_modules.tar.xz | tar -x
log "node $(node --version) at $(command -v node)"
for tool in c++ make python3; do command -v $tool > /dev/null || log "MISSING: $tool (the addon build needs it)"; done

# 2. the addon against this machine's torch (the carried tree has no native/build)
if [ -z "${SKIP_BUILD:-}" ]; then
  MEDSEG_BUILD_JOBS=4 MEDSEG_REBUILD=1 step build 300 node scripts/build-native.mjs || {
    tail -30 "$OUT/build.txt"
    exit 1
  }
  cp native/torch-config.json "$OUT/torch-config.json"
fi

# 3. what medseg sees, and the device tests
step info 60 node bin/medseg info --json
node bin/medseg info >> "$SUMMARY" 2>&1
MEDSEG_REF_PYTHON=$(command -v $PYTHON) MEDSEG_TEST_DEVICE=$DEVICE step tests-device 240 node --test --test-concurrency=1 \
  dist/test/engine/ dist/test/optim/gradScaler.test.js dist/test/train/device.test.js
grep -E '^# (tests|pass|fail|skipped)|^not ok' "$OUT/tests-device.txt" | tee -a "$SUMMARY"

# 4. train step: medseg vs PyTorch, same GPU, same network/loss/optimiser (nnU-Net 3d_fullres, batch 2)
bench() { # bench NAME MEDSEG_FLAGS PYTORCH_FLAGS
  step "medseg-$1" 150 node bin/medseg bench train-step --device "$DEVICE" --patch "$PATCH" --batch 2 \
    --steps "$STEPS" --warmup 3 --json $2
  step "pytorch-$1" 150 $PYTHON bench/pytorch_unet.py train-step --device "$DEVICE" --patch "$PATCH" --batch 2 \
    --steps "$STEPS" --warmup 3 --threads 4 $3
  local m p
  m=$(tail -1 "$OUT/medseg-$1.txt" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["ms_per_step"]))' 2> /dev/null)
  p=$(tail -1 "$OUT/pytorch-$1.txt" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["ms_per_step"]))' 2> /dev/null)
  log "train-step $1 patch $PATCH batch 2: medseg ${m:-?} ms, PyTorch ${p:-?} ms"
}
bench fp32 "" ""
if [ "$DEVICE" != cpu ]; then bench fp16 "--fp16" "--amp fp16"; fi
bench bf16 "--bf16" "--amp bf16"

# 5. a tiny train + predict on the device
WORK=$(mktemp -d)
step synth 60 node bin/medseg synth hippocampus --out "$WORK" --size tiny --cases 4 --seed 1
DS=$(ls -d "$WORK"/Dataset*)
AMP=$([ "$DEVICE" != cpu ] && echo --fp16)
step train 150 node bin/medseg train "$DS" --model "$WORK/model" --epochs 2 --iters-per-epoch 5 \
  --device "$DEVICE" $AMP --no-validation
step predict 60 node bin/medseg predict -i "$DS/imagesTr" -o "$WORK/pred" -m "$WORK/model" \
  --checkpoint latest --device "$DEVICE"
ls "$WORK/pred" > "$OUT/predictions.txt" 2>&1
log "predicted $(grep -c nii "$OUT/predictions.txt") case(s)"
log "done"
