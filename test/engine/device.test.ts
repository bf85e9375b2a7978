// Devices: --device resolution (every branch, with the build facts injected, and auto → cpu on a
// CPU build), the native build facts, and the device-generic paths on MEDSEG_TEST_DEVICE (cpu when
// unset): tensors and modules moved there, checkpoints written from there and read back on the CPU,
// optimiser state resumed onto it, and the sliding window accumulating on the device or the CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  resolveDevice,
  deviceBuild,
  gpus,
  deviceMemory,
  setCudnnBenchmark,
  DeviceError,
  manualSeed,
  randn,
  randint,
  keep,
  tidy,
  engineInfo,
} from '../../src/engine/index.js';
import {
  UNet,
  defaultPlainSpec,
  saveCheckpoint,
  loadCheckpoint,
  deepSupervisionLoss,
} from '../../src/nn/index.js';
import { SGD, AdamW } from '../../src/optim/index.js';
import { trainOnBatch } from '../../src/train/step.js';
import { slidingWindowLogits, accumulationDevice, accumulationBytes } from '../../src/infer/slidingWindow.js';
import { testDevice, repoRoot } from '../helpers/device.js';
import { assertClose } from '../helpers/numeric.js';

const device = testDevice();
const GiB = 2 ** 30;
const tinySpec = (classes = 3, deepSupervision = true) => ({
  ...defaultPlainSpec([16, 16, 16], 1, classes, 3),
  features: [4, 8, 16],
  deepSupervision,
});

test('--device resolution: auto, cpu, cuda[:N], and one error naming what is missing', () => {
  const cpuBuild = { cuda: false, gpus: 0, torchVersion: '1.13.0' };
  const cudaNoGpu = { cuda: true, gpus: 0, torchVersion: '2.11.0' };
  const twoGpus = { cuda: true, gpus: 2, torchVersion: '2.11.0' };
  assert.equal(resolveDevice('auto', '--device', cpuBuild), 'cpu');
  assert.equal(resolveDevice(undefined, '--device', cudaNoGpu), 'cpu');
  assert.equal(resolveDevice('auto', '--device', twoGpus), 'cuda:0');
  assert.equal(resolveDevice('CPU', '--device', twoGpus), 'cpu');
  assert.equal(resolveDevice('cuda', '--device', twoGpus), 'cuda:0');
  assert.equal(resolveDevice('cuda:1', '--device', twoGpus), 'cuda:1');
  assert.throws(
    () => resolveDevice('cuda', '--device', cpuBuild),
    (e: Error) => {
      assert.ok(e instanceof DeviceError);
      assert.match(e.message, /^--device cuda: .*CPU-only libtorch \(1\.13\.0\).*--device cpu/);
      return true;
    },
  );
  assert.throws(() => resolveDevice('cuda:0', '--device', cudaNoGpu), /has CUDA .* but no GPU is visible/);
  assert.throws(
    () => resolveDevice('cuda:2', '--device', twoGpus),
    /only 2 GPU\(s\) visible \(cuda:0\.\.cuda:1\)/,
  );
  for (const bad of ['gpu', 'cuda:', 'cuda:-1', 'cuda:x', 'mps', ''])
    assert.throws(
      () => resolveDevice(bad, '--device', twoGpus),
      /--device must be auto, cpu, cuda or cuda:N/,
    );
});

test('the native build facts agree with the libtorch the addon was built against', () => {
  const config = JSON.parse(readFileSync(path.join(repoRoot, 'native/torch-config.json'), 'utf8')) as {
    cuda: boolean;
    version: string;
  };
  const b = deviceBuild();
  assert.equal(b.cuda, config.cuda);
  assert.equal(engineInfo().torchVersion.split('+')[0]!.startsWith(config.version.replace(/\.0$/, '')), true);
  assert.equal(b.gpus, engineInfo().cudaDevices);
  assert.equal(gpus().length, b.gpus);
  // auto follows the real facts: a CPU build (this machine's Debian libtorch) always gets the CPU
  assert.equal(resolveDevice('auto'), b.cuda && b.gpus > 0 ? 'cuda:0' : 'cpu');
  if (!b.cuda) {
    assert.equal(b.cudaRuntime, null);
    assert.equal(b.cudnn, null);
    assert.throws(() => resolveDevice('cuda'), /CPU-only libtorch/);
  } else if (b.gpus > 0) {
    const g = gpus()[0]!;
    assert.ok(g.name && g.name.length > 0, 'a GPU has a name');
    assert.ok(g.totalBytes! > GiB && g.freeBytes! > 0 && g.freeBytes! <= g.totalBytes!);
    assert.deepEqual(deviceMemory('cuda:0') !== null, true);
  }
  assert.equal(deviceMemory('cpu'), null);
  // cuDNN's benchmark switch round-trips (a flag on a CPU build)
  const prev = setCudnnBenchmark(true);
  assert.equal(setCudnnBenchmark(false), true);
  assert.equal(setCudnnBenchmark(prev), false);
});

test('the sliding window accumulates on the device when it fits, else on the CPU', () => {
  const mem = { freeBytes: 10 * GiB, totalBytes: 16 * GiB };
  assert.equal(accumulationDevice('cpu', 100 * GiB, null), 'cpu');
  // 16 GiB device: 4 GiB kept for activations, 6 GiB usable of the 10 free
  assert.equal(accumulationDevice('cuda:0', 5 * GiB, mem), 'cuda:0');
  assert.equal(accumulationDevice('cuda:0', 7 * GiB, mem), 'cpu');
  // free memory unknown: up to 2 GiB stays on the device
  assert.equal(accumulationDevice('cuda:0', GiB, null), 'cuda:0');
  assert.equal(accumulationDevice('cuda:0', 3 * GiB, null), 'cpu');
  // BraTS: 4 classes + weights + 2 channels of 240×240×155 float32 ≈ 250 MB
  assert.equal(accumulationBytes([155, 240, 240], 2, 4), 4 * 155 * 240 * 240 * 7);
});

test(`sliding window on ${device}: device and CPU accumulation give the same logits, padded or not`, () => {
  manualSeed(11);
  const net = new UNet(tinySpec(3, false)).eval();
  if (device !== 'cpu') net.to(device);
  for (const shape of [
    [1, 20, 24, 18],
    [1, 12, 30, 16], // smaller than the patch along two axes: padded and cropped back
  ]) {
    const image = keep(randn(shape)); // on the CPU, as predict reads it
    const run = (accumulate: 'cpu' | 'device' | 'auto') =>
      slidingWindowLogits(net, image, { patch: [16, 16, 16], numClasses: 3, device, accumulate });
    const onDevice = run('device');
    const onCpu = run('cpu');
    const auto = run('auto');
    assert.equal(onDevice.device, device);
    assert.equal(onCpu.device, 'cpu');
    assert.equal(auto.device, device, 'a tiny volume fits on the device');
    assert.deepEqual(onDevice.shape, [3, ...shape.slice(1)]);
    const a = tidy(() => onDevice.to('cpu').toArray() as Float32Array);
    const b = onCpu.toArray() as Float32Array;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    // the same windows and weights; only the order of float additions may differ across devices
    assert.ok(worst <= (device === 'cpu' ? 0 : 1e-4), `max difference ${worst}`);
    for (const t of [onDevice, onCpu, auto, image]) t.dispose();
  }
  net.dispose();
});

test(`checkpoints written from ${device} read back on the CPU; optimiser state resumes onto ${device}`, async () => {
  manualSeed(3);
  const net = new UNet(tinySpec());
  if (device !== 'cpu') net.to(device);
  for (const p of net.parameters()) assert.equal(p.device, device);
  const opt = new AdamW(net.parameters(), { lr: 1e-3 });
  const x = keep(randn([1, 1, 16, 16, 16], { device }));
  const y = keep(randint(0, 3, [1, 16, 16, 16], { device }));
  const parts = {
    forward: (t: typeof x) => net.forwardAll(t),
    loss: deepSupervisionLoss,
    opt,
    precision: null,
    lrAt: () => 1e-3,
  };
  trainOnBatch(parts, 0, { x, y });
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'medseg-device-')), 'c.safetensors');
  await saveCheckpoint(file, net, opt, { epoch: 1 });
  // back on the CPU: the same weights
  const cpuNet = new UNet(tinySpec());
  assert.deepEqual(await loadCheckpoint(file, cpuNet), { epoch: 1 });
  for (const [k, t] of net.stateDict())
    assert.deepEqual(cpuNet.stateDict().get(k)!.toArray(), t.toArray(), `${k} differs on the CPU`);
  // resumed onto the device: a second step continues from the same moments as the original
  manualSeed(3);
  const net2 = new UNet(tinySpec());
  if (device !== 'cpu') net2.to(device);
  const opt2 = new AdamW(net2.parameters(), { lr: 1e-3 });
  await loadCheckpoint(file, net2, opt2);
  for (const [, s] of opt2.stateDict().tensors) assert.equal(s.device, device);
  trainOnBatch(parts, 1, { x, y });
  trainOnBatch({ ...parts, forward: (t) => net2.forwardAll(t), opt: opt2 }, 1, { x, y });
  for (const [k, t] of net.stateDict())
    if (device === 'cpu')
      assert.deepEqual(
        net2.stateDict().get(k)!.toArray(),
        t.toArray(),
        `${k} differs after the resumed step`,
      );
    // cuDNN's backward kernels may add in a different order from run to run
    else
      assertClose(net2.stateDict().get(k)!, t, {
        rtol: 1e-4,
        atol: 1e-6,
        what: `${k} after the resumed step`,
      });
  for (const d of [x, y]) d.dispose();
  for (const o of [opt, opt2]) o.dispose();
  for (const n of [net, net2, cpuNet]) n.dispose();
});

test('SGD state resumes onto the parameters device too', async () => {
  manualSeed(4);
  const net = new UNet(tinySpec());
  if (device !== 'cpu') net.to(device);
  const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = keep(randn([1, 1, 16, 16, 16], { device }));
  const y = keep(randint(0, 3, [1, 16, 16, 16], { device }));
  trainOnBatch(
    { forward: (t) => net.forwardAll(t), loss: deepSupervisionLoss, opt, precision: null, lrAt: () => 0.01 },
    0,
    { x, y },
  );
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'medseg-device-')), 's.safetensors');
  await saveCheckpoint(file, net, opt, {});
  const opt2 = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  await loadCheckpoint(file, net, opt2);
  const states = [...opt2.stateDict().tensors.values()];
  assert.ok(states.length > 0);
  for (const s of states) assert.equal(s.device, device);
  for (const d of [x, y]) d.dispose();
  for (const o of [opt, opt2]) o.dispose();
  net.dispose();
});
