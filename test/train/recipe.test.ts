// The recipe's knobs (src/train/recipe.ts) do what they say, alone and wired through the trainer:
// - augmentation strength 0 is the identity, 1 the standard augmentation bit for bit, and s scales
//   every gate's probability to min(1, s·p) (mirroring min(1/2, s/2)): which samples a transform
//   touches is predicted exactly by replaying the Rng's draws;
// - foreground oversampling 1 puts foreground in every patch, 0 in none by force;
// - the Dice/CE weights change the trainer's first loss as the formula says;
// - the plan's configuration carries them (schema-checked), the run's options override it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Tensor, tidy, setThreads } from '../../src/engine/index.js';
import { Rng } from '../../src/common/random.js';
import { augmentBatch } from '../../src/train/augment.js';
import { makeBatch, stepRng } from '../../src/train/loader.js';
import { sampleBatch } from '../../src/train/sampler.js';
import { openRun, runStep } from '../../src/train/index.js';
import { storeCase, type StoredCase } from '../../src/preprocess/store.js';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { plan } from '../../src/plan/run.js';
import { validatePlans, type Plans } from '../../src/plan/schema.js';
import type { TrainOptions } from '../../src/train/types.js';
import { seededValues } from '../helpers/numeric.js';

setThreads(1);
const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-recipe-'));
after(() => rmSync(root, { recursive: true, force: true }));

function randomBatch(n: number, spatial: number[], seed: number): { x: Tensor; y: Tensor } {
  const per = spatial.reduce((a, b) => a * b, 1);
  const x = Tensor.fromArray(Float32Array.from(seededValues(n * per, seed)), [n, 1, ...spatial]);
  const y = Tensor.fromArray(
    BigInt64Array.from(seededValues(n * per, seed + 1), (v) => BigInt(Math.floor((v + 1) * 1.5) % 3)),
    [n, ...spatial],
    'int64',
  );
  return { x, y };
}

/** Indices of the samples whose image differs from the input's. */
function changedSamples(before: Tensor, after: Tensor): number[] {
  const a = before.toArray() as Float32Array;
  const b = after.toArray() as Float32Array;
  const n = before.shape[0]!;
  const per = a.length / n;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let k = i * per; k < (i + 1) * per; k++)
      if (a[k] !== b[k]) {
        out.push(i);
        break;
      }
  }
  return out;
}

test('augmentation strength 0 returns the batch as sampled; strength 1 is the standard augmentation bit for bit', () => {
  for (let seed = 1; seed <= 12; seed++)
    tidy(() => {
      const { x, y } = randomBatch(4, [6, 5, 7], 100 + seed);
      const none = augmentBatch(x, y, new Rng(seed), { strength: 0 });
      assert.deepEqual(none.x.toArray(), x.toArray(), `seed ${seed}: image changed at strength 0`);
      assert.deepEqual(none.y.toArray(), y.toArray(), `seed ${seed}: labels changed at strength 0`);
      const standard = augmentBatch(x, y, new Rng(seed));
      const one = augmentBatch(x, y, new Rng(seed), { strength: 1 });
      assert.deepEqual(one.x.toArray(), standard.x.toArray(), `seed ${seed}: strength 1 ≠ default`);
      assert.deepEqual(one.y.toArray(), standard.y.toArray());
    });
  // and the standard augmentation does change these batches (strength 0 is not vacuous)
  tidy(() => {
    const { x, y } = randomBatch(8, [6, 5, 7], 5);
    assert.ok(changedSamples(x, augmentBatch(x, y, new Rng(3)).x).length >= 4);
  });
});

test('strength s scales the gates: rotation fires with min(1, 0.2·s), mirroring with min(1/2, s/2), exactly as replayed', () => {
  const n = 300;
  const spatial = [4, 4, 4];
  for (const s of [0.5, 1, 2, 3]) {
    tidy(() => {
      const { x, y } = randomBatch(n, spatial, 9);
      // rotation/scaling alone (no mirroring, no intensity channel)
      const rotated = augmentBatch(x, y, new Rng(17), { strength: s, mirrorAxes: [], imageChannels: 0 });
      const replay = new Rng(17);
      const expectRot: number[] = [];
      for (let i = 0; i < n; i++) {
        if (replay.next() < Math.min(1, 0.2 * s)) {
          expectRot.push(i);
          replay.uniform(0.7, 1.4);
          replay.uniform(-0.52, 0.52);
          replay.uniform(-0.26, 0.26);
        }
      }
      assert.deepEqual(changedSamples(x, rotated.x), expectRot, `rotation at strength ${s}`);
      const rate = expectRot.length / n;
      assert.ok(Math.abs(rate - Math.min(1, 0.2 * s)) < 0.1, `rotation rate ${rate} at strength ${s}`);
      // mirroring alone along the first axis
      const mirrored = augmentBatch(x, y, new Rng(23), {
        strength: s,
        rotation: false,
        mirrorAxes: [0],
        imageChannels: 0,
      });
      const r2 = new Rng(23);
      const expectFlip: number[] = [];
      for (let i = 0; i < n; i++) if (r2.next() < Math.min(0.5, 0.5 * s)) expectFlip.push(i);
      assert.deepEqual(changedSamples(x, mirrored.x), expectFlip, `mirroring at strength ${s}`);
    });
  }
});

// ---- foreground oversampling: a store of cases with one small cube each in a large volume ----

const PATCH = [6, 6, 6];
const SHAPE = [20, 20, 20];
let storePromise: Promise<StoredCase[]> | undefined;
function store(): Promise<StoredCase[]> {
  storePromise ??= Promise.all(
    [0, 1, 2].map(async (k) => {
      const [D, H, W] = SHAPE as [number, number, number];
      const lab = new BigInt64Array(D * H * W);
      const lo = [3 + 5 * k, 14 - 4 * k, 4 + 6 * k];
      for (let z = lo[0]!; z < lo[0]! + 2; z++)
        for (let y = lo[1]!; y < lo[1]! + 2; y++)
          for (let x = lo[2]!; x < lo[2]! + 2; x++) lab[(z * H + y) * W + x] = 1n;
      const image = Tensor.fromArray(new Float32Array(D * H * W).fill(k + 1), [1, D, H, W]);
      const labels = Tensor.fromArray(lab, [D, H, W], 'int64');
      const record = {
        originalShape: SHAPE,
        originalSpacing: [1, 1, 1],
        bbox: SHAPE.map((s) => [0, s]),
        croppedShape: SHAPE,
        resampledShape: SHAPE,
      };
      try {
        return await storeCase(path.join(root, 'store'), `c${k}`, image, labels, record as never, []);
      } finally {
        image.dispose();
        labels.dispose();
      }
    }),
  );
  return storePromise;
}

function foregroundPerSample(y: BigInt64Array, n: number): boolean[] {
  const per = y.length / n;
  return Array.from({ length: n }, (_, i) => y.subarray(i * per, (i + 1) * per).some((v) => v !== 0n));
}

test('foreground oversampling 1 puts foreground in every patch; 0 forces none (patches then hold it only by chance)', async () => {
  const cases = await store();
  const count = (fraction: number, batches: number) => {
    let fg = 0;
    let total = 0;
    for (let step = 0; step < batches; step++) {
      const b = makeBatch(
        {
          dir: path.join(root, 'store'),
          cases,
          patch: PATCH,
          batchSize: 2,
          seed: 5,
          foregroundFraction: fraction,
          augment: { strength: 0 },
        },
        step,
      );
      const f = foregroundPerSample(b.y, 2);
      if (fraction === 1) f.forEach((v, i) => assert.ok(v, `step ${step} sample ${i}: no foreground`));
      fg += f.filter(Boolean).length;
      total += 2;
    }
    return fg / total;
  };
  assert.equal(count(1, 150), 1);
  // a random 6³ patch of a 20³ volume meets a 2³ cube with probability (7/15)³ ≈ 0.10
  const random = count(0, 300);
  assert.ok(random < 0.2, `oversampling 0: ${random} of the patches hold foreground`);
  // the nnU-Net default at batch 2: round(2 · 0.67) = 1, so sample 1 of every batch is forced
  const def = makeBatch(
    { dir: path.join(root, 'store'), cases, patch: PATCH, batchSize: 2, seed: 5, augment: { strength: 0 } },
    0,
  );
  assert.equal(foregroundPerSample(def.y, 2)[1], true);
});

// ---- through the trainer: the plan's configuration and the run's options ----

let dataset: Promise<{ ds: string; model: string; plansFile: string; plans: Plans }> | undefined;
function tinyModel() {
  dataset ??= (async () => {
    const { dir: ds } = await writeSynthDataset(findTask('hippocampus'), path.join(root, 'data'), {
      seed: 3,
      size: 'tiny',
      cases: 4,
    });
    const model = path.join(root, 'model');
    const { plans, plansFile } = await plan(ds, model, { memoryGb: 1 });
    const c = plans.configurations['3d_fullres']!;
    c.network.features = c.network.features.map((_, i) => Math.min(4 * 2 ** i, 16));
    writeFileSync(plansFile, JSON.stringify(plans));
    return { ds, model, plansFile, plans };
  })();
  return dataset;
}

/** Writes the configuration's recipe fields into plans.json (undefined: removed). */
function setRecipe(plansFile: string, fields: Record<string, unknown>): void {
  const plans = JSON.parse(readFileSync(plansFile, 'utf8')) as Plans;
  Object.assign(plans.configurations['3d_fullres']!, fields);
  writeFileSync(plansFile, JSON.stringify(validatePlans(plans, plansFile)));
}

/** The loss of the first step of a fresh run (same seed: same network, same batch). */
async function firstLoss(o: Partial<TrainOptions>): Promise<number> {
  const { ds, model } = await tinyModel();
  const run = await openRun({ dataset: ds, modelDir: model, threads: 1, valPatches: 1, bf16: false, ...o });
  try {
    return await runStep(run)(0);
  } finally {
    await run.close();
  }
}

test("the trainer's loss follows the Dice/CE weights: L(a, b) = a·L(1, 0) + b·L(0, 1); the plan's weights apply, options override them", async () => {
  const { plansFile } = await tinyModel();
  setRecipe(plansFile, { lossWeights: undefined });
  const dice = await firstLoss({ diceWeight: 1, ceWeight: 0 });
  const ce = await firstLoss({ diceWeight: 0, ceWeight: 1 });
  const both = await firstLoss({});
  const weighted = await firstLoss({ diceWeight: 0.5, ceWeight: 2 });
  assert.ok(dice > 0.05 && ce > 0.05, `dice part ${dice}, ce part ${ce}`);
  const close = (a: number, b: number, what: string) =>
    assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
  close(both, dice + ce, 'default weights 1, 1');
  close(weighted, 0.5 * dice + 2 * ce, 'weights 0.5, 2');
  // the same weights from plans.json
  setRecipe(plansFile, { lossWeights: { dice: 0.5, ce: 2 } });
  close(await firstLoss({}), weighted, "the plan's lossWeights");
  // an option overrides the plan's weight of its term only
  close(await firstLoss({ ceWeight: 1 }), 0.5 * dice + ce, 'ceWeight option over the plan');
  setRecipe(plansFile, { lossWeights: undefined });
});

test("the plan's oversampling and augmentation reach the trainer's batches; options override them", async () => {
  const { plansFile } = await tinyModel();
  setRecipe(plansFile, { foregroundOversampling: 1, augmentationStrength: 0 });
  const { ds, model } = await tinyModel();
  const check = async (o: Partial<TrainOptions>, expectIdentity: boolean, expectAllForeground: boolean) => {
    const run = await openRun({ dataset: ds, modelDir: model, threads: 1, valPatches: 1, seed: 4, ...o });
    try {
      for (let step = 0; step < 4; step++) {
        const b = await run.loader.next(step);
        // the patches as sampled, with oversampling 1, before any augmentation
        const raw = sampleBatch(
          run.prepared.preprocessedDir,
          run.trainCases,
          run.patch,
          run.prepared.config.batchSize,
          stepRng(4, step, 'sample'),
          1,
        );
        const same =
          Buffer.compare(
            Buffer.from((b.x.toArray() as Float32Array).buffer),
            Buffer.from((raw.x.toArray() as Float32Array).buffer),
          ) === 0;
        assert.equal(
          same,
          expectIdentity,
          `step ${step}: batch ${same ? 'equals' : 'differs from'} the raw patches`,
        );
        const fg = foregroundPerSample(b.y.toArray() as BigInt64Array, b.y.shape[0]!);
        if (expectAllForeground) assert.ok(fg.every(Boolean), `step ${step}: a patch without foreground`);
        for (const t of [b.x, b.y, raw.x, raw.y]) t.dispose();
      }
    } finally {
      await run.close();
    }
  };
  // plans.json: oversampling 1, no augmentation → every batch is the forced raw patches
  await check({}, true, true);
  // the option overrides the plan's strength: augmented batches
  await check({ augmentationStrength: 1 }, false, false);
  setRecipe(plansFile, { foregroundOversampling: undefined, augmentationStrength: undefined });
});

test('plans.json: recipe fields are range-checked with the file, the field and the range', async () => {
  const { plans } = await tinyModel();
  const bad = (fields: Record<string, unknown>, re: RegExp) => {
    const p = structuredClone(plans);
    Object.assign(p.configurations['3d_fullres']!, fields);
    assert.throws(() => validatePlans(p, 'plans.json'), re);
  };
  bad(
    { foregroundOversampling: 1.5 },
    /plans\.json: configurations\.3d_fullres\.foregroundOversampling: must be a number ≥ 0 and ≤ 1/,
  );
  bad(
    { augmentationStrength: -1 },
    /configurations\.3d_fullres\.augmentationStrength: must be a number ≥ 0 and ≤ 3/,
  );
  bad({ lossWeights: { dice: 0, ce: 0 } }, /configurations\.3d_fullres\.lossWeights: dice and ce are both 0/);
  bad({ lossWeights: { dice: 1 } }, /lossWeights\.ce/);
  bad({ lossWeights: { dice: 1, ce: 1, focal: 1 } }, /lossWeights/);
  // the fields are optional: plans written before them still read
  assert.doesNotThrow(() => validatePlans(plans, 'plans.json'));
});
