// The character of each task: nesting, adjacency, class fractions and intensities that make the MSD
// tasks what they are. Several cases per task, so a lucky draw cannot pass for a property.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findTask, generateCase, type SynthCase } from '../../src/synth/generate.js';
import type { SynthSize } from '../../src/synth/task.js';

const cases = (key: string, n = 4, size: SynthSize = 'tiny'): SynthCase[] =>
  Array.from({ length: n }, (_, i) => generateCase(findTask(key), i, { seed: 3, size }));

function fractions(c: SynthCase): number[] {
  const lab = c.label.data as Uint8Array;
  const counts = new Array<number>(8).fill(0);
  for (const v of lab) counts[v]!++;
  return counts.map((n) => n / lab.length);
}

/** Calls f(value, neighbourValue) for every pair of 6-neighbours. */
function forNeighbours(c: SynthCase, f: (a: number, b: number) => void): void {
  const [nx, ny, nz] = c.label.shape as [number, number, number];
  const d = c.label.data as Uint8Array;
  const both = (p: number, q: number): void => {
    f(d[p]!, d[q]!);
    f(d[q]!, d[p]!);
  };
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p = i + nx * (j + ny * k);
        if (i + 1 < nx) both(p, p + 1);
        if (j + 1 < ny) both(p, p + nx);
        if (k + 1 < nz) both(p, p + nx * ny);
      }
    }
  }
}

function meanWhere(c: SynthCase, channel: number, label: number): number {
  const img = c.channels[channel]!.data as Int16Array | Float32Array;
  const lab = c.label.data as Uint8Array;
  let s = 0;
  let n = 0;
  for (let i = 0; i < lab.length; i++) {
    if (lab[i] !== label) continue;
    s += img[i]!;
    n++;
  }
  return s / n;
}

test('brain tumour: enhancing ⊂ core ⊂ whole tumour, all three present', () => {
  for (const size of ['tiny', 'small'] as const) {
    for (const c of cases('brain-tumour', size === 'tiny' ? 5 : 1, size)) {
      const f = fractions(c);
      assert.ok(f[1]! > 0 && f[2]! > 0 && f[3]! > 0, `classes present: ${f.slice(0, 4)}`);
      forNeighbours(c, (a, b) => {
        // Enhancing tumour touches only core; core touches only tumour labels.
        if (a === 3) assert.ok(b === 2 || b === 3, `enhancing next to ${b}`);
        if (a === 2) assert.ok(b >= 1, 'core next to background');
      });
      assert.ok(f[1]! + f[2]! + f[3]! < 0.1, 'tumour is a small part of the volume');
    }
  }
});

/** World (RAS+ mm) centroid of a label, through the case's affine: checks placement and axis flips. */
function centroid(c: SynthCase, label: number): number[] {
  const [nx, ny] = c.label.shape as [number, number];
  const d = c.label.data as Uint8Array;
  const sum = [0, 0, 0];
  let n = 0;
  for (let p = 0; p < d.length; p++) {
    if (d[p] !== label) continue;
    const ijk = [p % nx, Math.floor(p / nx) % ny, Math.floor(p / (nx * ny))];
    for (let r = 0; r < 3; r++)
      sum[r]! +=
        c.label.affine[r]![0]! * ijk[0]! +
        c.label.affine[r]![1]! * ijk[1]! +
        c.label.affine[r]![2]! * ijk[2]! +
        c.label.affine[r]![3]!;
    n++;
  }
  return sum.map((v) => v / n);
}

test('abdominal organs sit on the right side of the patient in world coordinates', () => {
  for (const c of cases('liver', 2)) assert.ok(centroid(c, 1)[0]! > 20, `liver x ${centroid(c, 1)[0]}`);
  for (const c of cases('spleen', 2)) {
    const [x, y] = centroid(c, 1);
    assert.ok(x! < -40 && y! < 0, `spleen left and posterior: ${x}, ${y}`);
  }
});

test('spleen: one organ, a small fraction of a large field of view, soft-tissue HU', () => {
  for (const c of [...cases('spleen'), ...cases('spleen', 1, 'small')]) {
    const f = fractions(c);
    assert.ok(f[1]! > 0.0005 && f[1]! < 0.02, `spleen fraction ${f[1]}`);
    const hu = meanWhere(c, 0, 1);
    assert.ok(hu > 60 && hu < 160, `spleen mean ${hu} HU`);
    assert.ok(meanWhere(c, 0, 0) < -300, 'background is mostly air and fat');
  }
});

test('liver: large organ, small lesions; hepatic vessel: thin tubes brighter than liver', () => {
  for (const c of cases('liver')) {
    const f = fractions(c);
    assert.ok(f[1]! > 0.01 && f[1]! < 0.15, `liver fraction ${f[1]}`);
    assert.ok(f[2]! < f[1]! / 5, 'lesions much smaller than the liver');
  }
  const withLesion = cases('liver', 6).filter((c) => fractions(c)[2]! > 0);
  assert.ok(withLesion.length >= 3, 'most liver cases have a lesion');
  for (const c of cases('hepatic-vessel', 3, 'small')) {
    const f = fractions(c);
    assert.ok(f[1]! > 0 && f[1]! < 0.01 && f[2]! > 0, `vessel ${f[1]}, tumour ${f[2]}`);
    // Thin: most vessel voxels touch something that is not vessel.
    let surface = 0;
    let all = 0;
    const d = c.label.data as Uint8Array;
    const [nx, ny] = c.label.shape as [number, number];
    for (let p = nx * ny; p < d.length - nx * ny; p++) {
      if (d[p] !== 1) continue;
      all++;
      if ([1, -1, nx, -nx, nx * ny, -nx * ny].some((o) => d[p + o] !== 1)) surface++;
    }
    assert.ok(surface / all > 0.7, `vessel surface ratio ${surface / all}`);
    assert.ok(meanWhere(c, 0, 1) > meanWhere(c, 0, 2) + 40, 'vessels enhance, tumours do not');
  }
});

test('hippocampus: two adjacent parts, anterior in front of posterior', () => {
  for (const c of cases('hippocampus')) {
    let touching = 0;
    forNeighbours(c, (a, b) => {
      if (a === 1 && b === 2) touching++;
    });
    assert.ok(touching > 0, 'the parts share a boundary');
    const [nx, ny] = c.label.shape as [number, number];
    const d = c.label.data as Uint8Array;
    const meanY = (v: number): number => {
      let s = 0;
      let n = 0;
      for (let p = 0; p < d.length; p++) {
        if (d[p] !== v) continue;
        s += Math.floor(p / nx) % ny;
        n++;
      }
      return s / n;
    };
    assert.ok(meanY(1) > meanY(2), 'anterior (label 1) at larger y (RAS: anterior)');
  }
});

test('prostate: both zones, PZ bright on T2, TZ lower ADC', () => {
  for (const c of cases('prostate', 3, 'small')) {
    const f = fractions(c);
    assert.ok(f[1]! > 0 && f[2]! > 0 && f[1]! + f[2]! < 0.05);
    assert.ok(meanWhere(c, 0, 1) > meanWhere(c, 0, 2) * 1.3, 'PZ brighter than TZ on T2');
    assert.ok(meanWhere(c, 1, 2) < meanWhere(c, 1, 1), 'TZ lower ADC than PZ');
  }
});

test('lung, pancreas, colon: strong imbalance, tumours where they belong', () => {
  for (const key of ['lung', 'colon']) {
    for (const c of cases(key, 3, 'small')) {
      const f = fractions(c);
      assert.ok(f[1]! > 0 && f[1]! < 0.003, `${key} tumour fraction ${f[1]}`);
    }
  }
  for (const c of cases('pancreas', 3, 'small')) {
    const f = fractions(c);
    assert.ok(
      f[1]! > 0.0003 && f[1]! < 0.01 && f[2]! > 0 && f[2]! < f[1]!,
      `pancreas ${f[1]}, tumour ${f[2]}`,
    );
    // The tumour grows in the gland: it borders pancreas (and may reach its margin, as real ones do).
    let pan = 0;
    forNeighbours(c, (a, b) => {
      if (a === 2 && b === 1) pan++;
    });
    assert.ok(pan > 0, 'tumour borders pancreas');
  }
  const lung = cases('lung', 1, 'small')[0]!;
  assert.ok(meanWhere(lung, 0, 0) < -400);
});

test('heart: one structure, bright blood like the rest of the blood pool', () => {
  for (const c of cases('heart', 3)) {
    const f = fractions(c);
    assert.ok(f[1]! > 0 && f[1]! < 0.02, `left atrium fraction ${f[1]}`);
    assert.ok(meanWhere(c, 0, 1) > 2 * meanWhere(c, 0, 0), 'bright-blood atrium');
  }
});
