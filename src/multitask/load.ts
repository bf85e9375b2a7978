// A multi-task or meta-learned model folder as one task's ordinary UNet (its stem folded in, its head
// as decoder.seg_layers): what fine-tuning a target with that task's channel count starts from.
import path from 'node:path';
import { loadCheckpoint, type UNet } from '../nn/index.js';
import { readPlans } from '../plan/schema.js';
import { readManifest } from './manifest.js';
import { MultiTaskNet, taskView } from './network.js';
import { modelFiles } from './files.js';
import { SHARED_HEAD } from './meta.js';
import { DEFAULT_CHECKPOINT, type CheckpointName } from '../train/checkpointChoice.js';

/** The UNet of `task` (default: the primary task) from MODEL's checkpoint `latest` (default) or `best`. */
export async function loadTaskNetwork(
  modelDir: string,
  task?: string,
  checkpoint: CheckpointName = DEFAULT_CHECKPOINT,
): Promise<UNet> {
  const m = await readManifest(modelDir);
  const plans = await readPlans(path.join(modelDir, 'plans.json'));
  const body = { ...plans.configurations['3d_fullres']!.network, inputChannels: m.bodyChannels };
  const meta = m.kind !== 'multitask';
  const net = new MultiTaskNet(
    body,
    m.tasks.map((t) => ({
      name: t.name,
      channels: t.channels.length,
      classes: meta ? 2 : t.labelValues.length,
      head: meta ? SHARED_HEAD : t.name,
    })),
    meta ? SHARED_HEAD : m.primary,
  );
  try {
    const f = modelFiles(modelDir);
    await loadCheckpoint(checkpoint === 'best' ? f.best : f.latest, net);
    return taskView(net, task ?? m.primary);
  } finally {
    net.dispose();
  }
}
