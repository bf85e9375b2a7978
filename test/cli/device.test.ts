// The CLI's --device option (train, predict, bench share src/cli/device.ts) and `medseg info`:
// a CUDA request on this CPU build is one usage error naming what is missing, before any work;
// info --json reports the libtorch build, the CPU features and the threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/device.js';
import { UsageError } from '../../src/cli/command.js';
import { parseDeviceOption } from '../../src/cli/device.js';
import { deviceBuild } from '../../src/engine/index.js';
import { parseCpuInfo, cudaVersionString, cudnnVersionString } from '../../src/engine/index.js';

const cudaBuild = deviceBuild().cuda;
const bin = path.join(repoRoot, 'bin/medseg');

test('--device parsing: auto → cpu on a CPU build, bad values and unmet CUDA requests are usage errors', async () => {
  assert.equal(await parseDeviceOption('cpu'), 'cpu');
  if (!cudaBuild) assert.equal(await parseDeviceOption('auto'), 'cpu');
  await assert.rejects(
    parseDeviceOption('gpu'),
    (e: Error) => e instanceof UsageError && /--device must be auto/.test(e.message),
  );
  if (!cudaBuild)
    await assert.rejects(
      parseDeviceOption('cuda:0'),
      (e: Error) => e instanceof UsageError && /CPU-only libtorch/.test(e.message),
    );
});

test(
  'train, predict and bench refuse --device cuda on a CPU build with one line, exit code 2',
  { skip: cudaBuild ? 'this addon has CUDA' : false },
  () => {
    for (const args of [
      ['train', '/nonexistent-dataset', '--device', 'cuda'],
      [
        'predict',
        '-i',
        '/nonexistent.nii.gz',
        '-o',
        '/tmp/x.nii.gz',
        '-m',
        '/nonexistent',
        '--device',
        'cuda:1',
      ],
      ['bench', 'train-step', '--device', 'cuda'],
    ]) {
      const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, /--device cuda(:1)?: the native engine was built against a CPU-only libtorch/);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    }
    // fp16 without a GPU
    const r = spawnSync(process.execPath, [bin, 'bench', 'train-step', '--fp16', '--device', 'cpu'], {
      encoding: 'utf8',
    });
    assert.match(r.stderr, /--fp16 needs a GPU/);
  },
);

test('medseg info --json: libtorch build, devices, CPU features, threads', () => {
  const out = execFileSync(process.execPath, [bin, 'info', '--json'], { encoding: 'utf8' });
  const info = JSON.parse(out.trim().split('\n').pop()!) as {
    torch: {
      version: string;
      build: string;
      cudaRuntime: string | null;
      cudnn: string | null;
      mkldnn: boolean;
    };
    devices: unknown[];
    autoDevice: string;
    cpu: {
      model: string;
      logicalCores: number;
      avx2: boolean;
      avx512f: boolean;
      avx512bf16: boolean;
      amxBf16: boolean;
      nativeBf16: boolean;
    };
    threads: { torch: number; available: number };
  };
  const config = JSON.parse(readFileSync(path.join(repoRoot, 'native/torch-config.json'), 'utf8')) as {
    cuda: boolean;
    version: string;
  };
  assert.ok(
    info.torch.version.startsWith(config.version.replace(/\.0$/, '')),
    `${info.torch.version} vs ${config.version}`,
  );
  assert.equal(info.torch.build, config.cuda ? 'CUDA' : 'CPU');
  if (!config.cuda) {
    assert.equal(info.torch.cudaRuntime, null);
    assert.deepEqual(info.devices, []);
    assert.equal(info.autoDevice, 'cpu');
  }
  // the CPU flags, read independently from /proc/cpuinfo
  const flags = new Set(
    (/^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').split(' '),
  );
  assert.equal(info.cpu.avx2, flags.has('avx2'));
  assert.equal(info.cpu.avx512f, flags.has('avx512f'));
  assert.equal(info.cpu.avx512bf16, flags.has('avx512_bf16'));
  assert.equal(info.cpu.amxBf16, flags.has('amx_bf16'));
  assert.equal(info.cpu.nativeBf16, flags.has('avx512_bf16') || flags.has('amx_bf16'));
  assert.equal(info.threads.available, os.availableParallelism());
  assert.ok(info.threads.torch >= 1);
  // the text form says the same
  const text = execFileSync(process.execPath, [bin, 'info'], { encoding: 'utf8' });
  assert.match(
    text,
    new RegExp(`libtorch ${info.torch.version.replace(/[.+]/g, '\\$&')}, ${info.torch.build} build`),
  );
  assert.match(text, /--device auto: /);
});

test('CPU features from cpuinfo text; CUDA and cuDNN version numbers', () => {
  const spr = parseCpuInfo(
    'processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n',
    8,
  );
  assert.deepEqual(
    { ...spr, flags: undefined },
    {
      model: 'Intel(R) Xeon(R) Platinum 8480+',
      logicalCores: 8,
      avx2: true,
      avx512f: true,
      avx512bf16: true,
      amxBf16: true,
      nativeBf16: true,
      flags: undefined,
    },
  );
  const old = parseCpuInfo('model name\t: Intel Core i7-4770\nflags\t: fpu avx avx2\n', 4);
  assert.equal(old.nativeBf16, false);
  assert.equal(old.avx512f, false);
  assert.equal(cudaVersionString(12040), '12.4');
  assert.equal(cudaVersionString(13000), '13.0');
  assert.equal(cudnnVersionString(90100), '9.1.0');
  assert.equal(cudnnVersionString(8902), '8.9.2');
  assert.equal(cudnnVersionString(null), null);
});
