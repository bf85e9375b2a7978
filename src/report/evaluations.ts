// Evaluations recorded under a model folder, so the report and the viewer find what a user ran:
// MODEL/evaluations/<name>.json (written by `medseg evaluate ... --model MODEL [--name NAME]`), plus
// the older single MODEL/evaluation.json that `medseg demo` writes (listed as "evaluation").
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import type { EvaluationReport } from '../evaluate/folders.js';

/** What the pipeline records after evaluating, so the report can find the images. */
export interface EvaluationRecord {
  config?: string;
  fold?: number | string;
  imagesDir?: string;
  predDir: string;
  refDir: string;
  report: EvaluationReport;
}

/** A name usable as a file name: letters, digits, '.', '_' and '-', not starting with '.'. */
export function checkEvaluationName(name: string): string {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(name))
    throw new Error(
      `evaluation name '${name}': use letters, digits, '.', '_' and '-' (at most 100, not starting with '.')`,
    );
  return name;
}

export const evaluationsDir = (modelDir: string) => path.join(modelDir, 'evaluations');

/** Writes MODEL/evaluations/<name>.json (atomically) and returns its path. */
export async function recordEvaluation(
  modelDir: string,
  name: string,
  rec: EvaluationRecord,
): Promise<string> {
  if (!existsSync(path.join(modelDir, 'plans.json')))
    throw new Error(`--model ${modelDir}: not a medseg model folder (no plans.json)`);
  const file = path.join(evaluationsDir(modelDir), `${checkEvaluationName(name)}.json`);
  await writeFileAtomic(file, JSON.stringify(rec, null, 2));
  return file;
}

function isRecord(v: unknown): v is EvaluationRecord {
  const r = v as EvaluationRecord | undefined;
  return (
    !!r &&
    typeof r === 'object' &&
    !!r.report &&
    Array.isArray(r.report.cases) &&
    Array.isArray(r.report.keys)
  );
}

/** Reads one evaluation record; a file that is not one is an error naming it. */
export function readEvaluation(file: string): EvaluationRecord {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not a readable evaluation record (${(e as Error).message})`);
  }
  if (!isRecord(v)) throw new Error(`${file}: not an evaluation record (no report.cases / report.keys)`);
  return v;
}

/** Every evaluation recorded under the model, oldest name first ('evaluation' = evaluation.json). */
export function listEvaluations(
  modelDir: string,
): { name: string; file: string; record: EvaluationRecord }[] {
  const out: { name: string; file: string; record: EvaluationRecord }[] = [];
  const legacy = path.join(modelDir, 'evaluation.json');
  if (existsSync(legacy)) out.push({ name: 'evaluation', file: legacy, record: readEvaluation(legacy) });
  const dir = evaluationsDir(modelDir);
  if (existsSync(dir))
    for (const n of readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const file = path.join(dir, n);
      out.push({ name: n.slice(0, -5), file, record: readEvaluation(file) });
    }
  return out;
}
