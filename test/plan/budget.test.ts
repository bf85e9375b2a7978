// The budget rule on made-up calibrations (pure and fast): which network a budget buys, the training
// section that goes with it, the too-small error, the plans.json sections' checks, the step-time fit
// and bf16 detection from a cpuinfo text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BudgetTooSmallError,
  MIN_EPOCH_STEPS,
  MIN_PATCH_FRACTION,
  budgetCandidates,
  chooseCandidate,
  patchSequence,
  STEP_SHARE,
  TARGET_STEPS,
  CONTEXT_STEPS,
  CONTEXT_CAP,
  MIN_PATCH_AXIS,
  contextCap,
  candidateNetwork,
  validatePlans,
  type Plans,
  fitStepTime,
  hasNativeBf16,
  planForBudget,
  predictStepSeconds,
  stepGflop,
  type Configuration,
  type StepTimeModel,
} from '../../src/plan/index.js';
import { parseCpuInfo } from '../../src/engine/cpu.js';

/** A BraTS-like nnU-Net configuration: 1 mm isotropic, patch 80x112x128, 32…320, batch 2. */
function bratsBase(): Configuration {
  const seed = {
    name: '3d_fullres',
    spacing: [1, 1, 1],
    medianShape: [138, 169, 138],
    patch: [80, 112, 128],
    batchSize: 2,
    normalization: [{ scheme: 'zscore' }, { scheme: 'zscore' }],
    imageInterpolation: 'linear',
    labelInterpolation: 'linear',
    network: {
      architecture: 'plain',
      dims: 3,
      inputChannels: 2,
      numClasses: 4,
      features: [32],
      kernelSizes: [],
      strides: [],
      encoderBlocks: [2],
      decoderConvs: [2],
      deepSupervision: true,
    },
  } as Configuration;
  const { patch, network } = candidateNetwork(seed, seed.patch, { base: 32, cap: 320 });
  return { ...seed, patch, network };
}

/** A machine whose step takes `handSeconds` for the 64x96x96 16…128 network (no overhead). */
function machine(handSeconds: number): StepTimeModel {
  const hand = candidateNetwork(bratsBase(), [64, 96, 96], { base: 16, cap: 128 });
  return { overheadSeconds: 0, gflopPerSecond: stepGflop(hand.network, hand.patch, 2) / handSeconds };
}

const voxels = (patch: readonly number[]) => patch.reduce((a, b) => a * b, 1);

const plan = (seconds: number, model: StepTimeModel) =>
  planForBudget({ base: bratsBase(), seconds, model, precision: 'bf16', calibration: 'test' });

test("a 40-minute budget on a machine like the colleague's buys context before steps past the floor", () => {
  const c = plan(40 * 60, machine(1.9));
  // the hand-sized plan was 64x96x96 at 16…128 with ~1,200 steps; at ≥ 500 steps this machine
  // affords nnU-Net's whole patch at that width, and no wider network gets 1,000 steps there
  assert.deepEqual(c.patch, bratsBase().patch);
  assert.ok(voxels(c.patch) > voxels([64, 96, 96]));
  assert.deepEqual(c.network.features, [16, 32, 64, 128, 128, 128]);
  assert.ok(c.budget!.steps >= CONTEXT_STEPS && c.budget!.steps < TARGET_STEPS, `${c.budget!.steps} steps`);
  assert.equal(c.budget!.steps, c.training!.epochs * c.training!.itersPerEpoch);
  assert.ok(c.budget!.steps * c.budget!.stepSeconds <= STEP_SHARE * 40 * 60);
  assert.equal(c.training!.optimizer, 'adamw');
  assert.equal(c.training!.bf16, true);
  assert.ok(c.training!.warmupSteps > 0);
  assert.match(c.budget!.why, /80x112x128/);
  // spacing, normalisation and interpolation stay nnU-Net's (the preprocessed data stay valid)
  assert.deepEqual(c.spacing, bratsBase().spacing);
  assert.deepEqual(c.normalization, bratsBase().normalization);
});

test('width needs the thousand-step floor: at 4 hours the widest network that gets 1,000 steps', () => {
  const model = machine(1.9);
  const seconds = 4 * 3600;
  const c = plan(seconds, model);
  assert.deepEqual(c.patch, bratsBase().patch);
  assert.ok(c.budget!.steps >= TARGET_STEPS, `${c.budget!.steps} steps`);
  // the next wider network at the same patch would get fewer than 1,000 (but more than 500) steps
  const wider = budgetCandidates(bratsBase(), model, seconds).find(
    (k) => k.patch.join() === c.patch.join() && k.width.base > c.network.features[0]!,
  )!;
  assert.ok(wider.steps < TARGET_STEPS && wider.steps >= CONTEXT_STEPS, `${wider.steps} steps`);
});

test('patches are tried as nnU-Net shrinks its own: one axis at a time, the largest relative to the median image', () => {
  const base = bratsBase();
  const seq = patchSequence(base);
  assert.deepEqual(seq[0], base.patch);
  for (let i = 1; i < seq.length; i++) {
    const [a, b] = [seq[i - 1]!, seq[i]!];
    assert.ok(voxels(b) < voxels(a), `${a.join('x')} → ${b.join('x')}`);
    const changed = a.map((v, d) => (v !== b[d] ? d : -1)).filter((d) => d >= 0);
    assert.equal(changed.length, 1, `one axis at a time: ${a.join('x')} → ${b.join('x')}`);
    const d = changed[0]!;
    const rel = a.map((v, k) => v / base.medianShape[k]!);
    assert.equal(
      rel[d],
      Math.max(...rel),
      `${a.join('x')}: axis ${d} is not the largest relative to the median`,
    );
    assert.ok(b[d]! >= 0.75 * a[d]!, `fine steps: ${a[d]} → ${b[d]}`);
    // every patch is one its network's strides divide
    assert.deepEqual(candidateNetwork(base, b, { base: 16, cap: 128 }).patch, b);
  }
  const last = seq.at(-1)!;
  assert.ok(voxels(last) >= MIN_PATCH_FRACTION * voxels(base.patch));
  assert.ok(last.every((p) => p >= 32));
  // the rule takes the largest of them that reaches the step floor: the one before it does not
  const model = machine(1.9);
  const cands = budgetCandidates(base, model, 20 * 60);
  const { chosen } = chooseCandidate(cands, 20 * 60);
  const at = seq.findIndex((p) => p.join() === chosen.patch.join());
  assert.ok(at > 0);
  const larger = cands.filter((c) => c.patch.join() === seq[at - 1]!.join() && c.width.base >= 16);
  assert.ok(larger.length > 0 && larger.every((c) => c.steps < CONTEXT_STEPS));
  assert.ok(chosen.steps >= CONTEXT_STEPS);
});

test("more budget buys a larger network; a huge budget gets nnU-Net's plan unchanged", () => {
  const model = machine(1.9);
  const sizes = [10, 20, 40, 240].map((m) => {
    const c = plan(m * 60, model);
    return c.patch.reduce((a, b) => a * b, 1) * c.network.features[0]!;
  });
  for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i]! >= sizes[i - 1]!, `sizes ${sizes.join(' ')}`);
  assert.ok(sizes[3]! > sizes[0]!);
  const huge = plan(100 * 3600, model);
  assert.deepEqual(huge.patch, bratsBase().patch);
  assert.deepEqual(huge.network, bratsBase().network);
  assert.equal(huge.training!.optimizer, 'sgd'); // enough steps for nnU-Net's own schedule
});

test('a slower machine gets a smaller network for the same budget', () => {
  const fast = plan(20 * 60, machine(1.0));
  const slow = plan(20 * 60, machine(8.0));
  const cost = (c: Configuration) => stepGflop(c.network, c.patch, c.batchSize);
  assert.ok(cost(slow) < cost(fast));
  assert.ok(slow.budget!.steps >= CONTEXT_STEPS || slow.network.features[0] === 8);
});

/** A prostate-like configuration: 3.6 x 1.13 x 1.13 mm, nnU-Net's patch the whole 20x160x160 image. */
function prostateBase(foregroundShape?: number[]): Configuration {
  const seed = {
    ...bratsBase(),
    spacing: [3.6, 1.13, 1.13],
    medianShape: [20, 160, 160],
    patch: [20, 160, 160],
    ...(foregroundShape ? { foregroundShape } : {}),
  };
  const { patch, network } = candidateNetwork(seed, seed.patch, { base: 32, cap: 320 });
  return { ...seed, patch, network };
}

test('a small object caps the context a budget buys at a multiple of its median box', () => {
  const fg = [10, 31, 38]; // the synthetic prostate's median foreground box
  const base = prostateBase(fg);
  const cap = contextCap(base)!;
  assert.ok(cap, 'the cap binds on a whole-image patch around a small object');
  cap.forEach((p, d) => {
    assert.ok(p <= base.patch[d]!, `axis ${d}: ${p} within nnU-Net's ${base.patch[d]}`);
    // within one stride of the asked CONTEXT_CAP × box (the topology rounds to its strides)
    const asked = Math.min(base.patch[d]!, Math.max(MIN_PATCH_AXIS, Math.ceil(CONTEXT_CAP * fg[d]!)));
    assert.ok(Math.abs(p - asked) <= 16, `axis ${d}: ${p} vs ${asked}`);
  });
  assert.ok(voxels(cap) < 0.5 * voxels(base.patch));
  assert.deepEqual(candidateNetwork(base, cap, { base: 16, cap: 128 }).patch, cap);
  assert.deepEqual(patchSequence(base)[0], cap);
  // whatever the budget, no patch beyond the cap; a huge one buys width there instead
  const model = machine(1.9);
  for (const minutes of [10, 40, 100 * 60]) {
    const c = planForBudget({ base, seconds: minutes * 60, model, precision: 'bf16', calibration: 'test' });
    c.patch.forEach((p, d) => assert.ok(p <= cap[d]!, `${minutes} min: ${c.patch.join('x')}`));
    assert.match(c.budget!.why, new RegExp(`${CONTEXT_CAP}× the median foreground box, 10x31x38 voxels`));
    if (minutes > 60) assert.deepEqual(c.network.features.slice(0, 2), [32, 64]);
  }
  // a tiny object: never below MIN_PATCH_AXIS along an axis nnU-Net's patch has room for
  const tiny = contextCap(prostateBase([1, 2, 2]))!;
  assert.deepEqual(tiny.slice(1), [MIN_PATCH_AXIS, MIN_PATCH_AXIS]);
  assert.equal(tiny[0], 20);
});

test('where the object fills the patch, or the plan does not know its box, the rule is unchanged', () => {
  const model = machine(1.9);
  const bare = bratsBase();
  for (const fg of [
    [79, 86, 71],
    [40, 60, 60],
  ]) {
    // BraTS's median tumour box, and one that binds on no axis at 2.5×
    const boxed = { ...bare, foregroundShape: fg };
    assert.equal(contextCap(boxed), null, fg.join('x'));
    assert.deepEqual(patchSequence(boxed), patchSequence(bare));
    for (const minutes of [10, 40]) {
      const [a, b] = [boxed, bare].map((base) =>
        planForBudget({ base, seconds: minutes * 60, model, precision: 'bf16', calibration: 'test' }),
      );
      assert.deepEqual(a.patch, b.patch);
      assert.deepEqual(a.network, b.network);
      assert.doesNotMatch(a.budget!.why, /foreground box/);
    }
  }
  assert.equal(contextCap(prostateBase()), null);
});

test('a budget too small for one epoch of the smallest network: one error with the minimum budget', () => {
  const model = machine(2000); // a very slow machine
  assert.throws(
    () => plan(30, model),
    (e: unknown) => {
      assert.ok(e instanceof BudgetTooSmallError);
      assert.match(e.message, /too small for one epoch/);
      assert.match(e.message, /give at least --budget \d+(s|m)/);
      // the minimum it names is enough: planning with it succeeds with ≥ one epoch
      const ok = plan(e.minimumSeconds + 1, model);
      assert.ok(ok.budget!.steps >= MIN_EPOCH_STEPS);
      return true;
    },
  );
});

test('the step-time fit recovers a line and predicts from GFLOP', () => {
  const pts = [1, 4, 9, 20].map((g) => ({ name: `${g}`, gflop: g, seconds: 0.2 + g / 50 }));
  const m = fitStepTime(pts);
  assert.ok(Math.abs(m.overheadSeconds - 0.2) < 1e-9);
  assert.ok(Math.abs(m.gflopPerSecond - 50) < 1e-6);
  assert.ok(Math.abs(predictStepSeconds(m, 100) - 2.2) < 1e-9);
  // a negative intercept is not a cost: the line goes through the origin then
  const m2 = fitStepTime([
    { name: 'a', gflop: 10, seconds: 0.5 },
    { name: 'b', gflop: 20, seconds: 1.5 },
  ]);
  assert.equal(m2.overheadSeconds, 0);
});

test('stepGflop counts a one-stage-deep network by hand', () => {
  // 2 stages, 1 channel in, 2 out features 4/8, kernel 3³, stride 2, 2 classes, patch 8³, batch 1
  const spec = {
    architecture: 'plain' as const,
    dims: 3,
    inputChannels: 1,
    numClasses: 2,
    features: [4, 8],
    kernelSizes: [
      [3, 3, 3],
      [3, 3, 3],
    ],
    strides: [
      [1, 1, 1],
      [2, 2, 2],
    ],
    encoderBlocks: [2, 2],
    decoderConvs: [2],
    deepSupervision: true,
  };
  const v0 = 512;
  const v1 = 64;
  const enc = v0 * 27 * (1 * 4 + 4 * 4) + v1 * 27 * (4 * 8 + 8 * 8);
  const dec = v0 * 8 * 4 + v0 * 27 * (2 * 4 * 4 + 4 * 4) + v0 * 4 * 2;
  assert.ok(Math.abs(stepGflop(spec, [8, 8, 8], 1) - (6 * (enc + dec)) / 1e9) < 1e-15);
});

test('bf16 by default only where the CPU flags say native bf16', () => {
  const zen4 = parseCpuInfo(
    'processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n\nprocessor\t: 1\n',
  );
  assert.equal(zen4.model, 'AMD EPYC 9R14');
  assert.equal(hasNativeBf16(zen4.flags), true);
  const spr = parseCpuInfo('model name : Intel Xeon\nflags : avx512f amx_tile amx_bf16\n');
  assert.equal(hasNativeBf16(spr.flags), true);
  const skylake = parseCpuInfo('model name : Intel Xeon\nflags : avx2 avx512f avx512bw avx512_vnni\n');
  assert.equal(hasNativeBf16(skylake.flags), false);
  assert.equal(hasNativeBf16(parseCpuInfo('').flags), false);
});

test('plans.json budget and training sections: a written plan reads back valid, broken ones are named', () => {
  const c = JSON.parse(JSON.stringify(plan(40 * 60, machine(1.9)))) as Configuration;
  const plans = (conf: unknown) =>
    ({
      version: 1,
      dataset: 'BraTS',
      axes: 'zyx',
      channelNames: ['FLAIR', 'T1c'],
      labelValues: [0, 1, 2, 3],
      memoryGb: 8,
      configurations: { '3d_fullres': conf },
      lowresReason: '',
    }) as Plans;
  const back = validatePlans(plans(c), 'plans.json').configurations['3d_fullres']!;
  assert.deepEqual(back.budget, c.budget);
  assert.deepEqual(back.training, c.training);
  validatePlans(plans(bratsBase()), 'plans.json'); // nnU-Net's plan has neither section
  assert.throws(
    () => validatePlans(plans({ ...c, training: { ...c.training!, optimizer: 'adam' } }), 'plans.json'),
    /plans\.json: configurations\.3d_fullres\.training\.optimizer/,
  );
  assert.throws(
    () => validatePlans(plans({ ...c, training: { ...c.training!, epochs: 2.5 } }), 'plans.json'),
    /configurations\.3d_fullres\.training\.epochs/,
  );
  assert.throws(
    () => validatePlans(plans({ ...c, budget: { ...c.budget!, steps: -1 } }), 'plans.json'),
    /configurations\.3d_fullres\.budget\.steps/,
  );
});

test('the chosen network is timed and the plan re-chosen from the measurement, once per machine', async () => {
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const {
    calibrationKey,
    calibrationFile,
    fitPlansToBudget,
    keyDigest,
    networkPointName,
    MAX_VERIFY_ROUNDS,
  } = await import('../../src/plan/index.js');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'medseg-verify-'));
  // a machine whose big networks run slower per GFLOP than the small probes (as caches and memory
  // bandwidth make a real CPU do): 100 GFLOP/s at 0 GFLOP, falling with size
  const trueSeconds = (gflop: number) => (gflop / 100) * (1 + gflop / 300);
  const probes = [5, 20, 60].map((g, i) => ({ name: `probe${i}`, gflop: g, seconds: trueSeconds(g) }));
  const key = calibrationKey('fp32', 1);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    calibrationFile(key, dir),
    JSON.stringify({ key, digest: keyDigest(key), measuredAt: 'test', points: probes, model: {} }),
  );
  const timed: string[] = [];
  const timeStep = (spec: Parameters<typeof stepGflop>[0], patch: number[], batch: number) => {
    timed.push(patch.join('x'));
    return trueSeconds(stepGflop(spec, patch, batch));
  };
  const plans = { configurations: { '3d_fullres': bratsBase() } } as unknown as Plans;
  const logs: string[] = [];
  const seconds = 40 * 60;
  const unverified = await fitPlansToBudget(plans, {
    seconds,
    fp32: true,
    threads: 1,
    cacheDir: dir,
    verify: false,
  });
  assert.equal(timed.length, 0);
  const fitted = (
    await fitPlansToBudget(plans, {
      seconds,
      fp32: true,
      threads: 1,
      cacheDir: dir,
      timeStep,
      log: (s) => logs.push(s),
    })
  ).configurations['3d_fullres']!;
  assert.ok(timed.length >= 1 && timed.length <= MAX_VERIFY_ROUNDS, `timed ${timed.length} networks`);
  assert.ok(logs.some((l) => /budget check: .* predicted .* measured/.test(l)));
  // the probes under-predict the big network: unchecked, the plan promises more steps than the budget holds
  const before = unverified.configurations['3d_fullres']!;
  const beforeTrue = trueSeconds(stepGflop(before.network, before.patch, before.batchSize));
  assert.ok(before.budget!.steps * beforeTrue > STEP_SHARE * seconds * 1.2, 'the unchecked plan overruns');
  // checked: the chosen network was measured, and its steps fit the budget within the fit's error
  const cache = JSON.parse(readFileSync(calibrationFile(key, dir), 'utf8')) as { points: { name: string }[] };
  assert.ok(
    cache.points.some((p) => p.name === networkPointName(fitted)),
    'the chosen network is in the cache',
  );
  const trueStep = trueSeconds(stepGflop(fitted.network, fitted.patch, fitted.batchSize));
  assert.ok(
    fitted.budget!.steps * trueStep <= STEP_SHARE * seconds * 1.1,
    `${fitted.budget!.steps} × ${trueStep}`,
  );
  assert.ok(fitted.budget!.steps * trueStep >= STEP_SHARE * seconds * 0.7);
  // the next plan on this machine starts from the measured points: nothing timed again
  timed.length = 0;
  const again = (await fitPlansToBudget(plans, { seconds, fp32: true, threads: 1, cacheDir: dir, timeStep }))
    .configurations['3d_fullres']!;
  assert.equal(timed.length, 0);
  assert.equal(networkPointName(again), networkPointName(fitted));
});
