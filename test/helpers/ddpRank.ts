// One rank (or the single process) of the data-parallel tests (test/distributed/ddp.test.ts),
// started as a child process with MEDSEG_DDP_OUT set; it does nothing otherwise (node --test also
// runs every file under test/). A tiny UNet trained k steps with the trainer's own step
// (train/step.ts): the batch of step s is drawn whole from seed 100 + s on every process, and rank r
// of W trains on the r-th 1/W of it, with the gradients averaged over the ranks in small buckets.
// The final weights go to MEDSEG_DDP_OUT.rank<r>.json.
import { writeFileSync } from 'node:fs';
import { keep, manualSeed, randint, randn, setThreads } from '../../src/engine/index.js';
import { SGD, GradScaler } from '../../src/optim/index.js';
import { UNet, defaultPlainSpec, deepSupervisionLoss } from '../../src/nn/index.js';
import { trainOnBatch, type StepParts } from '../../src/train/step.js';
import { joinFromEnv, allReduceGradients, broadcastParameters } from '../../src/distributed/index.js';

function main(): void {
  const out = process.env.MEDSEG_DDP_OUT!;
  const steps = Number(process.env.DDP_STEPS ?? 3);
  const dieAt = Number(process.env.DDP_DIE_AT ?? -1);
  const infAt = Number(process.env.DDP_INF_AT ?? -1);
  const batch = 4;
  setThreads(1);
  const group = joinFromEnv({ timeoutSeconds: Number(process.env.DDP_TIMEOUT ?? 30) });
  const rank = group?.rank ?? 0;
  const world = group?.worldSize ?? 1;
  // DDP_HANG: rank 1 leaves at once while rank 0 waits for a key never set: the launcher must stop it
  if (process.env.DDP_HANG) {
    if (rank === 1) process.exit(7);
    group!.wait('never-set', 600);
  }
  // a different initialisation per rank: the broadcast from rank 0 must make them one
  manualSeed(5 + rank);
  const net = new UNet({ ...defaultPlainSpec([16, 16, 16], 1, 3, 3), features: [4, 8, 16] });
  if (group) broadcastParameters(group, net.parameters());
  const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
  const parts: StepParts = {
    forward: (x) => net.forwardAll(x),
    // DDP_INF_AT: at that step rank 1 (or the single process) makes its loss infinite: with the
    // scaler, every rank must see the overflow through the all-reduce and skip the step
    loss: (outs, y) => {
      const l = deepSupervisionLoss(outs, y);
      return step === infAt && (rank === 1 || !group) ? l.mul(Infinity) : l;
    },
    opt,
    precision: null,
    // DDP_SCALER: the float16 path's loss scaling, in float32 (the scaled step equals the plain one)
    scaler: process.env.DDP_SCALER ? new GradScaler() : null,
    lrAt: () => 0.01,
    // 4 KiB buckets: several all-reduces per step, most holding several gradients
    syncGrads: group ? (params) => allReduceGradients(group, params, 4096) : undefined,
  };
  let step = 0;
  for (let s = 0; s < steps; s++) {
    step = s;
    if (s === dieAt && rank === 1) process.exit(7);
    manualSeed(100 + s);
    const x = randn([batch, 1, 16, 16, 16]);
    const y = randint(0, 3, [batch, 16, 16, 16]);
    // DDP_HALF: the control, one process on half of each batch (what a rank sees without the all-reduce)
    const per = process.env.DDP_HALF ? batch / 2 : batch / world;
    const mine = {
      x: keep(x.narrow(0, rank * per, per).contiguous()),
      y: keep(y.narrow(0, rank * per, per).contiguous()),
    };
    x.dispose();
    y.dispose();
    trainOnBatch(parts, s, mine);
    mine.x.dispose();
    mine.y.dispose();
  }
  const weights: Record<string, number[]> = Object.fromEntries(
    [...net.stateDict()].map(([k, t]) => [k, [...(t.toArray() as Float32Array)]]),
  );
  weights.skippedSteps = [parts.scaler?.skipped ?? 0];
  writeFileSync(`${out}.rank${rank}.json`, JSON.stringify(weights));
  group?.close();
}

if (process.env.MEDSEG_DDP_OUT) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`rank ${process.env.RANK ?? '-'}: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
