// `medseg serve`: a small node:http server for the viewer page. It answers three kinds of path:
//   /api/catalog.json          the model's cases, labels, training logs and evaluations (catalog.ts)
//   /files/model/<path>        files under the model folder
//   /files/data/<path>         files under the dataset folder, when one is given
//   anything else              the built page (dist-web/), index.html for '/'
// and nothing else: every path is resolved inside its folder by resolveInside (no '..', no absolute
// paths, no symbolic links leading out). It binds 127.0.0.1 unless told otherwise, and the page loads
// no script or style from elsewhere (Vite bundles Niivue), so it works offline.
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCatalog } from './catalog.js';
import { resolveInside } from './safePath.js';

export interface ServeOptions {
  /** The model (or training run) folder. */
  modelDir: string;
  /** The dataset folder (imagesTr/, labelsTr/, dataset.json) whose images and references to show. */
  dataDir?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8765; 0 picks a free port. */
  port?: number;
  /** The built page (default: dist-web/ of the package). */
  assetsDir?: string;
  log?: (s: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** dist-web/ beside the package root (dist/src/web/server.js → ../../../dist-web). */
export const defaultAssetsDir = () =>
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist-web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.gz': 'application/octet-stream',
  '.nii': 'application/octet-stream',
};

/**
 * Every response makes the pages cross-origin isolated (they load nothing from elsewhere anyway), so
 * that the segmentation page's onnxruntime-web may use SharedArrayBuffer and run on several threads.
 */
const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

function send(res: http.ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...ISOLATION });
  res.end(body);
}

function sendFile(res: http.ServerResponse, root: string, rel: string, head: boolean) {
  const r = resolveInside(root, rel);
  if (!r.ok) return send(res, r.status, `${r.status}: ${r.reason}\n`);
  if (!statSync(r.file).isFile()) return send(res, 404, '404: not a file\n');
  res.writeHead(200, {
    'content-type': TYPES[path.extname(r.file)] ?? 'application/octet-stream',
    'content-length': statSync(r.file).size,
    'cache-control': 'no-store',
    ...ISOLATION,
  });
  if (head) return res.end();
  createReadStream(r.file).pipe(res);
}

/** The request handler (exported for tests that drive it without a socket). */
export function viewerHandler(o: ServeOptions) {
  const assets = o.assetsDir ?? defaultAssetsDir();
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, '405: GET only\n');
    const head = req.method === 'HEAD';
    // the raw path, still percent-encoded: decoded once, inside resolveInside
    const raw = (req.url ?? '/').split(/[?#]/)[0]!;
    if (!raw.startsWith('/')) return send(res, 400, '400: bad request path\n');
    try {
      if (raw === '/api/catalog.json')
        return send(res, 200, JSON.stringify(buildCatalog(o.modelDir, o.dataDir)), TYPES['.json']);
      if (raw.startsWith('/files/model/')) return sendFile(res, o.modelDir, raw.slice(13), head);
      if (raw.startsWith('/files/data/')) {
        if (!o.dataDir) return send(res, 404, '404: no dataset folder given (medseg serve --data DIR)\n');
        return sendFile(res, o.dataDir, raw.slice(12), head);
      }
      if (raw.startsWith('/files/') || raw.startsWith('/api/')) return send(res, 404, '404: not found\n');
      return sendFile(res, assets, raw === '/' ? 'index.html' : raw.slice(1), head);
    } catch (e) {
      return send(res, 500, `500: ${(e as Error).message}\n`);
    }
  };
}

/** Starts the viewer server; resolves once it listens. */
export async function serveViewer(o: ServeOptions): Promise<RunningServer> {
  if (!existsSync(path.join(o.modelDir, 'plans.json')))
    throw new Error(`${o.modelDir}: not a medseg model folder (no plans.json)`);
  if (o.dataDir !== undefined && !existsSync(o.dataDir))
    throw new Error(`--data ${o.dataDir}: no such folder`);
  const assets = o.assetsDir ?? defaultAssetsDir();
  if (!existsSync(path.join(assets, 'index.html')))
    throw new Error(`${assets}: the viewer page is not built (run npm run build:web)`);
  const server = http.createServer(viewerHandler({ ...o, assetsDir: assets }));
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(`cannot listen on ${host}:${o.port ?? 8765}: ${e.code ?? e.message}`)),
    );
    server.listen(o.port ?? 8765, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  o.log?.(`medseg serve: ${url} (model ${o.modelDir}${o.dataDir ? `, data ${o.dataDir}` : ''})`);
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
