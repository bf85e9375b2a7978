// Model packages: a package holds every weight bit for bit, GNU tar reads it (an independent check
// of the ustar writer), predict from the package gives the same label maps as predict from the
// folder, report accepts it, and a truncated, newer-format, incomplete or corrupt package is
// refused with one line saying what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  readFileSync,
  readdirSync,
  statSync,
  truncateSync,
  copyFileSync,
  writeFileSync,
} from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { tinyModel, tmp } from './fixtures.js';
import { packageModel, PACKAGE_FORMAT_VERSION } from '../../src/transfer/package.js';
import { openPackage, readManifest } from '../../src/transfer/open.js';
import { listTar, safeMemberName, tarHeader, writeTar } from '../../src/transfer/tar.js';
import { loadSafetensors } from '../../src/nn/index.js';
import { readImage } from '../../src/io/image.js';
import { command as predictCommand } from '../../src/cli/predict.js';
import { command as reportCommand } from '../../src/cli/report.js';

const bytesOf = (t: { toArray(): ArrayBufferView }) => {
  const a = t.toArray();
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
};

/** Writes a tar of in-memory members (name → text) with our writer. */
async function tarOf(file: string, members: [string, string][]): Promise<void> {
  const dir = tmp('members');
  const list = members.map(([name, text], i) => {
    const f = path.join(dir, String(i));
    writeFileSync(f, text);
    return { name, file: f };
  });
  const out = await fs.open(file, 'w');
  await writeTar(out, list);
  await out.close();
}

test('ustar headers: checksum, long names through the prefix field, unsafe names refused', async () => {
  const h = tarHeader('a/b.json', 1234);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  assert.equal(parseInt(h.subarray(148, 154).toString('ascii'), 8), sum);
  assert.equal(parseInt(h.subarray(124, 135).toString('ascii'), 8), 1234);
  for (const bad of ['../x', '/etc/passwd', 'a//b', 'a/./b', 'a\\b', ''])
    assert.equal(safeMemberName(bad), false, bad);
  const file = path.join(tmp('tar'), 'x.tar');
  const long = `${'d'.repeat(120)}/file.json`;
  await tarOf(file, [
    ['first.txt', 'one'],
    [long, 'two'],
  ]);
  assert.deepEqual(
    (await listTar(file)).map((m) => m.name),
    ['first.txt', long],
  );
  // GNU tar reads what we write
  assert.deepEqual(execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n'), [
    'first.txt',
    long,
  ]);
});

test('a package round trip: every weight bit for bit, predict from the package equals predict from the folder', async () => {
  const { ds, model } = await tinyModel('hippocampus');
  const out = path.join(tmp('pkg'), 'hippo.medseg');
  const m = await packageModel({ modelDir: model, output: out, dataset: ds });
  assert.equal(m.formatVersion, PACKAGE_FORMAT_VERSION);
  assert.equal(m.name, 'hippocampus_model');
  assert.deepEqual(m.configurations, { '3d_fullres': { folds: [0], checkpoint: 'latest' } });
  assert.equal(m.dataset.licence, 'generated data, no restrictions');
  assert.deepEqual(Object.keys(m.labels).sort(), ['Anterior', 'Posterior', 'background']);
  assert.equal(m.channelNames.length, 1);
  // GNU tar: manifest first, every member listed, plans.json byte-identical to the folder's
  const names = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(names[0], 'manifest.json');
  for (const want of ['plans.json', 'fingerprint.json', '3d_fullres/fold_0/checkpoint_latest.safetensors'])
    assert.ok(names.includes(want), want);
  assert.deepEqual(
    execFileSync('tar', ['-xOf', out, 'plans.json']),
    readFileSync(path.join(model, 'plans.json')),
  );

  const cache = tmp('cache');
  const { dir } = await openPackage(out, { cache });
  assert.equal(path.basename(dir), 'hippocampus_model');
  const a = await loadSafetensors(path.join(model, '3d_fullres/fold_0/checkpoint_latest.safetensors'));
  const b = await loadSafetensors(path.join(dir, '3d_fullres/fold_0/checkpoint_latest.safetensors'));
  let compared = 0;
  for (const [k, t] of a.tensors) {
    if (k.startsWith('optimizer.') || k.startsWith('rng.')) {
      assert.ok(!b.tensors.has(k), `${k} should not travel in a package`);
      continue;
    }
    assert.deepEqual(b.tensors.get(k)!.shape, t.shape, k);
    assert.ok(bytesOf(b.tensors.get(k)!).equals(bytesOf(t)), `${k} differs`);
    compared++;
  }
  assert.equal(compared, [...b.tensors.keys()].length);
  assert.ok(compared > 40);
  assert.equal(b.metadata.state, a.metadata.state);
  // a second open finds the unpacked folder as it was
  const before = statSync(path.join(dir, 'plans.json')).mtimeMs;
  assert.equal((await openPackage(out, { cache })).dir, dir);
  assert.equal(statSync(path.join(dir, 'plans.json')).mtimeMs, before);
  assert.deepEqual(
    readdirSync(path.join(cache, 'packages')).filter((f) => f.endsWith('.tmp')),
    [],
  );

  // predict through the CLI: from the folder and from the package, the same bytes
  const prev = process.env.MEDSEG_CACHE;
  process.env.MEDSEG_CACHE = cache;
  try {
    const images = path.join(ds, 'imagesTr');
    const fromFolder = tmp('pred-folder');
    const fromPackage = tmp('pred-package');
    const args = ['-i', images, '--threads', '1', '--save-probabilities'];
    assert.equal(await predictCommand.run([...args, '-o', fromFolder, '-m', model]), 0);
    assert.equal(await predictCommand.run([...args, '-o', fromPackage, '-m', out]), 0);
    const files = readdirSync(fromFolder).sort();
    assert.equal(files.filter((f) => f.endsWith('_probabilities.nii.gz')).length, 4);
    // the probabilities are a real network's output (not constant), so equal bytes mean equal weights
    const p = Array.from(
      (
        await readImage(
          path.join(
            fromFolder,
            files.find((f) => f.includes('_prob'))!,
          ),
        )
      ).data,
      Number,
    );
    assert.ok(Math.max(...p) - Math.min(...p) > 1e-3);
    assert.deepEqual(readdirSync(fromPackage).sort(), files);
    for (const f of files)
      assert.ok(readFileSync(path.join(fromFolder, f)).equals(readFileSync(path.join(fromPackage, f))), f);
    // report accepts the package and writes its page next to it
    assert.equal(await reportCommand.run([out]), 0);
    assert.ok(existsSync(out.replace(/\.medseg$/, '.report.html')));
  } finally {
    if (prev === undefined) delete process.env.MEDSEG_CACHE;
    else process.env.MEDSEG_CACHE = prev;
  }

  // with find-best's recipe: its configurations, folds and checkpoint are what travels
  writeFileSync(
    path.join(model, 'inference.json'),
    JSON.stringify({
      version: 1,
      configurations: ['3d_fullres'],
      folds: [0],
      checkpoint: 'latest',
      postprocessing: null,
      candidates: [],
      cases: 0,
    }),
  );
  const withRecipe = path.join(tmp('pkg'), 'recipe.medseg');
  const mr = await packageModel({ modelDir: model, output: withRecipe });
  assert.deepEqual(mr.configurations, { '3d_fullres': { folds: [0], checkpoint: 'latest' } });
  const listed = (await listTar(withRecipe)).map((x) => x.name);
  assert.ok(listed.includes('inference.json'));
  assert.ok(listed.includes('3d_fullres/fold_0/checkpoint_latest.safetensors'));
  assert.ok(!listed.includes('3d_fullres/fold_0/checkpoint_best.safetensors'));
  await assert.rejects(
    packageModel({ modelDir: model, output: withRecipe, folds: [3] }),
    /3d_fullres: no checkpoint_latest for fold\(s\) 3/,
  );

  // truncated anywhere: one line naming the file and the problem
  for (const keep of [100, 600, Math.floor(statSync(out).size / 2)]) {
    const cut = path.join(tmp('cut'), 'cut.medseg');
    copyFileSync(out, cut);
    truncateSync(cut, keep);
    await assert.rejects(readManifest(cut), (e: Error) => {
      assert.match(e.message, /^.*cut\.medseg: truncated/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  }
  // a flipped byte inside the weights: refused when unpacking, and nothing is left in the cache
  const bad = path.join(tmp('bad'), 'bad.medseg');
  const buf = readFileSync(out);
  const weights = (await listTar(out)).find((x) => x.name.endsWith('.safetensors'))!;
  buf[weights.offset + weights.size - 3]! ^= 0xff;
  writeFileSync(bad, buf);
  const badCache = tmp('badcache');
  await assert.rejects(
    openPackage(bad, { cache: badCache }),
    /bad\.medseg: member '3d_fullres\/fold_0\/checkpoint_latest\.safetensors' is corrupt/,
  );
  assert.deepEqual(readdirSync(path.join(badCache, 'packages')), []);
});

test('a newer format, a missing member, a file that is no package: one clear line each', async () => {
  const dir = tmp('fmt');
  const manifest = (over: object) =>
    JSON.stringify({
      format: 'medseg-package',
      formatVersion: 1,
      medsegVersion: '9.0.0',
      name: 'm',
      members: [],
      ...over,
    });
  const newer = path.join(dir, 'newer.medseg');
  await tarOf(newer, [
    ['manifest.json', manifest({ formatVersion: PACKAGE_FORMAT_VERSION + 1 })],
    ['plans.json', '{}'],
    ['fingerprint.json', '{}'],
  ]);
  await assert.rejects(
    readManifest(newer),
    new RegExp(
      `newer\\.medseg: package format ${PACKAGE_FORMAT_VERSION + 1} is newer than this medseg .*9\\.0\\.0.*update medseg$`,
    ),
  );
  const missing = path.join(dir, 'missing.medseg');
  await tarOf(missing, [
    [
      'manifest.json',
      manifest({
        members: [
          { name: 'plans.json', bytes: 2, sha256: '' },
          { name: 'a/w.safetensors', bytes: 8, sha256: '' },
        ],
      }),
    ],
    ['plans.json', '{}'],
  ]);
  await assert.rejects(
    readManifest(missing),
    /missing\.medseg: member 'a\/w\.safetensors' is missing \(incomplete package\)/,
  );
  const notFirst = path.join(dir, 'order.medseg');
  await tarOf(notFirst, [
    ['plans.json', '{}'],
    ['manifest.json', manifest({})],
  ]);
  await assert.rejects(readManifest(notFirst), /order\.medseg: not a medseg package/);
  const junk = path.join(dir, 'junk.medseg');
  writeFileSync(junk, Buffer.alloc(2048, 7));
  await assert.rejects(readManifest(junk), /junk\.medseg: corrupt: bad header checksum/);
});
