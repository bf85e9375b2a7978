// The sliding-window benchmark: the 3d_fullres network for a patch over a random volume, step 0.5,
// Gaussian importance (sigma = patch/8), windows batched by 2, argmax at the end.
import { manualSeed, randn, setThreads, engineInfo, synchronize, useDevice } from '../engine/index.js';
import { UNet, defaultPlainSpec } from '../nn/index.js';
import { slidingWindowSegment, windowBoxes } from '../infer/index.js';
import { peakRssMb } from './memory.js';

export interface SlidingWindowBenchOptions {
  shape: number[]; // C, D, H, W
  patch: number[];
  classes: number;
  bf16: boolean;
  fp16?: boolean;
  threads?: number;
  device?: string;
  onProgress?: (done: number, total: number) => void;
}

export function benchSlidingWindow(o: SlidingWindowBenchOptions) {
  setThreads(o.threads);
  manualSeed(0);
  const device = o.device ?? 'cpu';
  const [channels, ...spatial] = o.shape;
  const net = new UNet({ ...defaultPlainSpec(o.patch, channels!, o.classes), deepSupervision: false }).eval();
  if (device !== 'cpu') net.to(device);
  useDevice(device);
  const volume = randn(o.shape, { device });
  const t0 = performance.now();
  const seg = slidingWindowSegment(net, volume, {
    patch: o.patch,
    numClasses: o.classes,
    step: 0.5,
    batch: 2,
    autocast: o.fp16 ? 'float16' : o.bf16 ? 'bfloat16' : null,
    device,
    onProgress: o.onProgress,
  });
  synchronize();
  const seconds = (performance.now() - t0) / 1000;
  const result = {
    seconds,
    windows: windowBoxes(spatial, o.patch, 0.5).length,
    parameters: net.numParameters(),
    peak_rss_mb: Math.round(peakRssMb()),
    checksum: seg.sum().item(),
    shape: o.shape,
    patch: o.patch,
    bf16: o.bf16,
    fp16: !!o.fp16,
    threads: engineInfo().threads,
    torch: engineInfo().torchVersion,
    device,
  };
  seg.dispose();
  volume.dispose();
  net.dispose();
  return result;
}
