// The calibration cache: keyed by machine and libtorch build, reused only on an exact key match
// (a cache copied from another machine or build is measured again), and really measured otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  addCalibrationPoint,
  calibrate,
  calibrationFile,
  calibrationKey,
  keyDigest,
  readCalibration,
  thisCpu,
  planTopology,
  idleEquivalentSeconds,
  timeTrainingStep,
  type Calibration,
} from '../../src/plan/index.js';
import { engineInfo } from '../../src/engine/index.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'medseg-cal-'));

/** A tiny probe (16³, 4…8 features): milliseconds per step. */
function tinyProbes() {
  const patch = [16, 16, 16];
  const topo = planTopology(patch, [1, 1, 1], 2);
  const spec = {
    architecture: 'plain' as const,
    dims: 3,
    inputChannels: 1,
    numClasses: 2,
    features: [4, 8],
    kernelSizes: topo.kernelSizes,
    strides: topo.strides,
    encoderBlocks: [1, 1],
    decoderConvs: [1],
    deepSupervision: true,
  };
  return [
    { name: 'tiny a', spec, patch, batch: 1 },
    { name: 'tiny b', spec: { ...spec, features: [8, 16] }, patch, batch: 1 },
  ];
}

test('the key names this CPU, its flags, threads and libtorch; any difference is another file', () => {
  const key = calibrationKey('fp32', 2);
  assert.equal(key.cpuModel, thisCpu().model);
  assert.equal(key.torchVersion, engineInfo().torchVersion);
  assert.equal(key.threads, 2);
  assert.equal(key.precision, 'fp32');
  for (const f of key.cpuFlags) assert.ok(thisCpu().flags.includes(f));
  const variants = [
    { ...key, cpuModel: 'Other CPU' },
    { ...key, cpuFlags: [...key.cpuFlags, 'amx_bf16'] },
    { ...key, threads: 3 },
    { ...key, torchVersion: '2.11.0' },
    { ...key, build: `${key.build}x` },
    { ...key, precision: 'bf16' as const },
  ];
  const digests = new Set([key, ...variants].map(keyDigest));
  assert.equal(digests.size, variants.length + 1);
});

test("a cache from another machine or build is never reused, even under this key's file name", () => {
  const dir = tmp();
  const key = calibrationKey('fp32', 2);
  const points = [
    { name: 'a', gflop: 1, seconds: 0.5 },
    { name: 'b', gflop: 2, seconds: 0.9 },
  ];
  const foreign = (k: object) =>
    JSON.stringify({ key: k, digest: keyDigest(key), measuredAt: 'x', points, model: {} });
  writeFileSync(calibrationFile(key, dir), foreign({ ...key, cpuModel: 'Some Xeon' }));
  assert.equal(readCalibration(key, dir), null);
  writeFileSync(calibrationFile(key, dir), foreign({ ...key, torchVersion: '2.6.0' }));
  assert.equal(readCalibration(key, dir), null);
  writeFileSync(calibrationFile(key, dir), '{ not json');
  assert.equal(readCalibration(key, dir), null);
  writeFileSync(calibrationFile(key, dir), foreign(key));
  const ok = readCalibration(key, dir);
  assert.ok(ok);
  // the model is refitted from the stored points, not trusted from the file
  assert.ok(Math.abs(ok.model.gflopPerSecond - 1 / 0.4) < 1e-9);
});

test('calibrate measures once, caches, reuses the cache, and measures again when asked', async () => {
  const dir = tmp();
  const logs: string[] = [];
  const first = await calibrate({
    precision: 'fp32',
    threads: 1,
    cacheDir: dir,
    probes: tinyProbes(),
    log: (s) => logs.push(s),
  });
  assert.equal(first.points.length, 2);
  for (const p of first.points) assert.ok(p.seconds > 0 && p.gflop > 0);
  assert.ok(first.points[1]!.gflop > first.points[0]!.gflop);
  const file = calibrationFile(first.key, dir);
  assert.ok(existsSync(file));
  const stored = JSON.parse(readFileSync(file, 'utf8')) as Calibration;
  assert.deepEqual(stored.key, calibrationKey('fp32', 1));
  logs.length = 0;
  const again = await calibrate({
    precision: 'fp32',
    threads: 1,
    cacheDir: dir,
    probes: tinyProbes(),
    log: (s) => logs.push(s),
  });
  assert.equal(again.measuredAt, first.measuredAt);
  assert.ok(logs.some((l) => /cached/.test(l)));
  // another thread count is another machine setting: measured, not reused
  const other = await calibrate({ precision: 'fp32', threads: 2, cacheDir: dir, probes: tinyProbes() });
  assert.notEqual(calibrationFile(other.key, dir), file);
  const refreshed = await calibrate({
    precision: 'fp32',
    threads: 1,
    cacheDir: dir,
    probes: tinyProbes(),
    refresh: true,
  });
  assert.notEqual(refreshed.measuredAt, first.measuredAt);
});

test('a network timed again keeps its faster time (a loaded machine does not shrink later plans)', async () => {
  const dir = tmp();
  const c = await calibrate({ precision: 'fp32', threads: 1, cacheDir: dir, probes: tinyProbes() });
  const gflop = c.points[0]!.gflop;
  const fast = await addCalibrationPoint(c, { name: 'checked', gflop, seconds: 1 }, dir);
  const slow = await addCalibrationPoint(fast, { name: 'checked', gflop, seconds: 5 }, dir);
  const stored = () => readCalibration(c.key, dir)!.points.filter((p) => p.name === 'checked');
  assert.deepEqual(
    slow.points.filter((p) => p.name === 'checked').map((p) => p.seconds),
    [1],
  );
  assert.deepEqual(
    stored().map((p) => p.seconds),
    [1],
  );
  // a faster timing replaces it, and the model is refitted
  const faster = await addCalibrationPoint(slow, { name: 'checked', gflop, seconds: 0.5 }, dir);
  assert.deepEqual(
    stored().map((p) => p.seconds),
    [0.5],
  );
  assert.notDeepEqual(faster.model, slow.model);
});

test('a step timed on a busy machine counts its CPU time per thread, an idle one its wall time', () => {
  // idle: 2 threads kept busy for the whole step (CPU ≈ 2 × wall): the wall time
  assert.equal(idleEquivalentSeconds(1.04, 2.05, 2), 1.04);
  // starved: the process got 1.56 s per thread in 2.48 s: it waited for cores
  assert.equal(idleEquivalentSeconds(2.48, 3.12, 2), 1.56);
  // one thread: the same rule (1.2 s of wall for 0.5 s of CPU: starved)
  assert.equal(idleEquivalentSeconds(1.2, 0.5, 1), 0.5);
  // a little below a full share (serial parts, short waits) is not load: wall time
  assert.equal(idleEquivalentSeconds(1.2, 2.0, 2), 1.2);
  // a real step: the fastest of two timed steps is at most half the wall time of all three
  const wall0 = performance.now();
  const { spec, patch } = tinyProbes()[1]!;
  const s = timeTrainingStep(spec, patch, 1, 'fp32', 2);
  const wall = (performance.now() - wall0) / 1000;
  assert.ok(s > 0 && s <= wall / 2, `${s} s of ${wall} s`);
});
