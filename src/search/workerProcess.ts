// Entry point of a worker child process of `search --workers W`: argv[2] is the JSON of its
// options (storage URL, studies, threads, grace). Logs go to stderr; exit code 0 when done.
import { openStorage } from './storage/open.js';
import { runWorker } from './worker.js';

interface Args {
  storage: string;
  studies?: string[];
  threads?: number;
  graceMs?: number;
  heartbeatMs?: number;
  pollMs?: number;
  workerId?: string;
}

const a = JSON.parse(process.argv[2] ?? '{}') as Args;
const storage = await openStorage(a.storage);
try {
  await runWorker({ ...a, storage, storageUrl: a.storage, log: (s) => process.stderr.write(`${s}\n`) });
} finally {
  await storage.close();
}
