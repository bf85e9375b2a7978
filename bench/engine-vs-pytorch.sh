#!/usr/bin/env bash
# The engine benchmarks against PyTorch on the same machine, in one run, alternating the two so
# that load from elsewhere hits both alike. Prints one JSON line per run and the ratios at the end.
#   bash bench/engine-vs-pytorch.sh [threads]        (default 2 threads)
# PyTorch runs twice per measure: as installed (glibc's default malloc, which returns freed
# activations to the OS and page-faults them back every step), and with glibc told to keep freed
# memory (MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_ huge): its best case without code changes.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:-2}
keepmem=(env MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000)
out=bench/out
mkdir -p "$out"
: > "$out/engine-vs-pytorch.jsonl"
run() { # name, command...
  local name=$1; shift
  local line
  line=$("$@" 2>/dev/null | tail -n 1)
  echo "{\"run\":\"$name\",\"result\":$line}" | tee -a "$out/engine-vs-pytorch.jsonl"
}
for rep in 1 2; do
  run medseg-fp32 bin/medseg bench train-step --patch 64,64,64 --batch 2 --threads "$T" --json
  run pytorch-fp32 /usr/bin/python3 bench/pytorch_unet.py train-step --patch 64,64,64 --batch 2 --threads "$T"
  run pytorch-fp32-keepmem "${keepmem[@]}" /usr/bin/python3 bench/pytorch_unet.py train-step --patch 64,64,64 --batch 2 --threads "$T"
  run medseg-bf16 bin/medseg bench train-step --patch 64,64,64 --batch 2 --bf16 --threads "$T" --json
  run pytorch-bf16 /usr/bin/python3 bench/pytorch_unet.py train-step --patch 64,64,64 --batch 2 --bf16 --threads "$T"
done
run medseg-sw bin/medseg bench sliding-window --shape 1,128,128,128 --patch 64,64,64 --threads "$T" --json
run pytorch-sw /usr/bin/python3 bench/pytorch_unet.py sliding-window --shape 1,128,128,128 --patch 64,64,64 --threads "$T"
run pytorch-sw-keepmem "${keepmem[@]}" /usr/bin/python3 bench/pytorch_unet.py sliding-window --shape 1,128,128,128 --patch 64,64,64 --threads "$T"
run medseg-sw-bf16 bin/medseg bench sliding-window --shape 1,128,128,128 --patch 64,64,64 --bf16 --threads "$T" --json
node -e '
const rows = require("fs").readFileSync("bench/out/engine-vs-pytorch.jsonl", "utf8").trim().split("\n").map(JSON.parse);
const best = (n, k) => Math.min(...rows.filter(r => r.run === n).map(r => r.result[k]));
const pt = best("pytorch-fp32", "ms_per_step");
console.log(JSON.stringify({
  fp32_ratio: +(best("medseg-fp32", "ms_per_step") / pt).toFixed(3),
  bf16_vs_pytorch_fp32: +(best("medseg-bf16", "ms_per_step") / pt).toFixed(3),
  pytorch_bf16_vs_fp32: +(best("pytorch-bf16", "ms_per_step") / pt).toFixed(3),
  sliding_window_ratio: +(best("medseg-sw", "seconds") / best("pytorch-sw", "seconds")).toFixed(3),
  sliding_window_bf16_ratio: +(best("medseg-sw-bf16", "seconds") / best("pytorch-sw", "seconds")).toFixed(3),
  fp32_ratio_vs_keepmem: +(best("medseg-fp32", "ms_per_step") / best("pytorch-fp32-keepmem", "ms_per_step")).toFixed(3),
  bf16_vs_keepmem_fp32: +(best("medseg-bf16", "ms_per_step") / best("pytorch-fp32-keepmem", "ms_per_step")).toFixed(3),
  sliding_window_ratio_vs_keepmem: +(best("medseg-sw", "seconds") / best("pytorch-sw-keepmem", "seconds")).toFixed(3),
  peak_rss_fp32_ratio: +(best("medseg-fp32", "peak_rss_mb") / best("pytorch-fp32", "peak_rss_mb")).toFixed(3),
  peak_rss_sw_ratio: +(best("medseg-sw", "peak_rss_mb") / best("pytorch-sw", "peak_rss_mb")).toFixed(3),
  peak_rss_fp32_vs_keepmem: +(best("medseg-fp32", "peak_rss_mb") / best("pytorch-fp32-keepmem", "peak_rss_mb")).toFixed(3),
}));'
