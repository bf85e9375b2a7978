// `medseg synth`: options, output folder, usage errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/cli/command.js';
import { command } from '../../src/cli/synth.js';

test('synth TASK --out DIR writes one dataset folder', async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'medseg-synth-cli-'));
  t.after(() => fs.rmSync(out, { recursive: true, force: true }));
  const lines: string[] = [];
  t.mock.method(console, 'log', (...a: unknown[]) => lines.push(a.join(' ')));
  assert.equal(await command.run(['hippocampus', '--out', out, '--cases', '2', '--seed', '4']), 0);
  t.mock.restoreAll();
  assert.deepEqual(fs.readdirSync(out), ['Dataset004_Hippocampus']);
  assert.equal(fs.readdirSync(path.join(out, 'Dataset004_Hippocampus', 'labelsTr')).length, 2);
  assert.match(lines.join('\n'), /^hippocampus hippocampus_001 \d+\.\d\d s$/m);
  assert.match(lines.join('\n'), /wrote .*Dataset004_Hippocampus \(2 cases/);
});

test('synth usage errors', async (t) => {
  t.mock.method(console, 'log', () => {});
  assert.equal(await command.run(['--help']), 0);
  for (const argv of [
    ['spleen'],
    ['kidney', '--out', '/tmp/x'],
    ['spleen', '--out', '/tmp/x', '--size', 'huge'],
    ['spleen', '--out', '/tmp/x', '--cases', '0'],
    ['spleen', '--out', '/tmp/x', '--seed', '-1'],
    ['spleen', '--out', '/tmp/x', '--bogus'],
  ]) {
    await assert.rejects(command.run(argv), UsageError, argv.join(' '));
  }
});
