// CLI numbers are checked in one place (src/cli/args.ts) against the range each option accepts:
// `--lr abc`, `--memory-gb -1`, `--seed 1e20`, `--threads 0`, `--epochs 1.5` are refused with the
// option's name and the range, by the real executable, with exit code 2 and nothing run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../src/cli/command.js';
import { parseInteger, parseNumber, parseIntList, describeRange, LR_RANGE } from '../../src/cli/args.js';
import { writeSynthDataset, findTask } from '../../src/synth/index.js';
import { medseg } from './run.js';

test('parseNumber / parseInteger accept plain decimal numbers in range and nothing else', () => {
  assert.equal(parseNumber('0.01', 'lr', LR_RANGE), 0.01);
  assert.equal(parseNumber('3e-4', 'lr', LR_RANGE), 3e-4);
  assert.equal(parseNumber(' 10 ', 'lr', LR_RANGE), 10);
  assert.equal(parseNumber(undefined, 'lr', LR_RANGE), undefined);
  assert.equal(parseInteger('0', 'seed', { min: 0 }), 0);
  assert.equal(parseInteger('1e3', 'epochs', { min: 1 }), 1000);
  assert.equal(parseInteger(String(Number.MAX_SAFE_INTEGER), 'seed', { min: 0 }), Number.MAX_SAFE_INTEGER);
  for (const bad of [
    'abc',
    '',
    ' ',
    'NaN',
    'Infinity',
    '-Infinity',
    '0x10',
    '1,5',
    '0',
    '-1',
    '10.5',
    '1e400',
  ])
    assert.throws(() => parseNumber(bad, 'lr', LR_RANGE), UsageError, bad);
  for (const bad of ['1.5', '1e20', '9007199254740992', '-0.5', 'two', '2abc'])
    assert.throws(() => parseInteger(bad, 'epochs', { min: 1 }), UsageError, bad);
  assert.throws(() => parseNumber('abc', 'lr', LR_RANGE), {
    message: "--lr must be a number > 0 and ≤ 10, got 'abc'",
  });
  assert.throws(() => parseIntList('64,x', 'patch'), /--patch must be a list of positive integers/);
  assert.equal(describeRange({ min: 1, max: 9 }, true), 'an integer from 1 to 9');
  assert.equal(describeRange({ min: 0 }, false), 'a number ≥ 0');
});

test('medseg train/plan/predict refuse bad numbers with the option name and range (exit 2)', () => {
  const cases: [string[], string][] = [
    [['train', 'DS', '--lr', 'abc'], "medseg train: --lr must be a number > 0 and ≤ 10, got 'abc'"],
    [
      ['train', 'DS', '--memory-gb=-1'],
      "medseg train: --memory-gb must be a number > 0 and ≤ 1000000, got '-1'",
    ],
    [
      ['train', 'DS', '--seed', '1e20'],
      "medseg train: --seed must be an integer from 0 to 9007199254740991, got '1e20'",
    ],
    [['train', 'DS', '--threads', '0'], "medseg train: --threads must be an integer from 1 to 1024, got '0'"],
    [
      ['train', 'DS', '--epochs', '1.5'],
      "medseg train: --epochs must be an integer from 1 to 100000000, got '1.5'",
    ],
    [
      ['train', 'DS', '--iters-per-epoch', 'many'],
      "medseg train: --iters-per-epoch must be an integer from 1 to 100000000, got 'many'",
    ],
    [['train', 'DS', '--fold=-1'], "medseg train: --fold must be an integer from 0 to 999, got '-1'"],
    [
      ['plan', 'DS', '--memory-gb', '0'],
      "medseg plan: --memory-gb must be a number > 0 and ≤ 1000000, got '0'",
    ],
    [
      ['predict', '-i', 'a', '-o', 'b', '-m', 'c', '--threads', '2.5'],
      "medseg predict: --threads must be an integer from 1 to 1024, got '2.5'",
    ],
    [
      ['predict', '-i', 'a', '-o', 'b', '-m', 'c', '--folds', '0,x'],
      "medseg predict: --folds must be an integer from 0 to 999, got 'x'",
    ],
    [
      ['synth', 'spleen', '--out', 'o', '--seed', '1e20'],
      "medseg synth: --seed must be an integer from 0 to 9007199254740991, got '1e20'",
    ],
    [
      ['evaluate', '--pred', 'p', '--ref', 'r', '--tolerance-mm', 'x'],
      "medseg evaluate: --tolerance-mm must be a number ≥ 0, got 'x'",
    ],
  ];
  const unknown = medseg(['train', 'DS', '--learning-rate', '0.1']);
  assert.equal(unknown.status, 2, unknown.stderr);
  assert.match(unknown.stderr, /^medseg train: Unknown option '--learning-rate'/);
  for (const [args, line] of cases) {
    const r = medseg(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim(), line);
  }
});

test('medseg plan --se without --residual says it plans residual-encoder U-Nets, and does', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-se-'));
  const { dir } = await writeSynthDataset(findTask('hippocampus'), root, { seed: 1, size: 'tiny', cases: 2 });
  const model = path.join(root, 'model');
  const r = medseg(['plan', dir, '--model', model, '--se', '--memory-gb', '1']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /medseg plan: note: --se plans residual-encoder U-Nets \(as --residual\)/);
  const plans = JSON.parse(readFileSync(path.join(model, 'plans.json'), 'utf8'));
  for (const c of Object.values(plans.configurations) as { network: Record<string, unknown> }[]) {
    assert.equal(c.network.architecture, 'residual');
    assert.equal(c.network.squeezeExcitation, true);
  }
  const plain = medseg([
    'plan',
    dir,
    '--model',
    path.join(root, 'm2'),
    '--residual',
    '--se',
    '--memory-gb',
    '1',
  ]);
  assert.equal(plain.status, 0, plain.stderr);
  assert.doesNotMatch(plain.stderr, /note:/);
});
