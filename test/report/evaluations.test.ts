// Evaluations reach the report (and the viewer): `medseg evaluate --model MODEL` records under the
// model, `medseg report` shows every recorded evaluation and any named with --eval, and its training
// section draws nnU-Net's progress panels (per-label pseudo-Dice, learning rate, epoch time).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { UsageError } from '../../src/cli/command.js';
import { command as evaluate } from '../../src/cli/evaluate.js';
import { command as report } from '../../src/cli/report.js';
import { writeImage } from '../../src/io/image.js';
import type { Volume } from '../../src/io/volume.js';
import { listEvaluations } from '../../src/report/evaluations.js';
import { buildCatalog } from '../../src/web/catalog.js';

const SHAPE = [8, 7, 6] as const;

/** Label 1 fills x0..x1 of a slab; label 2 is the single voxel (0, 0, 0). */
function boxes(x0: number, x1: number): Volume {
  const [nx, ny, nz] = SHAPE;
  const data = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++)
        data[i + nx * (j + ny * k)] =
          i >= x0 && i <= x1 && j >= 1 && j <= 4 && k >= 1 && k <= 3 ? 1 : i + j + k === 0 ? 2 : 0;
  const affine = [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 2, 0],
    [0, 0, 0, 1],
  ];
  return { data, shape: [...SHAPE], spacing: [1, 1, 2], affine, datatype: 'uint8', sclSlope: 1, sclInter: 0 };
}

async function fixture(t: TestContext) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'medseg-evals-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const model = path.join(root, 'model');
  const pred = path.join(root, 'my-preds');
  const ref = path.join(root, 'ref');
  for (const d of [model, pred, ref, path.join(model, '3d_fullres', 'fold_0')])
    fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(model, 'plans.json'), JSON.stringify({ labelValues: [0, 1, 2] }));
  const rows = [0, 1, 2].map((epoch) => ({
    epoch,
    train_loss: 1 - 0.2 * epoch,
    val_dice: [0.2 + 0.1 * epoch, 0.1 * epoch],
    val_mean_dice: 0.1 + 0.1 * epoch,
    ema_dice: 0.1 + 0.05 * epoch,
    lr: 0.01 * (1 - epoch / 3) ** 0.9,
    seconds: 3 + epoch,
  }));
  fs.writeFileSync(
    path.join(model, '3d_fullres', 'fold_0', 'log.jsonl'),
    rows.map((r) => JSON.stringify(r)).join('\n') + '\n',
  );
  // case a: label 1 is x 2..5 against 3..6 (Dice 2·3/8 = 0.75), label 2 identical (Dice 1)
  await writeImage(path.join(pred, 'a.nii.gz'), boxes(2, 5));
  await writeImage(path.join(ref, 'a.nii.gz'), boxes(3, 6));
  return { root, model, pred, ref };
}

function quiet(t: TestContext): string[] {
  const out: string[] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => out.push(a.join(' ')));
  t.mock.method(console, 'error', () => {});
  return out;
}

test('a recorded evaluation reaches the report, the viewer catalog, and --eval adds others', async (t) => {
  const { root, model, pred, ref } = await fixture(t);
  const out = quiet(t);
  const before = fs.readFileSync(
    await (await import('../../src/report/report.js')).writeReport(model, path.join(root, 'before.html')),
    'utf8',
  );
  assert.match(before, /No evaluation yet/);
  assert.equal(await evaluate.run(['--pred', pred, '--ref', ref, '--model', model, '--quiet']), 0);
  const recorded = path.join(model, 'evaluations', 'my-preds.json');
  assert.ok(
    out.some((l) => l.includes(recorded)),
    out.join('\n'),
  );
  const evals = listEvaluations(model);
  assert.deepEqual(
    evals.map((e) => e.name),
    ['my-preds'],
  );
  const dice = evals[0]!.record.report.cases[0]!.metrics;
  assert.equal(dice['1']!.dice, 0.75);
  assert.equal(dice['2']!.dice, 1);
  // a second, named evaluation kept elsewhere, shown through --eval
  assert.equal(
    await evaluate.run(['--pred', ref, '--ref', ref, '--model', model, '--name', 'self', '--quiet']),
    0,
  );
  const other = path.join(root, 'other.json');
  fs.renameSync(path.join(model, 'evaluations', 'self.json'), other);
  const html = path.join(root, 'report.html');
  assert.equal(await report.run([model, '--out', html, '--eval', other]), 0);
  const page = fs.readFileSync(html, 'utf8');
  assert.doesNotMatch(page, /No evaluation yet/);
  assert.match(page, /<h2>Evaluation my-preds; NSD tolerance/);
  assert.match(page, /<h2>Evaluation other; NSD tolerance/);
  assert.match(page, /<td>a<\/td><td>0\.750<\/td>/);
  assert.match(page, /<td>a<\/td><td>1\.000<\/td>/); // the self-evaluation: Dice 1
  // nnU-Net's progress panels, per-label pseudo-Dice included
  for (const caption of ['training loss', 'validation pseudo-Dice', 'learning rate', 'epoch time (s)'])
    assert.ok(page.includes(`<figcaption>${caption}</figcaption>`), caption);
  assert.match(page, />label 1<\/text>.*>label 2<\/text>/s);
  // the viewer sees the recorded evaluation per case
  const cat = buildCatalog(model);
  assert.equal(cat.cases.find((c) => c.id === 'a')?.metrics['my-preds']?.['1']?.dice, 0.75);
  assert.equal(cat.evaluations[0]?.name, 'my-preds');
});

test('bad --model, --name and --eval get one clear message each', async (t) => {
  const { root, model, pred, ref } = await fixture(t);
  quiet(t);
  await assert.rejects(
    evaluate.run(['--pred', pred, '--ref', ref, '--model', root]),
    (e: Error) => e instanceof UsageError && /--model .*not a medseg model folder/.test(e.message),
  );
  await assert.rejects(
    evaluate.run(['--pred', pred, '--ref', ref, '--model', model, '--name', '../escape']),
    (e: Error) => e instanceof UsageError && /--name: evaluation name '\.\.\/escape'/.test(e.message),
  );
  await assert.rejects(
    evaluate.run(['--pred', pred, '--ref', ref, '--name', 'x']),
    (e: Error) => e instanceof UsageError && /need --model/.test(e.message),
  );
  assert.equal(fs.existsSync(path.join(model, 'evaluations')), false);
  const junk = path.join(root, 'junk.json');
  fs.writeFileSync(junk, '{"cases": []}');
  await assert.rejects(report.run([model, '--eval', junk]), /junk\.json: not an evaluation record/);
});
