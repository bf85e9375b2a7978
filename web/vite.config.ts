// The viewer page, built by `npm run build:web` into dist-web/ (served by `medseg serve`). Everything
// the page needs is bundled: it loads nothing from a CDN, so it works offline.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  build: {
    outDir: fileURLToPath(new URL('../dist-web', import.meta.url)),
    emptyOutDir: true,
    // Niivue is one large module; the warning says nothing useful here
    chunkSizeWarningLimit: 4000,
    rollupOptions: { input: { index: fileURLToPath(new URL('index.html', import.meta.url)) } },
  },
});
