// A batch loader worker (see loader.ts): makes the batch of each requested step and sends it back
// as typed arrays in the transfer list. One libtorch thread, so that workers do not compete with
// the training step for its intra-op pool. A failure is reported for its step, never swallowed.
// On 'stop' (or once the loader's stop flag is set) queued requests are skipped and the worker
// closes its port, so that its thread ends on its own, between engine calls.
import { parentPort, workerData } from 'node:worker_threads';
import { setThreads } from '../engine/index.js';
import { makeBatch, type FromWorker, type ToWorker, type WorkerInit } from './loader.js';

const port = parentPort;
if (!port) throw new Error('loaderWorker.js runs as a worker thread of BatchLoader');
const { spec, stop } = workerData as WorkerInit;
setThreads(1);
port.on('message', (m: ToWorker) => {
  if (m.type === 'stop') {
    port.close();
    return;
  }
  if (Atomics.load(stop, 0)) return;
  let reply: FromWorker & { type: 'batch' };
  try {
    reply = { type: 'batch', ...makeBatch(spec, m.step) };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    port.postMessage({
      type: 'error',
      step: m.step,
      message: err.message,
      stack: err.stack,
    } satisfies FromWorker);
    return;
  }
  port.postMessage(reply, [reply.x.buffer as ArrayBuffer, reply.y.buffer as ArrayBuffer]);
});
port.postMessage({ type: 'ready' } satisfies FromWorker);
