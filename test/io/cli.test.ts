// `medseg inspect` and `medseg convert`: the command modules called directly (their output compared
// with nibabel), and once through bin/medseg when the compiled CLI entry point is there.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { UsageError } from '../../src/cli/command.js';
import { command as convert } from '../../src/cli/convert.js';
import { command as inspect } from '../../src/cli/inspect.js';
import { affineDiff, haveReference, realDataDir, realFile, reference, repoRoot, tempDir } from './helpers.js';

/** Runs a command with console.log captured; returns its exit code and printed lines. */
async function run(
  t: TestContext,
  cmd: typeof inspect,
  argv: string[],
): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const log = t.mock.method(console, 'log', (...a: unknown[]) => lines.push(a.join(' ')));
  try {
    return { code: await cmd.run(argv), lines: lines.join('\n').split('\n') };
  } finally {
    log.mock.restore();
  }
}

interface Json {
  shape: number[];
  spacing: number[];
  affine: number[][];
  datatype: string;
  min: number;
  max: number;
  mean: number;
}

const CASES = [
  'brats2013-deepmedic/brats_2013_pat0004_1/brainmask.nii.gz',
  'spinalcord-sct/t2s/t2s.nii.gz',
  'totalsegmentator-reference/example_mr_sm.nii.gz',
];

test('inspect --json: last line has shape, spacing, affine, datatype and real-value stats as nibabel', async (t) => {
  if (!realFile(t, CASES[0]!) || !haveReference(t)) return;
  const infos = await reference<Json & { dtype: string; file: string }>(
    'info',
    ...CASES.map((c) => path.join(realDataDir, c)),
  );
  for (const info of infos) {
    const { code, lines } = await run(t, inspect, [info.file, '--json']);
    assert.equal(code, 0);
    const j = JSON.parse(lines.at(-1)!) as Json;
    assert.deepEqual(Object.keys(j), ['shape', 'spacing', 'affine', 'datatype', 'min', 'max', 'mean']);
    assert.deepEqual(j.shape, info.shape);
    assert.equal(j.datatype, info.dtype);
    assert.ok(affineDiff(j.affine, info.affine) < 1e-6);
    j.spacing.forEach((s, c) =>
      assert.ok(Math.abs(s - Math.hypot(...info.affine.slice(0, 3).map((r) => r[c]!))) < 1e-6),
    );
    for (const k of ['min', 'max', 'mean'] as const) {
      assert.ok(Math.abs(j[k] - info[k]) <= 1e-9 * Math.max(1, Math.abs(info[k])), `${info.file} ${k}`);
    }
  }
  const { lines } = await run(t, inspect, [infos[0]!.file]);
  assert.match(lines.join('\n'), /shape\s+240 × 240 × 155/);
  assert.match(lines.join('\n'), /scaling\s+× 2\.3283\d*e-10 \+ 0\.5/);
});

test('convert: NIfTI → NRRD keeps what inspect reports; bad options are usage errors', async (t) => {
  const src = realFile(t, 'spinalcord-sct/t2/t2_seg-manual_labeled.nii.gz');
  if (!src) return;
  const dir = tempDir(t);
  const out = path.join(dir, 'levels.nrrd');
  assert.equal((await run(t, convert, [src, out])).code, 0);
  const a = JSON.parse((await run(t, inspect, [src, '--json'])).lines.at(-1)!) as Json;
  const b = JSON.parse((await run(t, inspect, [out, '--json'])).lines.at(-1)!) as Json;
  assert.deepEqual(b, a);
  const u8 = path.join(dir, 'levels-u8.nii.gz');
  assert.equal((await run(t, convert, [src, u8, '--datatype', 'uint8'])).code, 0);
  const c = JSON.parse((await run(t, inspect, [u8, '--json'])).lines.at(-1)!) as Json;
  assert.equal(c.datatype, 'uint8');
  assert.deepEqual({ ...c, datatype: a.datatype }, a);
  await assert.rejects(convert.run([src]), UsageError);
  await assert.rejects(convert.run([src, u8, '--datatype', 'complex']), UsageError);
  await assert.rejects(convert.run([src, u8, '--level', '12']), UsageError);
  await assert.rejects(inspect.run([]), UsageError);
  await assert.rejects(inspect.run([src, '--bogus']), UsageError);
  await assert.rejects(convert.run([src, src]), /output is the input/);
});

test('bin/medseg inspect and convert run as a process', async (t) => {
  const src = realFile(t, 'spinalcord-sct/mt/mt1.nii.gz');
  if (!src) return;
  if (!fs.existsSync(path.join(repoRoot, 'dist/src/cli/main.js'))) {
    t.skip('dist/src/cli/main.js not built');
    return;
  }
  const medseg = (...args: string[]): Promise<{ code: number; out: string; err: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [path.join(repoRoot, 'bin/medseg'), ...args], (e, out, err) =>
        resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
      );
    });
  const r = await medseg('inspect', src, '--json');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out.trim().split('\n').at(-1)!).shape, [40, 40, 5]);
  const bad = path.join(tempDir(t), 'bad.nii');
  fs.writeFileSync(bad, 'not an image');
  const e = await medseg('inspect', bad);
  assert.equal(e.code, 1);
  assert.match(e.err, /bad\.nii: not a NIfTI file/);
  assert.equal(e.err.split('\n').filter(Boolean).length, 1); // one line, no stack trace
});
