// `medseg evaluate`: metrics of a folder of predicted label maps against a folder of references.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError, type Command } from './command.js';
import { parseNumber } from './args.js';
import {
  DEFAULT_TOLERANCE_MM,
  evaluateFolders,
  metricsCsv,
  parseLabels,
  parseRegions,
  reportJson,
  type EvaluationReport,
  type FolderEvaluationOptions,
  type Metrics,
} from '../evaluate/index.js';

const HELP = `usage: medseg evaluate --pred DIR --ref DIR [--labels 1,2] [--regions NAME=1,2,3;NAME2=2,3]
                      [--tolerance-mm T] [--csv FILE] [--json] [--quiet]
                      [--model MODEL [--name NAME] [--images DIR]]

Compares predicted label maps with reference label maps of the same file names (.nii, .nii.gz, .nrrd,
.nhdr): Dice, IoU, HD95, Hausdorff, ASSD, NSD (surface Dice) and volume differences, per label and per
region (a union of labels), then the mean over cases. Distances are in mm, with the reference's
spacing; HD95 is the larger of the two directed 95th percentiles (linear interpolation) of
surface-to-surface distances. Infinite distances (one side empty) are null in JSON, inf in CSV, and
left out of the means (counted as "infinite"). Definitions: src/evaluate/README.md.

options:
  --pred DIR          folder of predictions (required)
  --ref DIR           folder of references (required)
  --labels L          labels to report, e.g. 1,2 (default every nonzero label found; 'none' for regions only)
  --regions R         unions of labels, e.g. 'WT=1,2,3;TC=1,3;ET=3' (BraTS-style regions; default with
                      --model: the regions of a region-based model's plans)
  --tolerance-mm T    NSD tolerance in mm (default ${DEFAULT_TOLERANCE_MM})
  --csv FILE          also write one row per case × label/region to FILE
  --json              print the report as JSON on the last line of stdout
  --quiet             no per-case lines
  --model MODEL       also record the evaluation under the model (MODEL/evaluations/NAME.json), where
                      \`medseg report\` and \`medseg serve\` show it
  --name NAME         the record's name (default: the --pred folder's name)
  --images DIR        the images of the cases (for the report's overlays)`;

function parseCli(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        pred: { type: 'string' },
        ref: { type: 'string' },
        labels: { type: 'string' },
        regions: { type: 'string' },
        'tolerance-mm': { type: 'string' },
        csv: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
        model: { type: 'string' },
        name: { type: 'string' },
        images: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The --pred folder's name, made safe as a file name. */
const defaultName = (pred: string) =>
  path
    .basename(path.resolve(pred))
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\./, '_') || 'evaluation';

const fmt = (v: number | null) => (v === null ? 'inf' : v === Infinity ? 'inf' : v.toFixed(4));

function caseLine(metrics: Record<string, Metrics>): string {
  return Object.entries(metrics)
    .map(([k, m]) => `${k}: dice ${fmt(m.dice)} hd95 ${fmt(m.hd95)} nsd ${fmt(m.nsd)}`)
    .join(' | ');
}

/** The mean table, one line per label / region. */
export function meanTable(report: EvaluationReport): string {
  const header = ['label', 'dice', 'iou', 'hd95_mm', 'assd_mm', 'nsd', 'vol_diff_rel', 'cases', 'inf_hd95'];
  const rows = report.keys.map((k) => {
    const m = report.mean[k]!;
    return [
      k,
      fmt(m.dice),
      fmt(m.iou),
      fmt(m.hd95),
      fmt(m.assd),
      fmt(m.nsd),
      fmt(m.volumeDiffRel),
      String(m.cases),
      String(m.infinite.hd95),
    ];
  });
  const width = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  return [header, ...rows].map((r) => r.map((s, c) => s.padStart(width[c]!)).join('  ')).join('\n');
}

export const command: Command = {
  name: 'evaluate',
  summary: 'Dice, HD95, NSD, volumes of predicted label maps against references',
  async run(argv) {
    const { values } = parseCli(argv);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (!values.pred) throw new UsageError(`--pred DIR is required\n\n${HELP}`);
    if (!values.ref) throw new UsageError(`--ref DIR is required\n\n${HELP}`);
    if ((values.name !== undefined || values.images !== undefined) && values.model === undefined)
      throw new UsageError('--name and --images need --model MODEL (where the evaluation is recorded)');
    const { checkEvaluationName, recordEvaluation } = await import('../report/evaluations.js');
    const name = values.model === undefined ? '' : (values.name ?? defaultName(values.pred));
    try {
      if (values.model !== undefined) checkEvaluationName(name);
    } catch (e) {
      throw new UsageError(`--name: ${(e as Error).message}`);
    }
    if (values.model !== undefined && !fs.existsSync(path.join(values.model, 'plans.json')))
      throw new UsageError(`--model ${values.model}: not a medseg model folder (no plans.json)`);
    const options: FolderEvaluationOptions = { predDir: values.pred, refDir: values.ref };
    try {
      if (values.labels !== undefined) options.labels = parseLabels(values.labels);
      if (values.regions !== undefined) options.regions = parseRegions(values.regions);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    // a region-based model is judged on its regions unless told otherwise
    if (values.model !== undefined && values.regions === undefined) {
      const { readPlans } = await import('../plan/schema.js');
      // evaluating needs no plans: ones that do not read leave the labels as they are
      const regions = (await readPlans(path.join(values.model, 'plans.json')).catch(() => null))?.regions;
      if (regions) options.regions = regions.map((r) => ({ name: r.name, labels: r.labels }));
    }
    if (values['tolerance-mm'] !== undefined)
      options.toleranceMm = parseNumber(values['tolerance-mm'], 'tolerance-mm', { min: 0 });
    options.onWarning = (m) => console.error(`medseg evaluate: warning: ${m}`);
    if (!values.quiet)
      options.onCase = (r, s) => console.log(`${r.case} (${s.toFixed(2)} s) ${caseLine(r.metrics)}`);
    const report = await evaluateFolders(options);
    console.log(`mean over ${report.cases.length} case(s), NSD tolerance ${report.toleranceMm} mm:`);
    console.log(meanTable(report));
    if (values.csv) {
      await fs.promises.writeFile(values.csv, metricsCsv(report.cases, report.keys));
      console.log(`wrote ${values.csv}`);
    }
    if (values.model !== undefined) {
      const rec = { predDir: path.resolve(values.pred), refDir: path.resolve(values.ref), report };
      if (values.images !== undefined) Object.assign(rec, { imagesDir: path.resolve(values.images) });
      console.log(`recorded ${await recordEvaluation(values.model, name, rec)}`);
    }
    if (values.json) console.log(reportJson(report));
    return 0;
  },
};
