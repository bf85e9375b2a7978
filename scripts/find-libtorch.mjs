// Finds a libtorch to build the native addon against, in this order:
//   1. $LIBTORCH: an unpacked official libtorch (2.x, CPU or CUDA) with include/ and lib/;
//   2. a Python torch installation (python3 -c 'import torch'), e.g. a pip wheel with CUDA;
//   3. Debian's libtorch-dev (headers in /usr/include, libraries in the multiarch lib folder).
// Prints nothing; returns a description or null.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

function hasHeaders(inc) {
  return existsSync(path.join(inc, 'ATen', 'ATen.h')) && existsSync(path.join(inc, 'torch', 'csrc'));
}

function readVersion(inc) {
  try {
    const txt = execFileSync(
      'sh',
      ['-c', `cat "${path.join(inc, 'torch/csrc/api/include/torch/version.h')}"`],
      {
        encoding: 'utf8',
      },
    );
    const get = (k) => Number(new RegExp(`#define TORCH_VERSION_${k} (\\d+)`).exec(txt)?.[1] ?? NaN);
    return `${get('MAJOR')}.${get('MINOR')}.${get('PATCH')}`;
  } catch {
    return 'unknown';
  }
}

// libc10 exports std::__cxx11 symbols only when built with the new C++ ABI.
function cxx11Abi(libDir) {
  try {
    const out = execFileSync(
      'sh',
      ['-c', `nm -D --defined-only "${path.join(libDir, 'libc10.so')}" | grep -c __cxx11`],
      {
        encoding: 'utf8',
      },
    );
    return Number(out.trim()) > 0 ? 1 : 0;
  } catch {
    return 1;
  }
}

function describe(kind, inc, libDir, abi) {
  const libs = existsSync(libDir) ? readdirSync(libDir) : [];
  return {
    kind,
    includeDirs: [inc, path.join(inc, 'torch', 'csrc', 'api', 'include')],
    libDir,
    cuda: libs.includes('libtorch_cuda.so'),
    cxx11Abi: abi ?? cxx11Abi(libDir),
    version: readVersion(inc),
  };
}

function fromPython(python) {
  try {
    const out = execFileSync(
      python,
      [
        '-c',
        'import torch, os; print(os.path.dirname(torch.__file__)); print(int(torch._C._GLIBCXX_USE_CXX11_ABI))',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    ).split('\n');
    const root = out[0].trim();
    const inc = path.join(root, 'include');
    if (!hasHeaders(inc)) return null;
    return describe(`python torch (${python})`, inc, path.join(root, 'lib'), Number(out[1]));
  } catch {
    return null;
  }
}

export function findLibtorch(env = process.env) {
  if (env.LIBTORCH) {
    const inc = path.join(env.LIBTORCH, 'include');
    if (!hasHeaders(inc)) throw new Error(`LIBTORCH=${env.LIBTORCH} has no include/ATen/ATen.h`);
    return describe('LIBTORCH', inc, path.join(env.LIBTORCH, 'lib'));
  }
  for (const py of ['python3', '/usr/bin/python3']) {
    const found = fromPython(py);
    // Debian's python3-torch points at the system headers; prefer the plain system description then.
    if (found && !found.includeDirs[0].startsWith('/usr/lib/python3')) return found;
  }
  const multiarch = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'];
  if (hasHeaders('/usr/include')) {
    const libDir = multiarch.find((d) => existsSync(path.join(d, 'libtorch_cpu.so')));
    if (libDir) return describe('system libtorch-dev', '/usr/include', libDir);
  }
  return null;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(findLibtorch(), null, 2));
}
