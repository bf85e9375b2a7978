// The viewer page and the in-browser segmentation page, built by `npm run build:web` into dist-web/
// (served by `medseg serve`). Everything the pages need is bundled or copied: they load nothing from
// a CDN, so they work offline. onnxruntime-web is resolved to its build that loads its WebAssembly
// runtime from a path the page sets (the 'onnxruntime-web-use-extern-wasm' condition), and that
// runtime (the .mjs loader and its .wasm, WebGPU and WebAssembly in one) is copied to dist-web/ort/.
import { copyFileSync, mkdirSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, defaultClientConditions, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const outDir = fileURLToPath(new URL('../dist-web', import.meta.url));
/** The runtime files ort.min.mjs loads (ort-wasm-simd-threaded.jsep: WebGPU + WebAssembly). */
const ORT_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

function copyOrtRuntime(): Plugin {
  return {
    name: 'medseg-copy-ort-runtime',
    apply: 'build',
    writeBundle() {
      const require = createRequire(import.meta.url);
      const dist = path.dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm'));
      mkdirSync(path.join(outDir, 'ort'), { recursive: true });
      for (const f of ORT_FILES) copyFileSync(path.join(dist, f), path.join(outDir, 'ort', f));
    },
  };
}

/** A Node built-in imported by page code (not a dependency's optional Node branch) fails the build. */
function refuseNodeModules(): Plugin {
  return {
    name: 'medseg-refuse-node-modules',
    enforce: 'pre',
    resolveId(id, importer) {
      const builtin = id.startsWith('node:') || builtinModules.includes(id);
      if (builtin && importer && !importer.includes('node_modules'))
        this.error(`${path.relative(root, importer)} imports ${id}: Node-only code cannot go in the page`);
      return null;
    },
  };
}

export default defineConfig({
  root,
  base: './',
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  plugins: [refuseNodeModules(), copyOrtRuntime()],
  build: {
    outDir,
    emptyOutDir: true,
    // Niivue is one large module; the warning says nothing useful here
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('index.html', import.meta.url)),
        segment: fileURLToPath(new URL('segment.html', import.meta.url)),
      },
    },
  },
});
