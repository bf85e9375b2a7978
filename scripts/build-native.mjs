// Builds the native addon (native/build/Release/medseg_native.node) against the libtorch that
// find-libtorch.mjs finds. Run by `npm install` (the package's install step) and by scripts/setup.sh.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findLibtorch } from './find-libtorch.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');

const torch = findLibtorch();
if (!torch) {
  console.error(
    [
      'medseg: no libtorch found, so the native engine cannot be built.',
      'Get one of:',
      '  - Debian/Ubuntu: apt-get install libtorch-dev   (scripts/setup.sh does this for you as root)',
      '  - an official libtorch 2.x (CPU or CUDA), unpacked, then: LIBTORCH=/path/to/libtorch npm install',
      '  - a Python torch installation visible to python3 (pip install torch)',
    ].join('\n'),
  );
  process.exit(1);
}

mkdirSync(nativeDir, { recursive: true });
const configFile = path.join(nativeDir, 'torch-config.json');
const config = JSON.stringify(torch, null, 2);
const addon = path.join(nativeDir, 'build', 'Release', 'medseg_native.node');

// Up to date: same libtorch, and the addon is newer than every source file.
function upToDate() {
  if (process.env.MEDSEG_REBUILD || !existsSync(addon) || !existsSync(configFile)) return false;
  if (readFileSync(configFile, 'utf8') !== config) return false;
  const built = statSync(addon).mtimeMs;
  const sources = [
    path.join(nativeDir, 'binding.gyp'),
    ...readdirSync(path.join(nativeDir, 'src')).map((f) => path.join(nativeDir, 'src', f)),
  ];
  return sources.every((f) => statSync(f).mtimeMs < built);
}
if (upToDate()) {
  console.log('medseg: native engine is up to date');
  process.exit(0);
}
writeFileSync(configFile, config);

function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) {
    return [process.execPath, process.env.npm_config_node_gyp];
  }
  const candidates = [
    path.join(
      path.dirname(process.execPath),
      '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    ),
  ];
  try {
    candidates.unshift(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not a dependency: fall back to npm's bundled copy
  }
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    console.error(
      'medseg: node-gyp not found (it ships with npm); install npm or `npm install -g node-gyp`.',
    );
    process.exit(1);
  }
  return [process.execPath, found];
}

console.log(
  `medseg: building the native engine against ${torch.kind}, torch ${torch.version}` +
    `${torch.cuda ? ' with CUDA' : ' (CPU)'}, libdir ${torch.libDir}`,
);
const [exe, gyp] = nodeGyp();
const jobs = String(Math.max(1, Math.min(4, Number(process.env.MEDSEG_BUILD_JOBS ?? 2))));
// Build against the headers of the running Node when they are installed beside it (no download).
const prefix = path.resolve(path.dirname(process.execPath), '..');
const nodedir =
  process.env.npm_config_nodedir ??
  (existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null);
const gypArgs = [gyp, 'rebuild', `--jobs=${jobs}`, ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const r = spawnSync(exe, gypArgs, { cwd: nativeDir, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('medseg: the native engine failed to build (see the compiler output above).');
  process.exit(r.status ?? 1);
}
