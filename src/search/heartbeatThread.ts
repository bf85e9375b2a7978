// Heartbeats from a thread of their own, on their own connection: the worker's main thread can be
// busy for minutes in synchronous libtorch work (a validation pass, a large training step), and a
// live worker must not look dead. The thread dies with its process, so a killed worker still goes
// silent. Messages to the parent: 'ready' after the first beat, 'lost' when the job is no longer
// this worker's.
import { parentPort, workerData } from 'node:worker_threads';
import { openStorage } from './storage/open.js';

interface Data {
  url: string;
  jobId: number;
  workerId: string;
  intervalMs: number;
}

const d = workerData as Data;
const storage = await openStorage(d.url);
const beat = async (): Promise<void> => {
  try {
    if (!(await storage.heartbeat(d.jobId, d.workerId))) parentPort!.postMessage('lost');
  } catch (e) {
    parentPort!.postMessage(`error: ${(e as Error).message}`);
  }
};
// the first beat before the worker starts the job's (possibly blocking) work
await beat();
parentPort!.postMessage('ready');
const timer = setInterval(() => void beat(), d.intervalMs);
parentPort!.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    void storage.close().then(() => parentPort!.close());
  }
});
