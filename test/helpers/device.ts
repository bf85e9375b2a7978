// The device the device-generic tests run on: MEDSEG_TEST_DEVICE (cpu when unset; 'cuda' on a GPU
// machine, see bench/device-check.sh). On the CPU the tests still run every device code path (the
// transfers are then copies within the CPU).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalDevice } from '../../src/engine/index.js';

/** The repository root (this file runs from dist/test/helpers/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function testDevice(): string {
  return canonicalDevice(process.env.MEDSEG_TEST_DEVICE ?? 'cpu');
}
