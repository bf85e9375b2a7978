// `medseg dataset`: exit codes and output of the thin CLI shell.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { command } from '../../src/cli/dataset.js';
import { UsageError } from '../../src/cli/command.js';
import { boxLabel, tmpDir, vol, write, writeJson } from './fixtures.js';

/** Runs the command with console.log captured. */
async function run(t: TestContext, argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => lines.push(a.join(' ')));
  const code = await command.run(argv);
  t.mock.restoreAll();
  return { code, out: lines.join('\n') };
}

async function dataset(dir: string, label = boxLabel([3, 3, 2])): Promise<void> {
  writeJson(path.join(dir, 'dataset.json'), {
    channel_names: { '0': 'CT' },
    labels: { background: 0, organ: 1 },
    numTraining: 1,
    file_ending: '.nii.gz',
  });
  await write(
    path.join(dir, 'imagesTr/c1_0000.nii.gz'),
    vol([3, 3, 2], (i) => i, { datatype: 'int16' }),
  );
  await write(path.join(dir, 'labelsTr/c1.nii.gz'), label);
}

test('check: exit 0 on a clean dataset, 1 with the report on errors', async (t) => {
  const good = tmpDir(t);
  await dataset(good);
  const ok = await run(t, ['check', good]);
  assert.equal(ok.code, 0);
  assert.match(ok.out, /OK: 0 errors/);
  const bad = tmpDir(t);
  await dataset(bad, boxLabel([3, 3, 2], 5));
  const fail = await run(t, ['check', bad]);
  assert.equal(fail.code, 1);
  assert.match(fail.out, /case c1 \(training\): 1 error\n {2}error: label: values 5/);
  const json = await run(t, ['check', bad, '--json']);
  const parsed = JSON.parse(json.out);
  assert.equal(parsed.ok, false);
  assert.equal(parsed.cases[0].id, 'c1');
  assert.equal(parsed.layout, 'nnunet-v2');
});

test('from-pattern lists and checks, or writes with --out', async (t) => {
  const root = tmpDir(t);
  await write(path.join(root, 'p1/img.nii.gz'), vol([3, 3, 2]));
  await write(path.join(root, 'p1/seg.nii.gz'), boxLabel([3, 3, 2]));
  const listed = await run(t, [
    'from-pattern',
    root,
    '--image',
    '{case}/img.nii.gz',
    '--label',
    '{case}/seg.nii.gz',
    '--labels',
    'background=0,organ=1',
  ]);
  assert.equal(listed.code, 0);
  assert.match(listed.out, /^p1: .*img\.nii\.gz \| label .*seg\.nii\.gz$/m);
  const out = path.join(tmpDir(t), 'v2');
  const wrote = await run(t, [
    'from-pattern',
    root,
    '--image',
    '{case}/img.nii.gz',
    '--label',
    '{case}/seg.nii.gz',
    '--out',
    out,
  ]);
  assert.equal(wrote.code, 0);
  assert.ok(fs.existsSync(path.join(out, 'imagesTr/p1_0000.nii.gz')));
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'dataset.json'), 'utf8')).labels, {
    background: 0,
    label_1: 1,
  });
});

test('usage errors and help', async (t) => {
  assert.equal((await run(t, ['--help'])).code, 0);
  assert.match((await run(t, ['check', '--help'])).out, /from-pattern ROOT/);
  await assert.rejects(command.run(['bogus']), UsageError);
  await assert.rejects(command.run(['check']), UsageError);
  await assert.rejects(command.run(['check', 'x', '--nope']), UsageError);
  await assert.rejects(command.run(['from-pattern', '.', '--image', 'no-placeholder.nii']), /no \{case\}/);
  await assert.rejects(command.run(['convert', 'only-one']), UsageError);
});
