// Scaled values and their statistics, checked against a direct per-element computation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scaledValues, volumeStats } from '../../src/io/values.js';
import { ALL_TYPES, makeVolume } from './fixtures.js';

test('scaledValues is stored × slope + inter, float32 unless float32 would round', () => {
  for (const type of ALL_TYPES) {
    for (const [slope, inter] of [
      [1, 0],
      [0.25, -7],
      [-2, 3],
    ] as const) {
      const vol = { ...makeVolume(type), sclSlope: slope, sclInter: inter };
      const out = scaledValues(vol);
      const rgb = type === 'rgb24';
      const wide = ['int32', 'uint32', 'int64', 'uint64', 'float64'].includes(type);
      assert.equal(out instanceof Float64Array, wide, type);
      for (let i = 0; i < vol.data.length; i++) {
        const want = rgb ? Number(vol.data[i]) : Number(vol.data[i]) * slope + inter;
        assert.equal(out[i], wide ? want : Math.fround(want), `${type} ${slope} ${inter} [${i}]`);
      }
      assert.ok(scaledValues(vol, 'float64') instanceof Float64Array);
      assert.ok(scaledValues(vol, 'float32') instanceof Float32Array);
    }
  }
  // A slope that float32 cannot hold (possible in NIfTI-2) forces float64.
  assert.ok(scaledValues({ ...makeVolume('int16'), sclSlope: 0.1, sclInter: 0 }) instanceof Float64Array);
  assert.ok(
    scaledValues({ ...makeVolume('int16'), sclSlope: Math.fround(0.1), sclInter: 0 }) instanceof Float32Array,
  );
});

test('volumeStats equals min/max/mean of the scaled values, NaN left out', () => {
  for (const type of ALL_TYPES) {
    for (const [slope, inter] of [
      [1, 0],
      [0.5, 10],
      [-3, 1],
    ] as const) {
      const vol = { ...makeVolume(type, [7, 3, 2]), sclSlope: slope, sclInter: inter };
      const real = Array.from(scaledValues(vol, 'float64'));
      const s = volumeStats(vol);
      const min = real.reduce((a, b) => Math.min(a, b), Infinity);
      const max = real.reduce((a, b) => Math.max(a, b), -Infinity);
      const mean = real.reduce((a, b) => a + b, 0) / real.length;
      assert.equal(s.min, min, type);
      assert.equal(s.max, max, type);
      const scale = Math.max(1, Math.abs(min), Math.abs(max));
      assert.ok(Math.abs(s.mean - mean) <= 1e-12 * scale, `${type}: ${s.mean} vs ${mean}`);
      assert.equal(s.count, real.length);
    }
  }
  const f = { ...makeVolume('float32'), sclSlope: 1, sclInter: 0 };
  f.data[5] = NaN;
  f.data[6] = NaN;
  const s = volumeStats(f);
  assert.equal(s.nanCount, 2);
  assert.ok(Number.isFinite(s.mean));
  assert.equal(s.count, f.data.length - 2);
});
