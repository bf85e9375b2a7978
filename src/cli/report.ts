// `medseg report RUN_DIR [--out FILE]`
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { UsageError } from './command.js';

const HELP = `usage: medseg report MODEL_DIR|FILE.medseg [--out FILE]

Writes one self-contained HTML page (default MODEL_DIR/report.html): training curves, the per-case
metrics of the last evaluation, and overlays of the best and worst case. For a package the page
goes next to the file (FILE.report.html).`;

export const command: Command = {
  name: 'report',
  summary: 'an HTML report of a model folder',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h', default: false } },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (!positionals[0]) throw new UsageError(`a model folder is required\n${HELP}`);
    const { writeReport } = await import('../report/report.js');
    // a .medseg package: its unpacked folder, the page next to the package file
    const { resolveModel, isPackageFile } = await import('../transfer/open.js');
    const model = positionals[0];
    const out =
      values.out ?? (isPackageFile(model) ? `${model.replace(/\.medseg$/, '')}.report.html` : undefined);
    console.log(`wrote ${await writeReport(isPackageFile(model) ? await resolveModel(model) : model, out)}`);
    return 0;
  },
};
