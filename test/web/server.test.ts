// medseg serve's server: it serves the model folder, the dataset folder and the page, and nothing
// else. Requests are sent raw (node:http does not normalise '..' the way fetch and browsers do), so
// every traversal form reaches the server as an attacker would send it.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { defaultAssetsDir, resolveInside, serveViewer, type RunningServer } from '../../src/web/index.js';
import { buildCatalog } from '../../src/web/catalog.js';

let tmp: string;
let server: RunningServer;

function get(urlPath: string, method = 'GET'): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: urlPath, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'medseg-serve-'));
  const model = path.join(tmp, 'model');
  const data = path.join(tmp, 'data');
  const assets = path.join(tmp, 'assets');
  mkdirSync(path.join(model, '3d_fullres', 'fold_0', 'validation'), { recursive: true });
  mkdirSync(path.join(data, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(data, 'labelsTr'), { recursive: true });
  mkdirSync(assets);
  writeFileSync(path.join(model, 'plans.json'), JSON.stringify({ labelValues: [0, 1, 2] }));
  writeFileSync(path.join(model, '3d_fullres', 'fold_0', 'validation', 'case_1.nii.gz'), 'PRED');
  writeFileSync(path.join(model, '3d_fullres', 'fold_0', 'validation', 'case_1_probabilities.nii.gz'), 'P');
  writeFileSync(
    path.join(model, '3d_fullres', 'fold_0', 'log.jsonl'),
    '{"epoch":0,"train_loss":1,"val_dice":[0.1,0.2],"val_mean_dice":0.15,"ema_dice":0.15,"lr":0.01,"seconds":2}\n{"epoch":1,"tr',
  );
  writeFileSync(path.join(data, 'imagesTr', 'case_1_0000.nii.gz'), 'IMG');
  writeFileSync(path.join(data, 'labelsTr', 'case_1.nii.gz'), 'REF');
  writeFileSync(
    path.join(data, 'dataset.json'),
    JSON.stringify({ labels: { background: 0, liver: 1, tumour: 2 } }),
  );
  writeFileSync(path.join(assets, 'index.html'), '<html>page</html>');
  writeFileSync(path.join(tmp, 'secret.txt'), 'SECRET');
  writeFileSync(path.join(tmp, 'model-evil.txt'), 'SECRET'); // shares the model folder's name prefix
  symlinkSync(path.join(tmp, 'secret.txt'), path.join(model, 'link.txt'));
  symlinkSync(tmp, path.join(model, 'linkdir'));
  symlinkSync(path.join(model, 'plans.json'), path.join(model, 'inside-link.json'));
  server = await serveViewer({ modelDir: model, dataDir: data, assetsDir: assets, port: 0 });
});

after(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('binds 127.0.0.1 by default', () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
});

test('serves the page, the model files and the dataset files', async () => {
  assert.deepEqual(await get('/'), {
    status: 200,
    body: '<html>page</html>',
    type: 'text/html; charset=utf-8',
  });
  assert.equal((await get('/files/model/3d_fullres/fold_0/validation/case_1.nii.gz')).body, 'PRED');
  assert.equal((await get('/files/data/imagesTr/case_1_0000.nii.gz')).body, 'IMG');
  assert.equal((await get('/files/model/plans.json?x=1')).status, 200);
  // a link that stays inside the folder is fine
  assert.equal((await get('/files/model/inside-link.json')).status, 200);
  assert.equal((await get('/files/model/nope.json')).status, 404);
  assert.equal((await get('/files/model/plans.json', 'POST')).status, 405);
});

test('path traversal in every form is refused and never returns the secret', async () => {
  const attempts = [
    '/files/model/../secret.txt',
    '/files/model/3d_fullres/../../secret.txt',
    '/files/model/%2e%2e/secret.txt',
    '/files/model/%2E%2E%2Fsecret.txt',
    '/files/model/..%2fsecret.txt',
    '/files/model/..%5csecret.txt',
    '/files/model/%2fetc%2fpasswd',
    '/files/model//etc/passwd',
    `/files/model/${encodeURIComponent(path.join(tmp, 'secret.txt'))}`,
    '/files/model/link.txt',
    '/files/model/linkdir/secret.txt',
    '/files/model/../model-evil.txt',
    '/files/model/%00plans.json',
    '/files/model/%E0%A4%A',
    '/files/data/../secret.txt',
    '/files/data/%2e%2e/secret.txt',
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/..%2f..%2fsecret.txt',
    '/files/secret.txt',
  ];
  for (const a of attempts) {
    const r = await get(a);
    assert.ok([400, 403, 404].includes(r.status), `${a}: status ${r.status}`);
    assert.ok(!r.body.includes('SECRET'), `${a}: leaked`);
  }
  assert.equal((await get('/files/model/../secret.txt')).status, 403);
  assert.equal((await get('/files/model/link.txt')).status, 403);
  assert.equal((await get('/files/model/linkdir/secret.txt')).status, 403);
});

test('resolveInside: plain names pass, escapes are named', () => {
  const model = path.join(tmp, 'model');
  const ok = resolveInside(model, 'plans.json');
  assert.ok(ok.ok);
  const up = resolveInside(model, '%2e%2e/secret.txt');
  assert.deepEqual(up, { ok: false, status: 403, reason: '".." in path' });
  const link = resolveInside(model, 'link.txt');
  assert.equal(link.ok, false);
});

test('the catalog lists the cases with their files as URLs, label names and the readable log rows', async () => {
  const r = await get('/api/catalog.json');
  assert.equal(r.status, 200);
  const cat = JSON.parse(r.body) as ReturnType<typeof buildCatalog>;
  assert.deepEqual(
    cat.labels.map((l) => [l.value, l.name]),
    [
      [1, 'liver'],
      [2, 'tumour'],
    ],
  );
  assert.equal(cat.cases.length, 1); // the probabilities file is not a case
  const c = cat.cases[0]!;
  assert.equal(c.id, 'case_1');
  assert.equal(c.image, '/files/data/imagesTr/case_1_0000.nii.gz');
  assert.equal(c.reference, '/files/data/labelsTr/case_1.nii.gz');
  assert.deepEqual(c.predictions, [
    { config: '3d_fullres', fold: 0, url: '/files/model/3d_fullres/fold_0/validation/case_1.nii.gz' },
  ]);
  // the half-written last line is skipped, the complete one kept
  assert.equal(cat.training.length, 1);
  assert.deepEqual(
    cat.training[0]!.log.map((e) => e.val_dice),
    [[0.1, 0.2]],
  );
  // the URLs the catalog gives are served
  for (const u of [c.image!, c.reference!, c.predictions[0]!.url]) assert.equal((await get(u)).status, 200);
});

test('a folder that is not a model is refused with its name', async () => {
  await assert.rejects(
    serveViewer({ modelDir: tmp, port: 0 }),
    /not a medseg model folder \(no plans\.json\)/,
  );
});

test('the catalog puts a cascade stage 1 beside stage 2', () => {
  const model = path.join(tmp, 'cascade');
  for (const c of ['3d_lowres', '3d_cascade_crop'])
    mkdirSync(path.join(model, c, 'fold_0', 'validation'), { recursive: true });
  writeFileSync(path.join(model, 'plans.json'), JSON.stringify({ labelValues: [0, 1] }));
  writeFileSync(path.join(model, '3d_lowres', 'fold_0', 'validation', 'c.nii.gz'), 'S1');
  writeFileSync(path.join(model, '3d_cascade_crop', 'fold_0', 'validation', 'c.nii.gz'), 'S2');
  const cat = buildCatalog(model);
  assert.deepEqual(cat.cascade, { stage1: '3d_lowres', stage2: '3d_cascade_crop' });
  assert.deepEqual(
    cat.cases[0]!.predictions.map((p) => p.config),
    ['3d_lowres', '3d_cascade_crop'],
  );
  assert.equal(cat.labels[0]!.name, 'label 1'); // no dataset.json: a generic name
});

test('medseg serve: a missing model folder, a bad port and a taken port get one clear message', async () => {
  const { medseg } = await import('../cli/run.js');
  const missing = medseg(['serve', path.join(tmp, 'nope')]);
  assert.equal(missing.status, 1, missing.stderr);
  assert.match(missing.stderr, /nope: not a medseg model folder \(no plans\.json\)/);
  const badPort = medseg(['serve', path.join(tmp, 'model'), '--port', '70000']);
  assert.notEqual(badPort.status, 0);
  assert.match(badPort.stderr, /--port/);
  // the built page is checked before the port: without it, that is the message
  const built = existsSync(path.join(defaultAssetsDir(), 'index.html'));
  const taken = medseg([
    'serve',
    path.join(tmp, 'model'),
    '--port',
    String(server.port),
    '--data',
    path.join(tmp, 'data'),
  ]);
  assert.notEqual(taken.status, 0);
  assert.match(
    taken.stderr,
    built
      ? new RegExp(`cannot listen on 127\\.0\\.0\\.1:${server.port}: EADDRINUSE`)
      : /the viewer page is not built \(run npm run build:web\)/,
  );
});
