// Foreground oversampling over many batches, against expectations computed here by enumeration:
// nnU-Net forces foreground into the samples i ≥ round(N·(1 − 1/3)) of a batch (a class drawn
// uniformly from those the case has, then one of its voxels); the other samples sit uniformly at
// random. The store holds three synthetic cases: two small cubes of classes 1 and 2 far apart, one
// cube of class 1, and a case with no foreground that is also thinner than the patch (padding).
// Each case's image is the constant k + 1 (intensity augmentation off), so a sample tells its case.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Tensor, tidy } from '../../src/engine/index.js';
import { storeCase, type StoredCase } from '../../src/preprocess/store.js';
import { makeBatch } from '../../src/train/loader.js';

type Cube = { cls: number; lo: number[]; size: number };
interface CaseDef {
  id: string;
  shape: number[];
  cubes: Cube[];
}

const PATCH = [8, 8, 8];
const CASES: CaseDef[] = [
  {
    id: 'two',
    shape: [24, 20, 28],
    cubes: [
      { cls: 1, lo: [4, 3, 5], size: 3 },
      { cls: 2, lo: [18, 14, 20], size: 2 },
    ],
  },
  { id: 'one', shape: [24, 20, 28], cubes: [{ cls: 1, lo: [10, 8, 12], size: 4 }] },
  { id: 'none', shape: [6, 20, 28], cubes: [] },
];

const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-oversample-'));
after(() => rmSync(root, { recursive: true, force: true }));

let stored: Promise<StoredCase[]> | undefined;
function store(): Promise<StoredCase[]> {
  stored ??= Promise.all(
    CASES.map(async (c, k) => {
      const [D, H, W] = c.shape as [number, number, number];
      const lab = new BigInt64Array(D * H * W);
      for (const q of c.cubes)
        for (let z = q.lo[0]!; z < q.lo[0]! + q.size; z++)
          for (let y = q.lo[1]!; y < q.lo[1]! + q.size; y++)
            for (let x = q.lo[2]!; x < q.lo[2]! + q.size; x++) lab[(z * H + y) * W + x] = BigInt(q.cls);
      const image = Tensor.fromArray(new Float32Array(D * H * W).fill(k + 1), [1, D, H, W]);
      const labels = Tensor.fromArray(lab, [D, H, W], 'int64');
      const record = {
        originalShape: c.shape,
        originalSpacing: [1, 1, 1],
        bbox: c.shape.map((s) => [0, s]),
        croppedShape: c.shape,
        resampledShape: c.shape,
      };
      try {
        return await storeCase(root, c.id, image, labels, record as never, []);
      } finally {
        image.dispose();
        labels.dispose();
      }
    }),
  );
  return stored;
}

/** For one case, the fraction of uniformly random patch starts whose patch holds each class. */
function randomCoverage(c: CaseDef): { any: number; byClass: Map<number, number> } {
  const ranges = c.shape.map((s, d) => [Math.min(0, s - PATCH[d]!), Math.max(0, s - PATCH[d]!)] as const);
  let total = 0;
  let any = 0;
  const byClass = new Map<number, number>();
  for (let z = ranges[0]![0]; z <= ranges[0]![1]; z++)
    for (let y = ranges[1]![0]; y <= ranges[1]![1]; y++)
      for (let x = ranges[2]![0]; x <= ranges[2]![1]; x++) {
        total++;
        const start = [z, y, x];
        const hit = c.cubes.filter((q) =>
          q.lo.every((lo, d) => lo < start[d]! + PATCH[d]! && lo + q.size > start[d]!),
        );
        if (hit.length) any++;
        for (const q of hit) byClass.set(q.cls, (byClass.get(q.cls) ?? 0) + 1);
      }
  for (const [k, v] of byClass) byClass.set(k, v / total);
  return { any: any / total, byClass };
}

/** |observed − p| within 4.5 binomial standard deviations (and a floor for p near 0 or 1). */
function assertRate(hits: number, n: number, p: number, what: string): void {
  const sd = Math.sqrt(Math.max(p * (1 - p), 1 / n) / n);
  assert.ok(
    Math.abs(hits / n - p) <= 4.5 * sd,
    `${what}: ${hits}/${n} = ${(hits / n).toFixed(3)}, expected ${p.toFixed(3)} ± ${(4.5 * sd).toFixed(3)}`,
  );
}

/** Classes present in each sample of a batch's labels [N, ...patch]. */
function classesPerSample(y: BigInt64Array, n: number): Set<number>[] {
  const per = y.length / n;
  return Array.from({ length: n }, (_, i) => {
    const s = new Set<number>();
    for (let k = i * per; k < (i + 1) * per; k++) if (y[k] !== 0n) s.add(Number(y[k]));
    return s;
  });
}

for (const [batchSize, batches] of [
  [3, 500],
  [2, 300],
  [5, 200],
] as [number, number][]) {
  test(`batch size ${batchSize}: the forced third holds foreground, the rest as often as random patches do, classes balanced`, async (t) => {
    const cases = await store();
    const forcedFrom = Math.round(batchSize * (1 - 1 / 3)); // nnU-Net's get_do_oversample
    const cover = CASES.map(randomCoverage);
    // expected per sample position: a case drawn uniformly; forced → foreground if the case has any
    const pRandom = cover.reduce((a, c) => a + c.any, 0) / CASES.length;
    const pForced = CASES.reduce((a, c, i) => a + (c.cubes.length ? 1 : cover[i]!.any), 0) / CASES.length;
    // class 2 in a forced patch: case 'two' (1/3), class 2 drawn (1/2); class 1's cube is 12 voxels
    // away in z from it, further than a patch reaches
    const pForcedClass2 = (1 / 3) * (1 / 2);
    const pRandomClass2 = cover.reduce((a, c) => a + (c.byClass.get(2) ?? 0), 0) / CASES.length;
    const fg = new Array<number>(batchSize).fill(0);
    const class2 = new Array<number>(batchSize).fill(0);
    for (let step = 0; step < batches; step++) {
      const b = tidy(() =>
        makeBatch(
          {
            dir: root,
            cases,
            patch: PATCH,
            batchSize,
            seed: 7,
            augment: { rotation: false },
            imageChannels: 0,
          },
          step,
        ),
      );
      assert.deepEqual(b.yShape, [batchSize, ...PATCH]);
      const per = b.x.length / batchSize;
      classesPerSample(b.y, batchSize).forEach((s, i) => {
        const k = Math.max(...b.x.subarray(i * per, (i + 1) * per)) - 1;
        assert.ok(k >= 0 && k < CASES.length, `sample ${i}: image value ${k + 1} is no case's`);
        // forced on a case with foreground: always some (nnU-Net's guarantee), whatever the stream
        if (i >= forcedFrom && CASES[k]!.cubes.length)
          assert.ok(s.size > 0, `step ${step} sample ${i}: forced, no foreground`);
        if (s.size) fg[i]!++;
        if (s.has(2)) class2[i]!++;
      });
    }
    for (let i = 0; i < batchSize; i++) {
      const forced = i >= forcedFrom;
      assertRate(
        fg[i]!,
        batches,
        forced ? pForced : pRandom,
        `sample ${i} (${forced ? 'forced' : 'random'}) with foreground`,
      );
      assertRate(class2[i]!, batches, forced ? pForcedClass2 : pRandomClass2, `sample ${i} with class 2`);
    }
    // the whole batch: the plan's share of forced samples on top of the random rate
    const nForced = batchSize - forcedFrom;
    const total = fg.reduce((a, b) => a + b, 0);
    const expected = (nForced * pForced + forcedFrom * pRandom) / batchSize;
    assertRate(total, batches * batchSize, expected, 'all samples with foreground');
    t.diagnostic(
      `foreground in ${total}/${batches * batchSize} = ${(total / (batches * batchSize)).toFixed(3)} (expected ${expected.toFixed(3)}); per sample ${fg.map((v) => (v / batches).toFixed(2)).join(' ')} (random ${pRandom.toFixed(3)}, forced ${pForced.toFixed(3)})`,
    );
    assert.ok(pForced - pRandom > 0.3, 'the cases tell forced from random sampling apart');
  });
}
