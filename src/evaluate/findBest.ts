// find-best: compares the trained configurations, and the ensembles of every pair of them, on their
// out-of-fold predictions (every case predicted by the fold that did not train on it), picks the one
// with the highest mean foreground Dice, decides the post-processing on its predictions, and writes
// the inference recipe (inference.json) that `predict` follows when no configuration is named.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { tidy } from '../engine/index.js';
import { readImage } from '../io/image.js';
import { readDataset } from '../dataset/read.js';
import { CONFIGURATION_NAMES, type ConfigurationName } from '../plan/planner.js';
import { labelsToTensor, labelsToVolume } from '../grid/volumeTensor.js';
import { decidePostprocessing, postprocessingDice, type LabelArray } from '../postprocess/index.js';
import { nanMean } from '../common/stats.js';
import { readSplits } from '../train/splits.js';
import { readPlans } from '../plan/schema.js';
import { outputChannels } from '../plan/regions.js';
import { predictedValues, scoredDice, scoredNames, writtenByRegions } from '../labelmap/regions.js';
import {
  foldOfCase,
  oofProbabilityFile,
  readOutOfFoldSummary,
  readProbabilities,
  validationDir,
} from '../train/outOfFold.js';
import { writeRecipe, type CandidateScore, type InferenceRecipe } from '../infer/recipe.js';
import { validatedCheckpoint, type ValidatedFold } from './validatedCheckpoint.js';

export interface FindBestOptions {
  dataset: string;
  modelDir: string;
  /** Configurations to consider (default: every planned one with out-of-fold predictions of all folds). */
  configs?: ConfigurationName[];
  /** Also compare ensembles of pairs (default true). */
  ensembles?: boolean;
  log?: (s: string) => void;
}

export interface FindBestResult {
  recipe: InferenceRecipe;
  file: string;
  /** Configurations left out, with why. */
  skipped: { config: ConfigurationName; reason: string }[];
}

/** Label values of the argmax over classes of summed uint8 probabilities [K, N] (one or more members). */
export function argmaxLabels(members: Uint8Array[], classes: number, labelValues: number[]): Uint16Array {
  const n = members[0]!.length / classes;
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    let best = -1;
    let arg = 0;
    for (let k = 0; k < classes; k++) {
      let v = 0;
      for (const m of members) v += m[k * n + i]!;
      if (v > best) {
        best = v;
        arg = k;
      }
    }
    out[i] = labelValues[arg]!;
  }
  return out;
}

/**
 * Label values of region probabilities (region-based plans): the members' mean uint8 probability of each
 * region above one half writes its value, later regions over earlier (as predict does).
 */
export function regionLabels(members: Uint8Array[], writeAs: number[]): Uint16Array {
  const R = writeAs.length;
  const n = members[0]!.length / R;
  const out = new Uint16Array(n);
  const half = (255 * members.length) / 2;
  for (let i = 0; i < n; i++)
    for (let r = 0; r < R; r++) {
      let v = 0;
      for (const m of members) v += m[r * n + i]!;
      if (v > half) out[i] = writeAs[r]!;
    }
  return out;
}

const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

export async function findBest(o: FindBestOptions): Promise<FindBestResult> {
  const log = o.log ?? (() => {});
  const plansFile = path.join(o.modelDir, 'plans.json');
  const splitsFile = path.join(o.modelDir, 'splits.json');
  if (!existsSync(plansFile)) throw new Error(`${o.modelDir}: not a medseg model folder (no plans.json)`);
  if (!existsSync(splitsFile))
    throw new Error(`${splitsFile}: missing (nothing trained in ${o.modelDir} yet)`);
  const plans = await readPlans(plansFile);
  const splits = await readSplits(splitsFile);
  const dataset = await readDataset(o.dataset);
  const skipped: FindBestResult['skipped'] = [];
  const complete: ConfigurationName[] = [];
  const validatedFolds: ValidatedFold[] = [];
  for (const name of o.configs ?? CONFIGURATION_NAMES) {
    if (!plans.configurations[name]) {
      if (o.configs) skipped.push({ config: name, reason: 'not in plans.json' });
      continue;
    }
    const missing: number[] = [];
    const validated: ValidatedFold[] = [];
    for (let f = 0; f < splits.length; f++) {
      const summary = await readOutOfFoldSummary(o.modelDir, name, f);
      if (summary) validated.push({ config: name, fold: f, checkpoint: summary.checkpoint });
      else missing.push(f);
    }
    if (missing.length) {
      skipped.push({
        config: name,
        reason: `no up-to-date out-of-fold predictions for fold(s) ${missing.join(', ')}`,
      });
    } else {
      complete.push(name);
      validatedFolds.push(...validated);
    }
  }
  for (const s of skipped) log(`find-best: ${s.config} left out: ${s.reason}`);
  if (!complete.length) {
    throw new Error(
      `${o.modelDir}: no configuration has out-of-fold predictions for all ${splits.length} folds; ` +
        'train one with --fold all first',
    );
  }
  // before any candidate is scored: the recipe names the checkpoint its predictions came from
  const checkpoint = validatedCheckpoint(o.modelDir, validatedFolds);
  const candidates: ConfigurationName[][] = complete.map((c) => [c]);
  if (o.ensembles !== false)
    for (let i = 0; i < complete.length; i++)
      for (let j = i + 1; j < complete.length; j++) candidates.push([complete[i]!, complete[j]!]);
  const K = outputChannels(plans);
  // candidates are scored per foreground label, or per region of a region-based plan
  const regions = plans.regions;
  const names = scoredNames(plans);
  const labelsOf = (members: Uint8Array[]) =>
    regions
      ? regionLabels(
          members,
          regions.map((r) => r.writeAs),
        )
      : argmaxLabels(members, K, plans.labelValues);
  const ids = [...new Set(splits.flatMap((s) => s.val))].sort();
  const byId = new Map(dataset.training.map((c) => [c.id, c]));
  const reference = async (id: string): Promise<{ data: LabelArray; shape: number[] }> => {
    const c = byId.get(id);
    if (!c?.label) throw new Error(`${o.dataset}: case ${id} (in splits.json) has no reference label map`);
    const vol = await readImage(c.label);
    const data = labelsToVolume(
      tidy(() => labelsToTensor(vol, c.label)),
      vol,
    ).data as LabelArray;
    return { data, shape: [vol.shape[2] ?? 1, vol.shape[1]!, vol.shape[0]!] };
  };
  const probabilities = async (config: ConfigurationName, id: string): Promise<Uint8Array> => {
    const file = oofProbabilityFile(validationDir(o.modelDir, config, foldOfCase(splits, id)), id);
    const p = await readProbabilities(file);
    if (p.classes !== K) throw new Error(`${file}: ${p.classes} classes, plans.json has ${K}`);
    return p.data;
  };
  // per candidate: Dice [case][label]
  const S = names.length;
  // post-processing works on the values the predictions hold
  const postLabels = predictedValues(plans);
  const scores = candidates.map(() => new Float64Array(ids.length * S));
  for (const [k, id] of ids.entries()) {
    const ref = await reference(id);
    const probs = new Map<ConfigurationName, Uint8Array>();
    for (const c of complete) probs.set(c, await probabilities(c, id));
    candidates.forEach((members, ci) => {
      const pred = labelsOf(members.map((m) => probs.get(m)!));
      scores[ci]!.set(scoredDice(pred, ref.data, plans), k * S);
    });
    log(`find-best: case ${k + 1}/${ids.length} ${id}`);
  }
  // scores with NaN for "no case had this label"; null in the JSON
  const scored = candidates.map((members, ci) => {
    const perLabel = names.map((_, j) =>
      nanMean(Array.from({ length: ids.length }, (_, k) => scores[ci]![k * S + j]!)),
    );
    return {
      members,
      meanDice: nanMean(perLabel),
      perLabel,
    };
  });
  // best first; on a tie the simpler candidate (fewer members, earlier configuration) wins
  const order = scored
    .map((s, i) => ({ s, i }))
    .sort(
      (a, b) =>
        (Number.isNaN(b.s.meanDice) ? -1 : b.s.meanDice) - (Number.isNaN(a.s.meanDice) ? -1 : a.s.meanDice) ||
        a.s.members.length - b.s.members.length ||
        a.i - b.i,
    )
    .map(({ s }) => s);
  const best = order[0]!;
  log(
    `find-best: ${best.members.join(' + ')} (mean Dice ${best.meanDice.toFixed(4)}); choosing post-processing`,
  );
  // the post-processing rule on the winner's out-of-fold predictions, one case in memory at a time
  const rows = [];
  for (const id of ids) {
    const members = await Promise.all(best.members.map((m) => probabilities(m, id)));
    const ref = await reference(id);
    const prediction = labelsOf(members);
    // a region-based model writes each region's value: its references are compared in those values
    const written = regions ? writtenByRegions(ref.data, regions) : ref.data;
    rows.push(postprocessingDice({ prediction, reference: written, shape: ref.shape }, postLabels));
  }
  const postprocessing = decidePostprocessing(rows, postLabels);
  const recipe: InferenceRecipe = {
    version: 1,
    configurations: best.members,
    folds: splits.map((_, f) => f),
    checkpoint,
    postprocessing,
    candidates: order.map((s): CandidateScore => ({
      members: s.members,
      meanDice: orNull(s.meanDice),
      dicePerLabel: Object.fromEntries(names.map((l, j) => [l, orNull(s.perLabel[j]!)])),
    })),
    cases: ids.length,
    postprocessingChoice: {
      rule: 'cross-validation',
      cases: ids.length,
      why: `find-best's rule on the out-of-fold predictions of all ${splits.length} folds (${ids.length} cases)`,
    },
  };
  const file = await writeRecipe(o.modelDir, recipe);
  return { recipe, file, skipped };
}
