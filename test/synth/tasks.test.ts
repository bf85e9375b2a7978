// Every synthetic task, in memory at tiny size: deterministic by seed, declared geometry, values in the
// modality's range, labels within the declared set.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { parseNnunetLabels, labelValueSet } from '../../src/dataset/labels.js';
import type { Volume } from '../../src/io/volume.js';
import { findTask, generateCase } from '../../src/synth/generate.js';
import { SYNTH_SIZES } from '../../src/synth/task.js';
import { SYNTH_TASKS } from '../../src/synth/tasks/index.js';

function digest(vols: Volume[]): string {
  const h = createHash('sha256');
  for (const v of vols) {
    h.update(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength));
    h.update(JSON.stringify([v.shape, v.affine, v.datatype]));
  }
  return h.digest('hex');
}

test('ten tasks mirroring the MSD, numbered 1–10', () => {
  assert.deepEqual(
    SYNTH_TASKS.map((t) => t.number),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  assert.equal(findTask('Task05').key, 'prostate');
  assert.equal(findTask('HepaticVessel').key, 'hepatic-vessel');
  assert.equal(findTask('hepatic_vessel').number, 8);
  assert.equal(findTask('9').name, 'Spleen');
  assert.throws(() => findTask('kidney'), /unknown task 'kidney'/);
});

for (const task of SYNTH_TASKS) {
  test(`${task.key}: deterministic, in range, declared labels`, () => {
    const t0 = performance.now();
    const a = generateCase(task, 0, { seed: 1 });
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `tiny case took ${ms.toFixed(0)} ms`);
    const b = generateCase(task, 0, { seed: 1 });
    const other = generateCase(task, 0, { seed: 2 });
    const next = generateCase(task, 1, { seed: 1 });
    const all = (c: typeof a): Volume[] => [...c.channels, c.label];
    assert.equal(digest(all(a)), digest(all(b)), 'same seed, same bytes');
    assert.notEqual(digest(all(a)), digest(all(other)), 'other seed, other case');
    assert.notEqual(digest(all(a)), digest(all(next)), 'other index, other case');

    assert.equal(a.channels.length, task.channelNames.length);
    const spec = task.sizes.tiny;
    for (const v of all(a)) {
      assert.deepEqual(v.shape, spec.shape);
      assert.equal(v.data.length, spec.shape[0] * spec.shape[1] * spec.shape[2]);
      assert.deepEqual(
        v.affine.map((r, i) => Math.abs(r[i]!)),
        [...v.spacing, 1],
      );
    }
    for (const ch of a.channels) {
      const d = ch.data as Int16Array | Float32Array;
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of d) {
        assert.ok(Number.isFinite(x));
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
      if (task.modality === 'CT') {
        assert.equal(ch.datatype, 'int16');
        // Air outside the body, bone inside: a real HU range, not normalised values.
        assert.ok(lo >= -1024 && lo < -900, `CT min ${lo}`);
        assert.ok(hi > 300 && hi <= 3071, `CT max ${hi}`);
      } else {
        assert.equal(ch.datatype, 'float32');
        // Magnitude images: positive, with contrast (crops like the hippocampus have no empty background).
        assert.ok(lo >= 0 && hi > 2 * lo && hi < 1e5, `MRI range ${lo}..${hi}`);
      }
    }
    const declared = new Set(labelValueSet(parseNnunetLabels(task.labels, [])));
    const present = new Set(a.label.data as Uint8Array);
    for (const v of present) assert.ok(declared.has(v), `label value ${v} not declared`);
    assert.ok(present.size >= 2, 'some foreground');
  });
}

test('sizes: tiny is small, realistic near real; prostate stays anisotropic at every size', () => {
  for (const task of SYNTH_TASKS) {
    const tiny = task.sizes.tiny.shape.reduce((a, b) => a * b);
    assert.ok(tiny <= 40 ** 3, `${task.key} tiny has ${tiny} voxels`);
    const real = task.sizes.realistic;
    if (task.modality === 'CT') {
      assert.deepEqual(real.shape.slice(0, 2), [512, 512]);
      assert.ok(
        real.spacing[0] >= 0.7 && real.spacing[0] <= 0.9 && real.spacing[2] >= 1.5 && real.spacing[2] <= 5,
      );
    }
  }
  const prostate = findTask('prostate');
  assert.deepEqual(prostate.sizes.realistic.spacing, [0.6, 0.6, 3.6]);
  for (const size of SYNTH_SIZES) {
    const [sx, sy, sz] = prostate.sizes[size].spacing;
    assert.ok(sz / sx >= 3 && sx === sy, `${size}: ${sx}×${sy}×${sz}`);
  }
  // Also per case, after the spread of in-plane spacing between cases.
  for (let i = 0; i < 8; i++) {
    const [sx, , sz] = generateCase(prostate, i, { seed: 9 }).channels[1]!.spacing;
    assert.ok(sz / sx >= 3, `case ${i}: ${sx} × ${sz}`);
  }
  assert.deepEqual(findTask('hippocampus').sizes.realistic.spacing, [1, 1, 1]);
});
