// A small seeded PRNG (mulberry32) so that every synthetic dataset is a pure function of its seed:
// Math.random cannot be seeded, and a per-case seed derived by hashing lets any case be regenerated
// alone, whatever --cases was.

/** 32-bit FNV-1a over the parts, finished with a murmur3 mix so close inputs give unrelated seeds. */
export function hashSeed(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  const feed = (byte: number): void => {
    h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  };
  for (const p of parts) {
    const s = typeof p === 'number' ? `#${p}` : `"${p}`;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      feed(c & 0xff);
      feed(c >>> 8);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  /** The generator's state: saving this number and constructing Rng from it later continues the
   * same stream (a cached second normal deviate, if any, is not part of it). */
  state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform 32-bit unsigned integer (mulberry32). */
  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniformly distributed unit vector. */
  unitVector(): [number, number, number] {
    const z = this.uniform(-1, 1);
    const a = this.uniform(0, 2 * Math.PI);
    const r = Math.sqrt(1 - z * z);
    return [r * Math.cos(a), r * Math.sin(a), z];
  }

  /** An independent generator for a named sub-task, so adding draws in one place does not shift others. */
  fork(...keys: (number | string)[]): Rng {
    return new Rng(hashSeed(this.u32(), ...keys));
  }
}

/**
 * A table of standard normals indexed by 12 random bits: per-voxel image noise needs hundreds of millions
 * of draws at realistic size, and two table lookups per PRNG call are several times cheaper than
 * Box–Muller, with no visible difference in an image.
 */
export class NormalTable {
  private readonly table = new Float32Array(4096);

  constructor(rng: Rng) {
    for (let i = 0; i < this.table.length; i++) this.table[i] = rng.normal();
  }

  /** Fills out[i] with sigma × N(0, 1) draws. */
  fill(out: Float32Array, rng: Rng, sigma: number): void {
    const t = this.table;
    const n = out.length;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const r = rng.u32();
      out[i] = t[r & 4095]! * sigma;
      out[i + 1] = t[(r >>> 16) & 4095]! * sigma;
    }
    if (i < n) out[i] = t[rng.u32() & 4095]! * sigma;
  }
}
