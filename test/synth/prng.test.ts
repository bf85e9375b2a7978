// The seeded PRNG: reproducible, seed-sensitive, and statistically sane enough for image noise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashSeed, NormalTable, Rng } from '../../src/common/random.js';

test('same seed, same stream; other seed, other stream', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 100 }, () => a.u32());
  assert.deepEqual(
    sa,
    Array.from({ length: 100 }, () => b.u32()),
  );
  const sc = Array.from({ length: 100 }, () => c.u32());
  assert.ok(sa.filter((v, i) => v === sc[i]).length < 3);
});

test('hashSeed separates nearby and reordered inputs', () => {
  const seeds = new Set<number>();
  for (let s = 0; s < 20; s++)
    for (const task of ['liver', 'spleen']) for (let i = 0; i < 20; i++) seeds.add(hashSeed(s, task, i));
  assert.equal(seeds.size, 20 * 2 * 20);
  assert.notEqual(hashSeed(1, 2), hashSeed(2, 1));
  assert.notEqual(hashSeed('12'), hashSeed(12));
});

test('uniform, integer and normal draws have the right moments and ranges', () => {
  const r = new Rng(7);
  const n = 20000;
  let sum = 0;
  let sq = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const u = r.next();
    lo = Math.min(lo, u);
    hi = Math.max(hi, u);
    const g = r.normal();
    sum += g;
    sq += g * g;
  }
  assert.ok(lo >= 0 && hi < 1);
  assert.ok(Math.abs(sum / n) < 0.03, `normal mean ${sum / n}`);
  assert.ok(Math.abs(sq / n - 1) < 0.05, `normal variance ${sq / n}`);
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) counts[r.int(0, 2)]!++;
  assert.ok(
    counts.every((c) => c > 900 && c < 1100),
    counts.join(),
  );
  const v = r.unitVector();
  assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-12);
});

test('forks are independent of later draws of the parent', () => {
  const a = new Rng(5);
  const fa = a.fork('x');
  const b = new Rng(5);
  const fb = b.fork('x');
  b.next(); // a later draw on the parent does not change the fork
  assert.equal(fa.u32(), fb.u32());
  assert.notEqual(new Rng(5).fork('x').u32(), new Rng(5).fork('y').u32());
});

test('the normal table fills with unit-variance noise', () => {
  const rng = new Rng(3);
  const out = new Float32Array(50001);
  new NormalTable(rng).fill(out, rng, 2);
  let sq = 0;
  for (const v of out) sq += v * v;
  assert.ok(Math.abs(Math.sqrt(sq / out.length) - 2) < 0.1);
});
