// Label declarations of both dataset.json flavours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  labelValueSet,
  nnunetLabelsJson,
  parseLabelList,
  parseMsdLabels,
  parseNnunetLabels,
} from '../../src/dataset/labels.js';
import type { DatasetIssue } from '../../src/dataset/types.js';

test('MSD labels: value keys become sorted classes', () => {
  const issues: DatasetIssue[] = [];
  const classes = parseMsdLabels({ '2': 'TZ', '0': 'background', '1': 'PZ' }, issues);
  assert.deepEqual(
    classes.map((c) => [c.name, c.values]),
    [
      ['background', [0]],
      ['PZ', [1]],
      ['TZ', [2]],
    ],
  );
  assert.deepEqual(issues, []);
});

test('MSD labels: bad keys, no background and gaps are reported', () => {
  const issues: DatasetIssue[] = [];
  parseMsdLabels({ one: 'x', '1': 'a', '3': 'b' }, issues);
  const text = issues.map((i) => `${i.severity}: ${i.message}`).join('\n');
  assert.match(text, /error: .*"one" is not a non-negative integer/);
  assert.match(text, /error: .*no label with value 0/);
  assert.match(text, /warning: .*not consecutive/);
});

test('nnU-Net v2 labels: plain and region classes', () => {
  const issues: DatasetIssue[] = [];
  const classes = parseNnunetLabels(
    { background: 0, 'whole tumour': [3, 1, 2], 'tumour core': [2, 3], enhancing: 3 },
    issues,
  );
  assert.deepEqual(issues, []);
  assert.deepEqual(classes[1], { name: 'whole tumour', values: [1, 2, 3], region: true });
  assert.deepEqual(labelValueSet(classes), [0, 1, 2, 3]);
  assert.deepEqual(nnunetLabelsJson(classes), {
    background: 0,
    'whole tumour': [1, 2, 3],
    'tumour core': [2, 3],
    enhancing: 3,
  });
});

test('nnU-Net v2 labels: duplicates and non-integers are errors', () => {
  const issues: DatasetIssue[] = [];
  parseNnunetLabels({ background: 0, liver: 1, organ: 1, bad: 1.5, worse: [] }, issues);
  const errors = issues.filter((i) => i.severity === 'error').map((i) => i.message);
  assert.equal(errors.length, 3, errors.join('\n'));
  assert.ok(errors.some((m) => m.includes('"liver" and "organ" share value 1')));
});

test('command-line label lists', () => {
  assert.deepEqual(parseLabelList('background=0, spleen = 1,wt=1+2+3'), {
    background: 0,
    spleen: 1,
    wt: [1, 2, 3],
  });
  assert.throws(() => parseLabelList('background:0'), /NAME=VALUE/);
});
