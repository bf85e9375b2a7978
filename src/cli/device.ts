// `--device auto|cpu|cuda[:N]`, shared by every command that computes (train, finetune, predict,
// bench): the option's parseArgs entry, its help line, and its resolution to one device with one
// clear error when the request cannot be met.
import { UsageError } from './command.js';

/** The parseArgs entry: `options: { ...deviceOption, ... }`. */
export const deviceOption = { device: { type: 'string', default: 'auto' } } as const;

export const DEVICE_HELP = `--device auto|cpu|cuda|cuda:N   where to compute (auto: the first GPU when the native engine
                                 was built with CUDA and one is visible, else the CPU)`;

/**
 * The device for `--device VALUE` ('cpu', 'cuda:0', ...). Errors (a malformed value, a CUDA request
 * without a CUDA build or without a visible GPU) become UsageErrors naming the option.
 */
export async function parseDeviceOption(value: string | undefined, option = '--device'): Promise<string> {
  const { resolveDevice, DeviceError } = await import('../engine/device.js');
  try {
    return resolveDevice(value, option);
  } catch (e) {
    if (e instanceof DeviceError) throw new UsageError(e.message);
    throw e;
  }
}
