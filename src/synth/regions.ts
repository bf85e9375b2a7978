// Shapes the scenes are built from. Each is a level function (< 0 inside, 0 on the surface, about -1 at
// the core) with a bounding box in mm, so painting one only visits the voxels of its box: the cost is
// the sum of the objects' boxes, not voxels × objects.
import { LatticeNoise } from './noise.js';
import type { Rng } from '../common/random.js';
import type { Vec3 } from './grid.js';

export type Mat3 = [Vec3, Vec3, Vec3];

export interface Region {
  min: Vec3;
  max: Vec3;
  level(x: number, y: number, z: number): number;
  /**
   * Optional cheap approximation with |level - coarse| <= slack everywhere: painting uses it to skip the
   * expensive surface noise far from the surface (most voxels of a body outline's box).
   */
  coarse?(x: number, y: number, z: number): number;
  slack?: number;
}

/** Low-frequency perturbation of a shape's surface: amp is in units of the shape's own size. */
export interface Wobble {
  rng: Rng;
  /** Lattice cells across the shape's box; 3–5 gives lobes, more gives a rough surface. */
  cells: number;
  amp: number;
}

export const identity: Mat3 = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

/** Rotation by `angle` (radians) about a unit axis (Rodrigues), as rows mapping world → local. */
export function rotation(axis: Vec3, angle: number): Mat3 {
  const [x, y, z] = axis;
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const t = 1 - c;
  return [
    [t * x * x + c, t * x * y + s * z, t * x * z - s * y],
    [t * x * y - s * z, t * y * y + c, t * y * z + s * x],
    [t * x * z + s * y, t * y * z - s * x, t * z * z + c],
  ];
}

/** A rotation about a random axis by up to maxAngle radians. */
export function randomRotation(rng: Rng, maxAngle: number): Mat3 {
  return rotation(rng.unitVector(), rng.uniform(-maxAngle, maxAngle));
}

// A shape's own level plus an optional smooth perturbation sampled over its (enlarged) box.
abstract class Shape implements Region {
  min: Vec3 = [0, 0, 0];
  max: Vec3 = [0, 0, 0];
  private noise: LatticeNoise | undefined;
  private amp = 0;
  private inv: Vec3 = [0, 0, 0];

  protected abstract base(x: number, y: number, z: number): number;

  /** Sets the box from its centre and half extents, enlarged for the wobble. */
  protected box(center: Vec3, half: Vec3, wobble?: Wobble): void {
    const grow = 1 + (wobble?.amp ?? 0);
    this.min = [0, 1, 2].map((a) => center[a]! - half[a]! * grow) as Vec3;
    this.max = [0, 1, 2].map((a) => center[a]! + half[a]! * grow) as Vec3;
    this.inv = [0, 1, 2].map((a) => 1 / Math.max(this.max[a]! - this.min[a]!, 1e-9)) as Vec3;
    if (wobble && wobble.amp > 0) {
      const c = wobble.cells;
      this.noise = new LatticeNoise(wobble.rng, [c, c, c]);
      this.amp = wobble.amp;
    }
  }

  get slack(): number {
    return this.amp;
  }

  coarse(x: number, y: number, z: number): number {
    return this.base(x, y, z);
  }

  level(x: number, y: number, z: number): number {
    const l = this.base(x, y, z);
    if (!this.noise) return l;
    const [mx, my, mz] = this.min;
    return (
      l + this.amp * this.noise.at((x - mx) * this.inv[0], (y - my) * this.inv[1], (z - mz) * this.inv[2])
    );
  }
}

class Ellipsoid extends Shape {
  constructor(
    private readonly c: Vec3,
    private readonly r: Vec3,
    private readonly rot: Mat3,
    wobble?: Wobble,
  ) {
    super();
    // Half extent along world axis i of the rotated ellipsoid: |row i of R^T diag(r)|.
    const half = [0, 1, 2].map((i) =>
      Math.hypot(rot[0][i] * r[0], rot[1][i] * r[1], rot[2][i] * r[2]),
    ) as Vec3;
    this.box(c, half, wobble);
  }

  protected base(x: number, y: number, z: number): number {
    const dx = x - this.c[0];
    const dy = y - this.c[1];
    const dz = z - this.c[2];
    const R = this.rot;
    const qx = (R[0][0] * dx + R[0][1] * dy + R[0][2] * dz) / this.r[0];
    const qy = (R[1][0] * dx + R[1][1] * dy + R[1][2] * dz) / this.r[1];
    const qz = (R[2][0] * dx + R[2][1] * dy + R[2][2] * dz) / this.r[2];
    return Math.sqrt(qx * qx + qy * qy + qz * qz) - 1;
  }
}

/** An ellipsoid, rotated (rows world → local) and wobbled. */
export function ellipsoid(center: Vec3, radii: Vec3, rot: Mat3 = identity, wobble?: Wobble): Region {
  return new Ellipsoid(center, radii, rot, wobble);
}

class CylinderZ extends Shape {
  constructor(
    private readonly cx: number,
    private readonly cy: number,
    private readonly rx: number,
    private readonly ry: number,
    z0: number,
    z1: number,
    wobble?: Wobble,
  ) {
    super();
    this.box([cx, cy, (z0 + z1) / 2], [rx, ry, (z1 - z0) / 2], wobble);
    // The wobble must not grow the cylinder's length.
    this.min[2] = z0;
    this.max[2] = z1;
  }

  protected base(x: number, y: number): number {
    const qx = (x - this.cx) / this.rx;
    const qy = (y - this.cy) / this.ry;
    return Math.sqrt(qx * qx + qy * qy) - 1;
  }
}

/** An elliptic cylinder along z from z0 to z1 (a body outline, a spine, a straight vessel). */
export function cylinderZ(
  center: [number, number],
  radii: [number, number],
  z0: number,
  z1: number,
  wobble?: Wobble,
): Region {
  return new CylinderZ(center[0], center[1], radii[0], radii[1], z0, z1, wobble);
}

class Capsule implements Region {
  min: Vec3;
  max: Vec3;
  private readonly d: Vec3;
  private readonly len2: number;

  constructor(
    private readonly p0: Vec3,
    p1: Vec3,
    private readonly r0: number,
    private readonly r1: number,
  ) {
    const r = Math.max(r0, r1);
    this.min = [0, 1, 2].map((a) => Math.min(p0[a]!, p1[a]!) - r) as Vec3;
    this.max = [0, 1, 2].map((a) => Math.max(p0[a]!, p1[a]!) + r) as Vec3;
    this.d = [p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]];
    this.len2 = Math.max(this.d[0] ** 2 + this.d[1] ** 2 + this.d[2] ** 2, 1e-12);
  }

  level(x: number, y: number, z: number): number {
    const [dx, dy, dz] = this.d;
    const px = x - this.p0[0];
    const py = y - this.p0[1];
    const pz = z - this.p0[2];
    const t = Math.min(1, Math.max(0, (px * dx + py * dy + pz * dz) / this.len2));
    const ex = px - t * dx;
    const ey = py - t * dy;
    const ez = pz - t * dz;
    const r = this.r0 + (this.r1 - this.r0) * t;
    return Math.sqrt(ex * ex + ey * ey + ez * ez) / r - 1;
  }
}

/** A tube segment from p0 (radius r0) to p1 (radius r1) with rounded ends; chains of them make vessels. */
export function capsule(p0: Vec3, p1: Vec3, r0: number, r1 = r0): Region {
  return new Capsule(p0, p1, r0, r1);
}
