// The addon in worker threads: each worker loads its own instance, and a worker terminated in the
// middle of engine calls ends cleanly (the addon is built to swallow the exceptions it can no longer
// throw into a terminating environment, instead of aborting the whole process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const engine = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/engine/index.js');

test('a worker terminated inside a loop of engine calls does not take the process down', async () => {
  const code = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(engine)}).then(({ randn, tidy, F }) => {
      parentPort.postMessage('started');
      for (;;) tidy(() => F.conv3d(randn([1, 2, 16, 16, 16]), randn([4, 2, 3, 3, 3])).sum().item());
    });
  `;
  for (let round = 0; round < 3; round++) {
    const w = new Worker(code, { eval: true });
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    await new Promise((r) => setTimeout(r, 30 + 20 * round));
    const exit = await w.terminate();
    assert.equal(typeof exit, 'number');
  }
  // the main thread's engine still works
  const { Tensor } = await import('../../src/engine/index.js');
  const t = Tensor.fromArray(Float32Array.from([1, 2, 3]), [3]);
  assert.equal(t.sum().item(), 6);
});
