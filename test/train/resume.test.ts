// Training on a tiny synthetic task: it runs end to end from a dataset folder, refuses to overwrite
// a previous run, and a run killed with SIGKILL continues with --resume to the same final weights
// as an uninterrupted run with the same seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { loadSafetensors } from '../../src/nn/index.js';
import { train } from '../../src/crossval/train.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const trainer = path.resolve(here, '../../src/crossval/train.js');

async function dataset(): Promise<string> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-train-'));
  const r = await writeSynthDataset(findTask('hippocampus'), root, { seed: 1, size: 'tiny', cases: 5 });
  return r.dir;
}

/** Runs training in a child process (so it can be killed); resolves with its exit signal/code. */
function trainInChild(ds: string, model: string, resume: boolean, killAfterEpochs?: number): Promise<string> {
  const code = `
import { train } from ${JSON.stringify(trainer)};
await train({ dataset: ${JSON.stringify(ds)}, modelDir: ${JSON.stringify(model)}, epochs: 4, itersPerEpoch: 2,
  memoryGb: 1, seed: 3, threads: 1, resume: ${resume}, valPatches: 1 });
`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    let timer: NodeJS.Timeout | undefined;
    if (killAfterEpochs !== undefined) {
      const log = path.join(model, '3d_fullres', 'fold_0', 'log.jsonl');
      timer = setInterval(() => {
        const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0;
        if (lines >= killAfterEpochs) child.kill('SIGKILL');
      }, 20);
    }
    child.on('exit', (c, sig) => {
      if (timer) clearInterval(timer);
      if (sig) resolve(sig);
      else if (c === 0) resolve('ok');
      else reject(new Error(`training exited ${c}: ${err}`));
    });
  });
}

test('a run killed with SIGKILL resumes to the same weights as an uninterrupted run', async () => {
  const ds = await dataset();
  const straight = mkdtempSync(path.join(os.tmpdir(), 'medseg-m1-'));
  const killed = mkdtempSync(path.join(os.tmpdir(), 'medseg-m2-'));
  assert.equal(await trainInChild(ds, straight, false), 'ok');
  assert.equal(await trainInChild(ds, killed, false, 2), 'SIGKILL');
  const log = readFileSync(path.join(killed, '3d_fullres', 'fold_0', 'log.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean);
  assert.ok(log.length >= 2 && log.length < 4, `killed after ${log.length} epochs`);
  assert.equal(await trainInChild(ds, killed, true), 'ok');
  const a = await loadSafetensors(
    path.join(straight, '3d_fullres', 'fold_0', 'checkpoint_latest.safetensors'),
  );
  const b = await loadSafetensors(path.join(killed, '3d_fullres', 'fold_0', 'checkpoint_latest.safetensors'));
  let compared = 0;
  for (const [k, t] of a.tensors) {
    if (k.startsWith('rng.')) continue;
    assert.deepEqual(b.tensors.get(k)!.toArray(), t.toArray(), `${k} differs after resume`);
    compared++;
  }
  assert.ok(compared > 50);
  assert.equal(JSON.parse(a.metadata.state!).epoch, 4);
  // a second plain run into the same folder is refused: nothing the user has is overwritten
  await assert.rejects(
    train({ dataset: ds, modelDir: straight, epochs: 4, itersPerEpoch: 2, memoryGb: 1 }),
    /already holds a training run/,
  );
});
