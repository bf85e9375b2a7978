// Branching tubes (vessel trees, bronchi): a persistent random walk that tapers, forks now and then and
// stops when it leaves its organ. Each step is one capsule, so painting a tree costs its own volume.
import type { Vec3 } from './grid.js';
import type { Rng } from '../common/random.js';
import { capsule, type Region } from './regions.js';

export interface TreeOptions {
  start: Vec3;
  direction: Vec3;
  radius: number;
  /** Branches thinner than this stop. */
  minRadius: number;
  /** Step length in mm. */
  step: number;
  /** Radius factor per step. */
  taper: number;
  /** Chance per step of a side branch. */
  branchChance: number;
  /** How much the direction wanders per step (0 straight, 1 very tortuous). */
  wander: number;
  maxSegments: number;
  /** Whether a point may still be reached (inside the organ). */
  inside: (p: Vec3) => boolean;
}

function normalize(v: Vec3): Vec3 {
  const n = Math.hypot(v[0], v[1], v[2]) || 1;
  return [v[0] / n, v[1] / n, v[2] / n];
}

/** A direction at `angle` from `dir`, about a random perpendicular axis. */
function deflect(rng: Rng, dir: Vec3, angle: number): Vec3 {
  const r = rng.unitVector();
  const d = r[0] * dir[0] + r[1] * dir[1] + r[2] * dir[2];
  const perp = normalize([r[0] - d * dir[0], r[1] - d * dir[1], r[2] - d * dir[2]]);
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return normalize([c * dir[0] + s * perp[0], c * dir[1] + s * perp[1], c * dir[2] + s * perp[2]]);
}

export function growTree(rng: Rng, o: TreeOptions): Region[] {
  const out: Region[] = [];
  const stack: { p: Vec3; dir: Vec3; r: number }[] = [
    { p: o.start, dir: normalize(o.direction), r: o.radius },
  ];
  const stepFrom = (p: Vec3, dir: Vec3): Vec3 => [
    p[0] + o.step * dir[0],
    p[1] + o.step * dir[1],
    p[2] + o.step * dir[2],
  ];
  while (stack.length > 0 && out.length < o.maxSegments) {
    let { p, dir, r } = stack.pop()!;
    while (r >= o.minRadius && out.length < o.maxSegments) {
      dir = normalize([
        dir[0] + o.wander * rng.normal() * 0.5,
        dir[1] + o.wander * rng.normal() * 0.5,
        dir[2] + o.wander * rng.normal() * 0.5,
      ]);
      let q = stepFrom(p, dir);
      // At the organ's edge a vessel bends along it rather than ending at once.
      for (let tries = 0; tries < 3 && !o.inside(q); tries++) {
        dir = deflect(rng, dir, rng.uniform(0.5, 1.2));
        q = stepFrom(p, dir);
      }
      if (!o.inside(q)) break;
      const r1 = r * o.taper;
      out.push(capsule(p, q, r, r1));
      if (rng.chance(o.branchChance)) {
        // Murray-like split: the side branch is thinner, the parent narrows a little too.
        stack.push({ p: q, dir: deflect(rng, dir, rng.uniform(0.5, 1.1)), r: r1 * rng.uniform(0.6, 0.8) });
        r = r1 * 0.9;
      } else r = r1;
      p = q;
    }
  }
  return out;
}

/** Capsules through a list of points (a centreline), radius interpolated from r0 to r1. */
export function tubeThrough(points: Vec3[], r0: number, r1 = r0): Region[] {
  const out: Region[] = [];
  const n = points.length - 1;
  for (let i = 0; i < n; i++) {
    out.push(capsule(points[i]!, points[i + 1]!, r0 + ((r1 - r0) * i) / n, r0 + ((r1 - r0) * (i + 1)) / n));
  }
  return out;
}

/** Catmull–Rom resampling of a few control points into a smooth centreline of `perSpan` points per span. */
export function smoothPath(ctrl: Vec3[], perSpan = 4): Vec3[] {
  const out: Vec3[] = [];
  const at = (i: number): Vec3 => ctrl[Math.max(0, Math.min(ctrl.length - 1, i))]!;
  for (let i = 0; i < ctrl.length - 1; i++) {
    const [p0, p1, p2, p3] = [at(i - 1), at(i), at(i + 1), at(i + 2)];
    for (let s = 0; s < perSpan; s++) {
      const t = s / perSpan;
      const t2 = t * t;
      const t3 = t2 * t;
      out.push(
        [0, 1, 2].map(
          (a) =>
            0.5 *
            (2 * p1[a]! +
              (-p0[a]! + p2[a]!) * t +
              (2 * p0[a]! - 5 * p1[a]! + 4 * p2[a]! - p3[a]!) * t2 +
              (-p0[a]! + 3 * p1[a]! - 3 * p2[a]! + p3[a]!) * t3),
        ) as Vec3,
      );
    }
  }
  out.push(ctrl[ctrl.length - 1]!);
  return out;
}
