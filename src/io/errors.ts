// The one error every reader and writer throws for a file it cannot handle: bad magic, corrupt gzip,
// impossible dimensions, unsupported types. The message names the file and says what is wrong in
// plain words, so the CLI can print it as is.

export class ImageFormatError extends Error {
  readonly file: string;
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.name = 'ImageFormatError';
    this.file = file;
  }
}

/** A readable size for messages. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}
