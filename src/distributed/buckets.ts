// Data-parallel gradient averaging: the gradients of many parameters are flattened into one tensor
// per bucket (same dtype and device, up to bucketBytes), summed over the ranks with one all-reduce
// each and divided by the world size, then copied back. Few large messages instead of one per
// parameter: a UNet has ~100 parameter tensors, most of them small, and every collective pays a
// round trip. The same bucketing broadcasts rank 0's parameters at the start of a run.
import { cat, keep, noGrad, tidy, zerosLike, type Tensor } from '../engine/index.js';

/** What the bucketing needs of a process group (ProcessGroup, or a stand-in for one rank). */
export interface Collective {
  readonly worldSize: number;
  allReduceSum(t: Tensor): void;
  broadcast(t: Tensor, root?: number): void;
}

/** PyTorch DDP's default bucket: 25 MiB. */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

const BYTES: Record<string, number> = { float64: 8, float32: 4, bfloat16: 2, float16: 2 };

/** Consecutive runs of tensors with one dtype and device, each at most `bucketBytes` (or one tensor). */
export function planBuckets(tensors: readonly Tensor[], bucketBytes = DEFAULT_BUCKET_BYTES): Tensor[][] {
  if (!(bucketBytes > 0)) throw new Error(`bucketBytes must be positive, not ${bucketBytes}`);
  const buckets: Tensor[][] = [];
  let bytes = 0;
  for (const t of tensors) {
    const size = t.numel * (BYTES[t.dtype] ?? 4);
    const last = buckets.at(-1);
    if (last && last[0]!.dtype === t.dtype && last[0]!.device === t.device && bytes + size <= bucketBytes) {
      last.push(t);
      bytes += size;
    } else {
      buckets.push([t]);
      bytes = size;
    }
  }
  return buckets;
}

/** Runs `collective` on the bucket flattened into one tensor, then writes the result back. */
function throughFlat(bucket: Tensor[], collective: (flat: Tensor) => void): void {
  tidy(() => {
    const flat =
      bucket.length === 1 ? bucket[0]!.reshape(-1).contiguous() : cat(bucket.map((t) => t.reshape(-1)));
    collective(flat);
    let off = 0;
    for (const t of bucket) {
      t.copy_(flat.narrow(0, off, t.numel).view(...t.shape));
      off += t.numel;
    }
  });
}

/**
 * Every parameter's gradient becomes the mean over the ranks (in place). A parameter without a
 * gradient on this rank contributes zeros, so every rank sends the same buckets.
 */
export function allReduceGradients(group: Collective, params: readonly Tensor[], bucketBytes?: number): void {
  if (group.worldSize === 1) return;
  const grads = params.map((p) => {
    const g = p.grad;
    if (g) return g;
    const z = keep(noGrad(() => zerosLike(p)));
    p.setGrad(z);
    return z;
  });
  try {
    for (const bucket of planBuckets(grads, bucketBytes))
      throughFlat(bucket, (flat) => {
        group.allReduceSum(flat);
        flat.div_(group.worldSize);
      });
  } finally {
    for (const g of grads) g.dispose();
  }
}

/** Every rank's parameters become root's (at the start: one set of weights whatever each rank loaded). */
export function broadcastParameters(
  group: Collective,
  params: readonly Tensor[],
  root = 0,
  bucketBytes?: number,
): void {
  if (group.worldSize === 1) return;
  noGrad(() => {
    const data = params.map((p) => p.detach());
    try {
      for (const bucket of planBuckets(data, bucketBytes))
        throughFlat(bucket, (flat) => group.broadcast(flat, root));
    } finally {
      for (const d of data) d.dispose();
    }
  });
}
