// The synthetic decathlon under a fixed CPU budget: for every task, the demo pipeline (write the
// dataset, plan, train fold 0 with AdamW for the budget, predict and evaluate its validation cases).
//   node bench/decathlon.mjs [budget seconds = 120] [size = small] [tasks...]     (after npm run build)
// Prints one JSON line per task; the summary table goes into bench/RESULTS.md by hand.
import { runDemo } from '../dist/src/demo/pipeline.js';
import { SYNTH_TASKS } from '../dist/src/synth/index.js';

const budget = Number(process.argv[2] ?? 120);
const size = process.argv[3] ?? 'small';
const only = process.argv.slice(4);
const tasks = Object.values(SYNTH_TASKS).filter((t) => !only.length || only.includes(t.key ?? t.name));
for (const task of tasks) {
  const name = task.key ?? task.name;
  const t0 = performance.now();
  try {
    const r = await runDemo({
      workDir: `bench/out/decathlon/${name}`,
      task: name,
      size,
      cases: 10,
      budgetSeconds: budget,
    });
    console.log(
      JSON.stringify({
        task: name,
        size,
        budget_s: budget,
        epochs: r.epochs,
        dice: r.meanDice,
        seconds: Math.round(r.seconds),
      }),
    );
  } catch (e) {
    console.log(
      JSON.stringify({
        task: name,
        error: String(e.message ?? e).slice(0, 300),
        seconds: Math.round((performance.now() - t0) / 1000),
      }),
    );
  }
}
