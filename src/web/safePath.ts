// Resolving a URL path inside one served folder. Everything that could leave the folder is refused:
// `..` segments (plain or percent-encoded, which decoding turns into plain ones), absolute paths,
// backslashes and NUL bytes, and symbolic links whose target lies outside (checked on the real path,
// so a link inside the folder pointing elsewhere is caught however it is reached).
import { realpathSync } from 'node:fs';
import path from 'node:path';

export type Resolved = { ok: true; file: string } | { ok: false; status: 400 | 403 | 404; reason: string };

/** The real path of `urlPath` (still percent-encoded, relative to `root`), or why it is refused. */
export function resolveInside(root: string, urlPath: string): Resolved {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { ok: false, status: 400, reason: 'malformed percent-encoding' };
  }
  if (decoded.includes('\0') || decoded.includes('\\'))
    return { ok: false, status: 400, reason: 'NUL or backslash in path' };
  if (path.isAbsolute(decoded) || /^[a-zA-Z]:/.test(decoded))
    return { ok: false, status: 403, reason: 'absolute path' };
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return { ok: false, status: 403, reason: '".." in path' };
  let rootReal: string;
  try {
    rootReal = realpathSync(root);
  } catch {
    return { ok: false, status: 404, reason: 'served folder is missing' };
  }
  let real: string;
  try {
    real = realpathSync(path.join(rootReal, ...segments));
  } catch {
    return { ok: false, status: 404, reason: 'not found' };
  }
  if (real !== rootReal && !real.startsWith(rootReal + path.sep))
    return { ok: false, status: 403, reason: 'outside the served folder (symbolic link?)' };
  return { ok: true, file: real };
}
