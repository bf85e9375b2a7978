// Opening a model package: checked (format, version, every member present, whole and unchanged),
// unpacked once into a cache folder keyed by the file's SHA-256, and used from there as an
// ordinary model folder by predict, finetune and report. The unpacking is atomic: a folder is
// renamed into place only when every member is written and verified, so an interrupted unpack
// leaves nothing that looks complete.
import { existsSync, statSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PACKAGE_FORMAT, PACKAGE_FORMAT_VERSION, type PackageManifest } from './package.js';
import { SHIPPED_NAME, resolveShipped } from './shipped.js';
import { ArchiveError, extractMember, listTar, readMember, safeMemberName, sha256File } from './tar.js';

export class PackageError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'PackageError';
  }
}

/** Where packages are unpacked: $MEDSEG_CACHE, else ~/.cache/medseg. */
export function cacheRoot(): string {
  return process.env.MEDSEG_CACHE ?? path.join(os.homedir(), '.cache', 'medseg');
}

/** Reads and checks the manifest of a package (no member is extracted). */
export async function readManifest(file: string): Promise<PackageManifest> {
  let members;
  try {
    members = await listTar(file);
  } catch (e) {
    if (e instanceof ArchiveError) throw new PackageError(file, e.message.slice(file.length + 2));
    throw e;
  }
  const first = members[0];
  if (!first || first.name !== 'manifest.json')
    throw new PackageError(file, 'not a medseg package (its first member is not manifest.json)');
  let m: PackageManifest;
  try {
    m = JSON.parse((await readMember(file, first)).toString('utf8')) as PackageManifest;
  } catch {
    throw new PackageError(file, 'manifest.json is not valid JSON');
  }
  if (m.format !== PACKAGE_FORMAT)
    throw new PackageError(file, `not a medseg package (format '${m.format}')`);
  if (!Number.isInteger(m.formatVersion) || m.formatVersion < 1)
    throw new PackageError(file, `bad format version '${m.formatVersion}'`);
  if (m.formatVersion > PACKAGE_FORMAT_VERSION)
    throw new PackageError(
      file,
      `package format ${m.formatVersion} is newer than this medseg (${m.medsegVersion ?? '?'} wrote it; this one reads format ≤ ${PACKAGE_FORMAT_VERSION}): update medseg`,
    );
  if (typeof m.name !== 'string' || !safeMemberName(m.name) || m.name.includes('/'))
    throw new PackageError(file, `bad model name '${m.name}' in manifest.json`);
  const present = new Map(members.map((x) => [x.name, x]));
  for (const want of m.members ?? []) {
    const have = present.get(want.name);
    if (!have) throw new PackageError(file, `member '${want.name}' is missing (incomplete package)`);
    if (have.size !== want.bytes)
      throw new PackageError(
        file,
        `member '${want.name}' has ${have.size} bytes, the manifest says ${want.bytes}`,
      );
  }
  for (const need of ['plans.json', 'fingerprint.json'])
    if (!present.has(need)) throw new PackageError(file, `member '${need}' is missing (incomplete package)`);
  return m;
}

/** True when `p` names a package file rather than a model folder. */
export function isPackageFile(p: string): boolean {
  return existsSync(p) && statSync(p).isFile();
}

/** Unpacks a package (once; later calls find it in the cache); returns the model folder and manifest. */
export async function openPackage(
  file: string,
  o: { cache?: string; log?: (s: string) => void } = {},
): Promise<{ dir: string; manifest: PackageManifest }> {
  const manifest = await readManifest(file);
  const root = path.join(o.cache ?? cacheRoot(), 'packages');
  const key = (await sha256File(file)).slice(0, 24);
  const home = path.join(root, key);
  const dir = path.join(home, manifest.name);
  if (existsSync(dir)) return { dir, manifest };
  await fs.mkdir(root, { recursive: true });
  const tmp = path.join(root, `.${key}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const members = new Map((await listTar(file)).map((m) => [m.name, m]));
    for (const want of manifest.members) {
      const sha = await extractMember(
        file,
        members.get(want.name)!,
        path.join(tmp, manifest.name, want.name),
      );
      if (sha !== want.sha256)
        throw new PackageError(
          file,
          `member '${want.name}' is corrupt (its SHA-256 differs from the manifest's)`,
        );
    }
    await fs.writeFile(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2));
    try {
      await fs.rename(tmp, home);
    } catch (e) {
      // another process unpacked the same package meanwhile: theirs is as good as ours
      if (!existsSync(dir)) throw e;
    }
    o.log?.(`unpacked ${file} into ${dir}`);
    return { dir, manifest };
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** A model argument as a folder: a folder as is, a package file unpacked (see openPackage), a bare
 * name that is no path a shipped initialisation (shipped.ts). */
export async function resolveModel(
  p: string,
  o: { cache?: string; log?: (s: string) => void } = {},
): Promise<string> {
  if (!existsSync(p) && SHIPPED_NAME.test(p)) {
    const { file, provenance: v } = await resolveShipped(p);
    o.log?.(
      `shipped initialisation '${p}': ${v.description}; made by ${v.command}; data ${v.data.map((d) => `${d.name} (${d.licence})`).join(', ')}; licence ${v.licence}; measured in ${v.measured}`,
    );
    return (await openPackage(file, o)).dir;
  }
  if (!existsSync(p)) throw new Error(`${p}: no such model folder or package`);
  return isPackageFile(p) ? (await openPackage(p, o)).dir : p;
}
