// Model packages (`medseg package MODEL -o FILE.medseg`): one file a user can hand on. An
// uncompressed ustar archive (tar.ts) whose first member is manifest.json (format version, medseg
// version, dataset name and licence, channel and label names, what configurations and folds it
// holds, and the size and SHA-256 of every other member), then plans.json, fingerprint.json, the
// inference recipe when find-best ran, and per configuration and fold the weights (safetensors,
// weights only) with their training log. Nothing in a package is executed: it is JSON and tensors.
// A multi-task model (train-multi) also carries each task's model folder (tasks/<name>/: plans,
// fingerprint, the UNet view's weights), so `predict -m FILE.medseg --task NAME` works from the
// file alone; this costs one body's weights per task. A meta-learned initialisation has no views
// (it is fine-tuned, never predicted with) and carries only its network.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { atomicWrite } from '../io/atomic.js';
import { readRecipe } from '../infer/recipe.js';
import { CONFIGURATION_NAMES, type ConfigurationName, type Plans } from '../plan/planner.js';
import { readFingerprint, readPlans } from '../plan/schema.js';
import { writeWeightsOnly } from './weightsOnly.js';
import { sha256File, writeTar } from './tar.js';
import { DEFAULT_CHECKPOINT, type CheckpointName } from '../train/checkpointChoice.js';

/** The package format this medseg writes and the newest it reads. */
export const PACKAGE_FORMAT_VERSION = 1;
export const PACKAGE_FORMAT = 'medseg-package';

export interface PackageManifest {
  format: typeof PACKAGE_FORMAT;
  formatVersion: number;
  medsegVersion: string;
  created: string;
  /** The model's name (its folder's name): the folder a package unpacks to. */
  name: string;
  dataset: { name: string; description?: string; licence?: string; reference?: string };
  channelNames: string[];
  /** Label name → label values (nnU-Net v2 regions have several). */
  labels: Record<string, number[]>;
  labelValues: number[];
  /** Configuration → the folds packaged and the checkpoint they come from. */
  configurations: Partial<Record<ConfigurationName, { folds: number[]; checkpoint: CheckpointName }>>;
  /** Set when the model is a multi-task one (multitask.json is then a member). */
  multitask: boolean;
  /** A multi-task model's tasks whose model folders (tasks/<name>/) are members. */
  tasks?: string[];
  /** Every member after the manifest. */
  members: { name: string; bytes: number; sha256: string }[];
}

export interface PackageOptions {
  modelDir: string;
  output: string;
  /** The dataset folder the model was trained on: its dataset.json gives the licence and description. */
  dataset?: string;
  /** Default: the recipe's configurations (with a cascade's first stage), else every trained one. */
  configs?: ConfigurationName[];
  /** Default: the recipe's folds, else every trained fold. */
  folds?: number[];
  /** Default: the recipe's, else best. */
  checkpoint?: CheckpointName;
  log?: (s: string) => void;
}

export function medsegVersion(): string {
  const file = new URL('../../../package.json', import.meta.url);
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const foldsIn = (modelDir: string, config: string, checkpoint: string): number[] =>
  existsSync(path.join(modelDir, config))
    ? readdirSync(path.join(modelDir, config))
        .map((d) => /^fold_(\d+)$/.exec(d))
        .filter((m): m is RegExpExecArray => !!m)
        .map((m) => Number(m[1]))
        .filter((f) =>
          existsSync(path.join(modelDir, config, `fold_${f}`, `checkpoint_${checkpoint}.safetensors`)),
        )
        .sort((a, b) => a - b)
    : [];

/** What goes in: the recipe's configurations (and the stages they need) or every trained one. */
async function chooseContent(
  o: PackageOptions,
  plans: Plans,
): Promise<{
  configs: ConfigurationName[];
  checkpoint: CheckpointName;
  folds: (c: ConfigurationName) => number[];
}> {
  const recipe = await readRecipe(o.modelDir);
  const checkpoint = o.checkpoint ?? recipe?.checkpoint ?? DEFAULT_CHECKPOINT;
  let configs =
    o.configs ??
    recipe?.configurations ??
    CONFIGURATION_NAMES.filter((c) => foldsIn(o.modelDir, c, checkpoint).length);
  // a cascade stage predicts with its first stage: it travels along
  for (const c of [...configs]) {
    const prev = plans.configurations[c]?.cascade?.previousStage;
    if (prev && !configs.includes(prev)) configs = [prev, ...configs];
  }
  if (!configs.length)
    throw new Error(
      `${o.modelDir}: no trained checkpoint_${checkpoint} in any configuration: nothing to package`,
    );
  const folds = (c: ConfigurationName) => {
    const have = foldsIn(o.modelDir, c, checkpoint);
    const want = o.folds ?? (o.configs ? have : (recipe?.folds ?? have));
    const missing = want.filter((f) => !have.includes(f));
    if (!plans.configurations[c]) throw new Error(`${o.modelDir}/plans.json has no configuration '${c}'`);
    if (!want.length || missing.length)
      throw new Error(
        `${path.join(o.modelDir, c)}: no checkpoint_${checkpoint} for fold(s) ${missing.length ? missing.join(', ') : 'any'}`,
      );
    return want;
  };
  return { configs, checkpoint, folds };
}

async function datasetInfo(
  dir: string | undefined,
  fallbackName: string,
): Promise<PackageManifest['dataset']> {
  if (!dir) return { name: fallbackName };
  const file = path.join(dir, 'dataset.json');
  if (!existsSync(file)) throw new Error(`${file}: not found (--dataset must be the dataset's folder)`);
  const j = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return {
    name: str(j.name) ?? fallbackName,
    description: str(j.description),
    licence: str(j.licence) ?? str(j.license),
    reference: str(j.reference),
  };
}

/** A multi-task model's task folders as members (plans, fingerprint, the view's weights); returns
 * the task names (none for other models and for meta-learned ones, which have no views). */
async function addTaskViews(
  modelDir: string,
  tmp: string,
  checkpoint: CheckpointName,
  members: { name: string; file: string }[],
): Promise<string[]> {
  const file = path.join(modelDir, 'multitask.json');
  if (!existsSync(file)) return [];
  const m = JSON.parse(await fs.readFile(file, 'utf8')) as {
    kind: string;
    tasks: { name: string; folder: string }[];
  };
  if (m.kind !== 'multitask') return [];
  for (const t of m.tasks) {
    const rel = t.folder.split(path.sep).join('/');
    const weights = path.join(
      modelDir,
      t.folder,
      '3d_fullres',
      'fold_0',
      `checkpoint_${checkpoint}.safetensors`,
    );
    for (const f of ['plans.json', 'fingerprint.json', weights])
      if (!existsSync(path.isAbsolute(f) ? f : path.join(modelDir, t.folder, f)))
        throw new Error(
          `${path.join(modelDir, t.folder)}: task ${t.name}'s ${path.basename(f)} is missing (the multi-task run did not finish?): nothing to package`,
        );
    members.push({ name: `${rel}/plans.json`, file: path.join(modelDir, t.folder, 'plans.json') });
    members.push({
      name: `${rel}/fingerprint.json`,
      file: path.join(modelDir, t.folder, 'fingerprint.json'),
    });
    const slim = path.join(tmp, rel, `checkpoint_${checkpoint}.safetensors`);
    await writeWeightsOnly(weights, slim);
    members.push({ name: `${rel}/3d_fullres/fold_0/checkpoint_${checkpoint}.safetensors`, file: slim });
  }
  return m.tasks.map((t) => t.name);
}

/** Writes the package of a model folder to `o.output` (atomically); returns its manifest. */
export async function packageModel(o: PackageOptions): Promise<PackageManifest> {
  const log = o.log ?? (() => {});
  const plansFile = path.join(o.modelDir, 'plans.json');
  const fpFile = path.join(o.modelDir, 'fingerprint.json');
  for (const f of [plansFile, fpFile])
    if (!existsSync(f)) throw new Error(`${f}: missing (is ${o.modelDir} a medseg model folder?)`);
  const plans = await readPlans(plansFile);
  const fp = await readFingerprint(fpFile);
  const { configs, checkpoint, folds } = await chooseContent(o, plans);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'medseg-package-'));
  try {
    const members: { name: string; file: string }[] = [];
    const add = (name: string, file: string) => {
      if (existsSync(file)) members.push({ name, file });
    };
    add('plans.json', plansFile);
    add('fingerprint.json', fpFile);
    for (const extra of ['inference.json', 'splits.json', 'multitask.json', 'transfer.json'])
      add(extra, path.join(o.modelDir, extra));
    const configurations: PackageManifest['configurations'] = {};
    for (const c of configs) {
      const fs_ = folds(c);
      configurations[c] = { folds: fs_, checkpoint };
      for (const f of fs_) {
        const rel = `${c}/fold_${f}`;
        const weights = path.join(tmp, c, `fold_${f}`, `checkpoint_${checkpoint}.safetensors`);
        await writeWeightsOnly(path.join(o.modelDir, rel, `checkpoint_${checkpoint}.safetensors`), weights);
        members.push({ name: `${rel}/checkpoint_${checkpoint}.safetensors`, file: weights });
        add(`${rel}/log.jsonl`, path.join(o.modelDir, rel, 'log.jsonl'));
        add(`${rel}/validation/summary.json`, path.join(o.modelDir, rel, 'validation', 'summary.json'));
      }
    }
    const tasks = await addTaskViews(o.modelDir, tmp, checkpoint, members);
    const manifest: PackageManifest = {
      format: PACKAGE_FORMAT,
      formatVersion: PACKAGE_FORMAT_VERSION,
      medsegVersion: medsegVersion(),
      created: new Date().toISOString(),
      name: path.basename(path.resolve(o.modelDir)),
      dataset: await datasetInfo(o.dataset, plans.dataset),
      channelNames: plans.channelNames,
      labels: fp.labels,
      labelValues: plans.labelValues,
      configurations,
      multitask: existsSync(path.join(o.modelDir, 'multitask.json')),
      ...(tasks.length ? { tasks } : {}),
      members: [],
    };
    for (const m of members) {
      const { size } = await fs.stat(m.file);
      manifest.members.push({ name: m.name, bytes: size, sha256: await sha256File(m.file) });
    }
    const manifestFile = path.join(tmp, 'manifest.json');
    await fs.writeFile(manifestFile, JSON.stringify(manifest, null, 2));
    await fs.mkdir(path.dirname(path.resolve(o.output)), { recursive: true });
    await atomicWrite(o.output, async (file) => {
      const out = await fs.open(file, 'w');
      try {
        await writeTar(out, [{ name: 'manifest.json', file: manifestFile }, ...members]);
      } finally {
        await out.close();
      }
    });
    log(
      `packaged ${Object.entries(configurations)
        .map(([c, v]) => `${c} fold ${v.folds.join(',')}`)
        .join('; ')} (checkpoint ${checkpoint}) into ${o.output}`,
    );
    return manifest;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
