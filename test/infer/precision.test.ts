// Prediction's default precision: bf16 autocast on a CPU with native bf16, as training; the
// caller's choice on a GPU; --fp32 / --bf16 / --fp16 exclude each other in the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { autocastByDefault } from '../../src/infer/precision.js';
import { defaultBf16, hasNativeBf16 } from '../../src/plan/index.js';
import { readFileSync } from 'node:fs';
import { repoRoot } from '../helpers/device.js';

test('prediction defaults to bf16 exactly where the CPU has native bf16, never on a GPU', () => {
  // the flags line of /proc/cpuinfo, read here independently of the engine's reader
  const flagsLine =
    readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags')) ?? '';
  const native = hasNativeBf16(flagsLine.split(':')[1]?.trim().split(/\s+/) ?? []);
  assert.equal(defaultBf16(), native);
  assert.equal(autocastByDefault('cpu'), native ? 'bfloat16' : null);
  assert.equal(autocastByDefault('cuda'), null);
  assert.equal(autocastByDefault('cuda:1'), null);
});

test('predict refuses two precisions with one usage line, before reading anything', () => {
  const bin = path.join(repoRoot, 'bin/medseg');
  for (const flags of [
    ['--fp32', '--bf16'],
    ['--fp32', '--fp16'],
    ['--bf16', '--fp16'],
  ]) {
    const r = spawnSync(
      bin,
      ['predict', '-i', '/nonexistent-in', '-o', '/tmp/x-out', '-m', '/nonexistent-model', ...flags],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--fp16, --bf16 and --fp32 exclude each other/);
  }
});
