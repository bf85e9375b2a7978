// Shared by the io tests: where the real data is, the Python reference (nibabel/pydicom) and
// temporary folders. Tests that need either skip with a notice when it is absent.
import { execFile, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import type { VoxelArray } from '../../src/io/volume.js';

/** The repository root (this file runs from dist/test/io/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const realDataDir = process.env.MEDSEG_REAL_DATA ?? path.resolve(repoRoot, '../shared/data');
const PYTHON = '/usr/bin/python3';
const REFERENCE = path.join(repoRoot, 'test/io/reference.py');

/** A file of the shared real data, or undefined after marking the test skipped. */
export function realFile(t: TestContext, rel: string): string | undefined {
  const f = path.join(realDataDir, rel);
  if (fs.existsSync(f)) return f;
  t.skip(`real data not found at ${f} (set MEDSEG_REAL_DATA)`);
  return undefined;
}

let nibabel: boolean | undefined;
/** Whether the reference Python with nibabel and pydicom is there; marks the test skipped if not. */
export function haveReference(t: TestContext): boolean {
  nibabel ??= spawnSync(PYTHON, ['-c', 'import nibabel, pydicom, numpy'], { stdio: 'ignore' }).status === 0;
  if (!nibabel) t.skip(`${PYTHON} with nibabel, pydicom and numpy not available`);
  return nibabel;
}

/** Runs a command of test/io/reference.py and parses its JSON answer. */
export function reference<T = Record<string, unknown>>(command: string, ...args: string[]): Promise<T[]> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      ['-W', 'ignore', REFERENCE, command, ...args],
      { maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`reference.py ${command} failed: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as T[]);
      },
    );
  });
}

/**
 * Runs several reference.py commands in one Python process (pydicom/nibabel load once), in order;
 * returns each command's answer.
 */
export function referenceBatch(...commands: string[][]): Promise<unknown[][]> {
  return reference<unknown[]>('batch', JSON.stringify(commands));
}

/** A fresh temporary folder, removed after the test. */
export function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medseg-io-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** sha256 of an array's bytes (little-endian host), as reference.py computes it. */
export function sha(a: VoxelArray | Uint8Array): string {
  return crypto
    .createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');
}

/** Largest element difference of two 4×4 matrices. */
export function affineDiff(a: number[][], b: number[][]): number {
  let d = 0;
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(a[r]![c]! - b[r]![c]!));
  return d;
}

/** A small deterministic PRNG (mulberry32) so that fuzzing is reproducible. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
