// A small seeded generator for the data pipeline whose state is one number, so checkpoints can
// save it and a resumed run draws exactly the same cases, patches and augmentations.
export class Rng {
  constructor(public state: number) {
    this.state = state >>> 0;
  }
  /** Uniform [0, 1) (mulberry32). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
}
