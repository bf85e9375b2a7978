// Memory: scopes free every intermediate, and a long training loop holds a flat RSS profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { tidy, keep, zeros, randn, randint, manualSeed, Tensor } from '../../src/engine/index.js';
import { native } from '../../src/engine/native.js';
import { UNet, defaultPlainSpec, deepSupervisionLoss } from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';

test('tidy frees what it created, keeps what it returns and what was kept', () => {
  let inner: Tensor | undefined;
  let kept: Tensor | undefined;
  const out = tidy(() => {
    inner = zeros([10]).add(1);
    kept = keep(zeros([3]));
    return { a: inner.mul(2), list: [zeros([2])] };
  });
  assert.ok(inner!.isDisposed);
  assert.ok(!kept!.isDisposed);
  assert.ok(!out.a.isDisposed && !out.list[0]!.isDisposed);
  assert.equal(out.a.sum().item(), 20);
  // nested: a result of the inner scope belongs to the outer one
  let mid: Tensor | undefined;
  tidy(() => {
    mid = tidy(() => zeros([4]));
    assert.ok(!mid.isDisposed);
  });
  assert.ok(mid!.isDisposed);
  // an exception frees the scope too
  let leaked: Tensor | undefined;
  assert.throws(() =>
    tidy(() => {
      leaked = zeros([5]);
      throw new Error('boom');
    }),
  );
  assert.ok(leaked!.isDisposed);
  assert.throws(() => tidy(() => Promise.resolve(1)), /synchronous/);
});

test('300 training steps of a small U-Net hold a flat memory profile', () => {
  manualSeed(0);
  const net = new UNet({ ...defaultPlainSpec([24, 24, 24], 1, 3), features: [8, 16, 32] });
  const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
  const step = () =>
    tidy(() => {
      const x = randn([2, 1, 24, 24, 24]);
      const y = randint(0, 3, [2, 24, 24, 24]);
      const l = deepSupervisionLoss(net.forwardAll(x), y);
      opt.zeroGrad();
      l.backward();
      opt.step();
      return l.item();
    });
  for (let i = 0; i < 40; i++) step();
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 260; i++) step();
  const growthMb = (process.memoryUsage().rss - rss0) / 2 ** 20;
  // One step's activations are ~10 MB here; leaking even one of its larger tensors (0.9 MB) per
  // step would add ~230 MB, so 64 MB leaves room for the JS heap's own growth and nothing more.
  assert.ok(growthMb < 64, `RSS grew ${growthMb.toFixed(1)} MB over 260 steps`);
  net.dispose();
  opt.dispose();
});

/** The kernel's transparent-huge-page mode ("always", "madvise" or "never"), or null where unknown. */
function thpMode(): string | null {
  const f = '/sys/kernel/mm/transparent_hugepage/enabled';
  if (!existsSync(f)) return null;
  return /\[(\w+)\]/.exec(readFileSync(f, 'utf8'))?.[1] ?? null;
}

/** Anonymous memory of this process backed by huge pages, in bytes. */
function anonHugeBytes(): number {
  const kb = /AnonHugePages:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
  return kb ? Number(kb[1]) * 1024 : 0;
}

test('large tensors are backed by transparent huge pages where the kernel allows them', (t) => {
  const mode = thpMode();
  if (mode === null || mode === 'never' || !existsSync('/proc/self/smaps_rollup')) {
    t.skip(`transparent huge pages unavailable here (mode ${mode}); nothing to check`);
    return;
  }
  // Under "madvise" (Debian's default) only memory the allocator asked for gets huge pages: a
  // 64 MiB activation must then be mapped by them (one fault per 2 MiB instead of per 4 KiB).
  native().emptyCache(); // a cached block reused here would already count in `before`
  const before = anonHugeBytes();
  const big = zeros([16, 1024, 1024]).add_(1);
  const gained = anonHugeBytes() - before;
  assert.equal(big.sum().item(), 16 * 1024 * 1024, 'the data itself is intact');
  big.dispose();
  assert.ok(
    gained >= 32 * 2 ** 20,
    `only ${(gained / 2 ** 20).toFixed(1)} MiB of a 64 MiB tensor in huge pages (mode ${mode})`,
  );
});
