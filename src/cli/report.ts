// `medseg report RUN_DIR [--out FILE]`
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { UsageError } from './command.js';

const HELP = `usage: medseg report MODEL_DIR [--out FILE] [--eval FILE]...

Writes one self-contained HTML page (default MODEL_DIR/report.html): training curves, the per-case
metrics of every evaluation recorded under the model (\`medseg evaluate ... --model MODEL_DIR\`) and of
each --eval FILE (an evaluation record, e.g. MODEL/evaluations/NAME.json of another model), and
overlays of the best and worst case.`;

export const command: Command = {
  name: 'report',
  summary: 'an HTML report of a model folder',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        eval: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (!positionals[0]) throw new UsageError(`a model folder is required\n${HELP}`);
    const { writeReport } = await import('../report/report.js');
    console.log(`wrote ${await writeReport(positionals[0], values.out, { evaluations: values.eval ?? [] })}`);
    return 0;
  },
};
