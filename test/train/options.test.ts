// The library's train() range-checks its numeric options with the CLI's ranges (src/common/ranges.ts):
// a program passing `epochs: 0` gets one line naming the option and the range, before the dataset
// is read (the dataset given here does not even exist), and the words after the option's name are
// the ones `medseg train` uses for the same value. The new recipe flags are refused the same way.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { train, trainFolds } from '../../src/crossval/train.js';
import { trainModel, TrainOptionsError, checkTrainOptions } from '../../src/train/index.js';
import { trainOptionsFromArgs, type TrainArgValues } from '../../src/cli/train.js';
import { UsageError } from '../../src/cli/command.js';
import { medseg } from '../cli/run.js';

const base = {
  dataset: path.join(os.tmpdir(), 'medseg-no-such-dataset'),
  modelDir: path.join(os.tmpdir(), 'medseg-no-model'),
};

/** [library option, value, CLI flag (or null: no flag), flag text, the range's words] */
const CASES: [string, unknown, string | null, string, string][] = [
  ['epochs', 0, 'epochs', '0', 'an integer from 1 to 100000000'],
  ['epochs', 1.5, 'epochs', '1.5', 'an integer from 1 to 100000000'],
  ['itersPerEpoch', -3, 'iters-per-epoch', '-3', 'an integer from 1 to 100000000'],
  ['initialLr', NaN, 'lr', 'NaN', 'a number > 0 and ≤ 10'],
  ['initialLr', 0, 'lr', '0', 'a number > 0 and ≤ 10'],
  ['seed', 1e20, 'seed', '1e20', 'an integer from 0 to 9007199254740991'],
  ['threads', 0, 'threads', '0', 'an integer from 1 to 1024'],
  ['memoryGb', -1, 'memory-gb', '-1', 'a number > 0 and ≤ 1000000'],
  ['fold', 1000, 'fold', '1000', 'an integer from 0 to 999'],
  ['diceWeight', -1, 'dice-weight', '-1', 'a number ≥ 0 and ≤ 100'],
  ['ceWeight', Infinity, 'ce-weight', 'Infinity', 'a number ≥ 0 and ≤ 100'],
  ['foregroundOversampling', 1.2, 'oversample-foreground', '1.2', 'a number ≥ 0 and ≤ 1'],
  ['augmentationStrength', 4, 'augmentation', '4', 'a number ≥ 0 and ≤ 3'],
  ['budgetSeconds', -5, null, '', 'a number > 0 and ≤ 31536000'],
  ['warmupSteps', 2.5, null, '', 'an integer from 0 to 100000000'],
  ['valPatches', 0, null, '', 'an integer from 1 to 100000000'],
];

/** What parseArgs gives for `medseg train DS --FLAG TEXT`. */
function cliValues(flag: string, text: string): TrainArgValues {
  return {
    config: '3d_fullres',
    fold: '0',
    fp16: false,
    device: 'cpu',
    resume: false,
    'no-validation': false,
    [flag]: text,
  } as TrainArgValues;
}

test('train() refuses each bad number before reading anything, in the CLI’s words', async () => {
  for (const [key, value, flag, text, words] of CASES) {
    const shown = String(value);
    await assert.rejects(
      train({ ...base, [key]: value }),
      (e: Error) => {
        assert.ok(e instanceof TrainOptionsError, `${key}: ${e.message}`);
        assert.equal(e.message, `train: option '${key}' must be ${words}, got ${shown}`);
        return true;
      },
      key,
    );
    if (flag === null) continue;
    await assert.rejects(trainOptionsFromArgs(cliValues(flag, text), 'DS'), (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.equal(e.message, `--${flag} must be ${words}, got '${text}'`);
      return true;
    });
  }
});

test('train(): several problems in one line; strings and both loss weights 0 refused too', async () => {
  await assert.rejects(
    trainModel({ ...base, epochs: 0, threads: 2000 }),
    new TrainOptionsError(
      "train: option 'epochs' must be an integer from 1 to 100000000, got 0; option 'threads' must be an integer from 1 to 1024, got 2000",
    ),
  );
  await assert.rejects(
    trainFolds({ ...base, diceWeight: 0, ceWeight: 0 }),
    /'diceWeight' and 'ceWeight' are both 0/,
  );
  await assert.rejects(
    train({ ...base, optimizer: 'adam' as never }),
    /option 'optimizer' must be 'sgd' or 'adamw', got 'adam'/,
  );
  await assert.rejects(
    train({ ...base, validationCheckpoint: 'final' as never }),
    /option 'validationCheckpoint' must be 'best' or 'latest', got 'final'/,
  );
  await assert.rejects(
    trainOptionsFromArgs(cliValues('validation-checkpoint', 'final'), 'DS'),
    new UsageError('--validation-checkpoint must be best or latest'),
  );
  await assert.rejects(
    train({ ...base, config: '3d' as never }),
    /option 'config' must be one of 2d, 3d_fullres/,
  );
  await assert.rejects(
    train({ ...base, epochs: '5' as never }),
    /option 'epochs' must be an integer from 1 to 100000000, got '5'/,
  );
  await assert.rejects(train({ ...base, modelDir: '' }), /option 'modelDir' must be a folder path/);
  // in range: no complaint (the options check alone; training would then need the dataset)
  assert.doesNotThrow(() =>
    checkTrainOptions({
      ...base,
      epochs: 1,
      itersPerEpoch: 1,
      initialLr: 10,
      seed: Number.MAX_SAFE_INTEGER,
      threads: 1,
      fold: 0,
      warmupSteps: 0,
      budgetSeconds: 0.5,
      diceWeight: 0,
      ceWeight: 1,
      foregroundOversampling: 1,
      augmentationStrength: 0,
    }),
  );
});

test('search() refuses the options its trials would train with, once, before any trial or folder', async () => {
  const { search } = await import('../../src/search/study.js');
  const modelDir = path.join(os.tmpdir(), `medseg-no-search-${process.pid}`);
  await assert.rejects(
    search({ dataset: base.dataset, modelDir, trials: 2, epochs: 0, threads: 1.5 }),
    new TrainOptionsError(
      "search: option 'epochs' must be an integer from 1 to 100000000, got 0; option 'threads' must be an integer from 1 to 1024, got 1.5",
    ),
  );
  assert.equal(existsSync(modelDir), false);
});

test('medseg train refuses the recipe flags out of range (exit 2, one line)', () => {
  const cases: [string[], string][] = [
    [
      ['train', 'DS', '--dice-weight', 'x'],
      "medseg train: --dice-weight must be a number ≥ 0 and ≤ 100, got 'x'",
    ],
    [
      ['train', 'DS', '--oversample-foreground', '2'],
      "medseg train: --oversample-foreground must be a number ≥ 0 and ≤ 1, got '2'",
    ],
    [
      ['train', 'DS', '--dice-weight', '0', '--ce-weight', '0'],
      'medseg train: --dice-weight and --ce-weight are both 0: the loss would be 0 and nothing trains',
    ],
  ];
  for (const [args, line] of cases) {
    const r = medseg(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim(), line);
  }
});
