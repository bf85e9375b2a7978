// The addon never aborts the process. A child process (this file, run again with ABUSE_CHILD set)
// calls every function the addon exports, every op behind call() and every TensorHandle method
// with missing arguments, wrong kinds of values, NaN, ±Infinity, 1e20, -1 and disposed, empty and
// fake tensor handles. The lists come from the loaded addon itself (Object.keys, opNames(), the
// prototype), so a new export is covered without touching this test. Each call must return or
// throw a JavaScript Error naming the function; the child must live to print its summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { native, type NativeAddon, type NativeHandle } from '../../src/engine/native.js';

const ABUSE_CHILD = 'MEDSEG_ADDON_ABUSE_CHILD';
const SUMMARY = 'ADDON-ABUSE-SUMMARY ';
const here = path.dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);

interface Summary {
  calls: number;
  returned: number;
  threw: number;
  functions: string[];
  ops: string[];
  methods: string[];
  failures: string[];
  /** the calls that aborted the process before the addon was guarded, and what they say now */
  named: Record<string, { name: string; message: string; op?: string }>;
}

type Handle = NativeHandle;
type HandleCtor = new (...args: unknown[]) => Handle;

function runChild(): void {
  const addon = native();
  const exports = addon as unknown as Record<string, unknown>;
  const Ctor = addon.TensorHandle as unknown as HandleCtor;
  const live = (): Handle => addon.fromArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3], 'float32');
  const disposed = (): Handle => {
    const h = live();
    h.dispose();
    return h;
  };
  const bad: Array<[string, () => unknown]> = [
    ['string', () => 'abc'],
    ['object', () => ({})],
    ['null', () => null],
    ['undefined', () => undefined],
    ['NaN', () => NaN],
    ['Infinity', () => Infinity],
    ['-Infinity', () => -Infinity],
    ['1e20', () => 1e20],
    ['-1', () => -1],
    ['0.5', () => 0.5],
    ['disposed tensor', disposed],
    ['empty handle', () => new Ctor()],
    ['fake handle', () => Object.create(Ctor.prototype) as unknown],
    ['[NaN]', () => [NaN]],
    ['[1e20]', () => [1e20]],
    ['[disposed]', () => [disposed()]],
    ['sparse array', () => new Array(2 ** 32 - 1)],
    ['symbol', () => Symbol('s')],
    ['bigint', () => 10n],
    [
      'throwing proxy',
      () =>
        new Proxy([], {
          get: () => {
            throw new Error('trap');
          },
        }),
    ],
  ];
  // plausible arguments around the bad one, so that a bad value reaches the later readers of an op
  const bases: Array<() => unknown[]> = [
    () => Array.from({ length: 8 }, live),
    () => [live(), [1], [1], [1], 'float32', 'cpu', true, 1],
  ];
  const sweep = bad.filter(([b]) =>
    ['string', 'null', 'NaN', 'Infinity', '1e20', '-1', '0.5', 'disposed tensor', '[NaN]'].includes(b),
  );

  let calls = 0;
  let returned = 0;
  let threw = 0;
  const failures: string[] = [];
  const release = (r: unknown): void => {
    if (r instanceof Ctor) r.dispose();
    else if (Array.isArray(r)) r.forEach(release);
  };
  /** One call; `name` is what the error must name (null: any Error will do). */
  const attempt = (label: string, name: string | null, fn: () => unknown): void => {
    calls++;
    try {
      release(fn());
      returned++;
    } catch (e) {
      threw++;
      if (!(e instanceof Error)) failures.push(`${label}: threw a non-Error ${typeof e}`);
      else if (name !== null) {
        const op = (e as Error & { op?: unknown }).op;
        if (op !== name || !e.message.startsWith(`${name}(`))
          failures.push(`${label}: error does not name ${name}: ${e.message} (op ${String(op)})`);
      }
    }
  };

  // the module's functions (call() gets its own loop over the ops below)
  const functions = Object.keys(exports).filter((k) => typeof exports[k] === 'function');
  for (const name of functions) {
    const f = exports[name] as (...a: unknown[]) => unknown;
    if (name === 'TensorHandle') {
      attempt('TensorHandle()', null, () => f());
      for (const [b, v] of bad) attempt(`new TensorHandle(${b})`, null, () => new Ctor(v()));
      continue;
    }
    const expected = name === 'call' ? null : name;
    attempt(`${name}()`, expected, () => f());
    for (const [b, v] of bad) {
      attempt(`${name}(${b})`, expected, () => f(v()));
      attempt(`${name}(${b} x4)`, expected, () => f(v(), v(), v(), v()));
      attempt(`${name}(live, ${b})`, expected, () => f(live(), v()));
    }
    addon.stopProfile(); // a string argument may have started one
  }

  const ops = [...addon.opNames(), 'no_such_op'];
  for (const op of ops) {
    attempt(`call(${op})`, op, () => addon.call(op));
    for (const [b, v] of bad) {
      attempt(`call(${op}, ${b})`, op, () => addon.call(op, v()));
      attempt(`call(${op}, live, ${b} x7)`, op, () =>
        addon.call(op, live(), ...Array.from({ length: 7 }, v)),
      );
    }
    for (const [b, v] of sweep) {
      for (const [k, base] of bases.entries()) {
        for (let slot = 1; slot < 8; slot++) {
          attempt(`call(${op}) base ${k}, ${b} at ${slot}`, op, () => {
            const args = base();
            args[slot] = v();
            return addon.call(op, ...args);
          });
        }
      }
    }
  }
  for (const [b, v] of bad) {
    const first = v(); // a string is taken as an op name, anything else is refused by call itself
    attempt(`call(${b})`, typeof first === 'string' ? first : 'call', () => addon.call(first as string));
  }

  // the handle's methods, on every kind of `this`
  const methods = Object.getOwnPropertyNames(Ctor.prototype).filter((m) => m !== 'constructor');
  const selves: Array<[string, () => unknown]> = [
    ['live', live],
    ['disposed', disposed],
    ['empty', () => new Ctor()],
    ['fake', () => Object.create(Ctor.prototype) as unknown],
    ['undefined', () => undefined],
    ['object', () => ({})],
    ['number', () => 5],
  ];
  for (const m of methods) {
    const f = (Ctor.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[m]!;
    for (const [s, self] of selves) {
      attempt(`${s}.${m}()`, m, () => f.call(self()));
      for (const [b, v] of bad) attempt(`${s}.${m}(${b})`, m, () => f.call(self(), v()));
    }
  }

  // the calls that ended the process with std::terminate before every export was guarded
  const named: Summary['named'] = {};
  const record = (label: string, fn: () => unknown): void => {
    try {
      release(fn());
      named[label] = { name: 'returned', message: '' };
    } catch (e) {
      const err = e as Error & { op?: string };
      named[label] = { name: err.name, message: err.message, op: err.op };
    }
  };
  record('setThreads(0)', () => addon.setThreads(0));
  record('setRngState(disposed)', () => addon.setRngState(disposed()));
  record('startProfile(123)', () => addon.startProfile(123 as unknown as string));
  record('manualSeed(1e20)', () => addon.manualSeed(1e20));

  const summary: Summary = { calls, returned, threw, functions, ops, methods, failures, named };
  process.stdout.write(`${SUMMARY}${JSON.stringify(summary)}\n`);
  process.exit(0);
}

function runAbuseChild(): {
  status: number | null;
  signal: string | null;
  summary?: Summary;
  stderr: string;
} {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'medseg-abuse-')); // startProfile('abc') writes here
  try {
    const r = spawnSync(process.execPath, [self], {
      cwd,
      env: { ...process.env, [ABUSE_CHILD]: '1' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 300_000,
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith(SUMMARY));
    const summary = line ? (JSON.parse(line.slice(SUMMARY.length)) as Summary) : undefined;
    return { status: r.status, signal: r.signal, summary, stderr: r.stderr };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

if (process.env[ABUSE_CHILD]) {
  runChild();
} else {
  let child: ReturnType<typeof runAbuseChild> | undefined;
  const abuse = (): ReturnType<typeof runAbuseChild> => (child ??= runAbuseChild());

  test('every export, op and method survives bad arguments with a JS error naming it', () => {
    const r = abuse();
    assert.equal(r.signal, null, `the child was killed by ${r.signal}: ${r.stderr.slice(-2000)}`);
    assert.equal(r.status, 0, `the child exited ${r.status}: ${r.stderr.slice(-2000)}`);
    assert.ok(r.summary, `no summary printed: ${r.stderr.slice(-2000)}`);
    const s = r.summary;
    assert.deepEqual(s.failures.slice(0, 20), [], `${s.failures.length} bad outcomes`);
    // everything the addon offers was called: its exports, its ops and the handle's methods
    const addon = native();
    const exported = Object.keys(addon).filter(
      (k) => typeof (addon as unknown as Record<string, unknown>)[k] === 'function',
    );
    assert.deepEqual([...s.functions].sort(), exported.sort());
    for (const op of addon.opNames()) assert.ok(s.ops.includes(op), `op ${op} not called`);
    const methods = Object.getOwnPropertyNames(addon.TensorHandle.prototype).filter(
      (m) => m !== 'constructor',
    );
    assert.deepEqual([...s.methods].sort(), methods.sort());
    assert.ok(methods.includes('item') && exported.includes('setRngState') && s.ops.length > 150);
    assert.equal(s.calls, s.returned + s.threw);
    assert.ok(s.calls > 20000 && s.threw > s.calls / 2, `${s.threw} of ${s.calls} calls threw`);
  });

  test('the calls that used to abort now throw errors that say what was wrong', () => {
    const n = abuse().summary?.named;
    assert.ok(n, 'no summary');
    assert.equal(n['setThreads(0)']!.name, 'RangeError');
    assert.match(
      n['setThreads(0)']!.message,
      /^setThreads\(0\): argument 0 must be an integer from 1 to 1024, got 0$/,
    );
    assert.equal(n['setRngState(disposed)']!.op, 'setRngState');
    assert.match(
      n['setRngState(disposed)']!.message,
      /^setRngState\(disposed\): argument 0 is a disposed tensor$/,
    );
    assert.equal(n['startProfile(123)']!.name, 'TypeError');
    assert.match(n['startProfile(123)']!.message, /^startProfile\(123\): argument 0 must be a string$/);
    assert.equal(n['manualSeed(1e20)']!.name, 'RangeError');
    assert.match(n['manualSeed(1e20)']!.message, /^manualSeed\(100000000000000000000\): .*at most 2\^53-1/);
  });
}

// Checks that need no child: the readers still take every value they should, and refuse the rest.
const addon = (): NativeAddon => native();
const f32 = (values: number[], shape: number[]): NativeHandle =>
  addon().fromArray(new Float32Array(values), shape, 'float32');

if (!process.env[ABUSE_CHILD]) {
  test('integer readers take safe integers and refuse NaN, fractions and numbers beyond 2^53', () => {
    const t = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.deepEqual((addon().call('unsqueeze', t, -1) as NativeHandle).shape(), [2, 3, 1]);
    assert.deepEqual((addon().call('reshape', t, [3, -1]) as NativeHandle).shape(), [3, 2]);
    for (const [v, got] of [
      [NaN, 'NaN'],
      [0.5, '0.5'],
      [Infinity, 'Infinity'],
      [2 ** 53, '9007199254740992'],
      [-1e20, '-100000000000000000000'],
    ] as const) {
      assert.throws(
        () => addon().call('unsqueeze', t, v),
        (e: Error & { op?: string }) =>
          e instanceof RangeError && e.op === 'unsqueeze' && e.message.endsWith(`got ${got}`),
      );
      assert.throws(() => addon().call('reshape', t, [v]), new RegExp(`got ${got} at index 0`));
    }
    assert.throws(
      () => addon().call('unsqueeze', t),
      (e: Error) => e instanceof TypeError && /is missing/.test(e.message),
    );
    assert.throws(() => addon().call('unsqueeze', t, '1'), /argument 1 must be an integer/);
    // seeds: any safe integer (negative ones wrap as in PyTorch), the same stream for the same seed
    const draw = (seed: number): number[] => {
      addon().manualSeed(seed);
      return [...((addon().call('rand', [4]) as NativeHandle).toArray() as Float32Array)];
    };
    assert.deepEqual(draw(-1), draw(-1));
    assert.deepEqual(draw(2 ** 53 - 1), draw(2 ** 53 - 1));
    assert.notDeepEqual(draw(1), draw(2));
    addon().setThreads(1);
    assert.equal(addon().info().threads, 1);
    assert.throws(() => addon().setThreads(1025), RangeError);
    assert.throws(() => addon().setCacheLimit(-1), RangeError);
    assert.throws(() => addon().setCacheLimit(Infinity), RangeError);
  });

  test('NaN and ±Infinity stay legal where they are values (fills, pads, scalar operands)', () => {
    const t = f32([1, 2, 3, 4], [4]);
    const values = (h: unknown): number[] => [...((h as NativeHandle).toArray() as Float32Array)];
    assert.ok(values(addon().call('full', [2], NaN)).every(Number.isNaN));
    const mask = addon().call('gt', t, 2) as NativeHandle;
    assert.deepEqual(values(addon().call('masked_fill', t, mask, -Infinity)), [1, 2, -Infinity, -Infinity]);
    const row = addon().call('reshape', t, [1, 1, 4]);
    assert.deepEqual(values(addon().call('pad', row, [1, 1], 'constant', -Infinity)), [
      -Infinity,
      1,
      2,
      3,
      4,
      -Infinity,
    ]);
    assert.deepEqual(values(addon().call('clamp', t, -Infinity, 2.5)), [1, 2, 2.5, 2.5]);
    // an integral operand keeps an integer tensor integral, also at the edge of the safe range
    const big = addon().fromArray(new BigInt64Array([1n]), [1], 'int64');
    const sum = addon().call('add', big, 2 ** 53 - 2) as NativeHandle;
    assert.equal(sum.dtype(), 'int64');
    assert.deepEqual([...(sum.toArray() as BigInt64Array)], [2n ** 53n - 1n]);
  });

  test('tensor arguments: disposed, empty and fake handles, mismatched gradients, unwritable profiles', () => {
    const Ctor = addon().TensorHandle as unknown as HandleCtor;
    const t = f32([1, 2], [2]);
    const gone = f32([1, 2], [2]);
    gone.dispose();
    assert.throws(
      () => addon().call('neg', gone),
      /^Error: neg\(disposed\): argument 0 is a disposed tensor$/,
    );
    assert.throws(
      () => addon().call('neg', new Ctor()),
      /neg\(empty handle\): argument 0 is an empty tensor handle/,
    );
    assert.throws(
      () => addon().call('neg', Object.create(Ctor.prototype)),
      /neg\(object\): argument 0 must be a tensor/,
    );
    assert.throws(() => addon().call('cat', [t, gone], 0), /argument 0 holds a disposed tensor/);
    assert.throws(() => gone.shape(), /^Error: shape\(disposed\): tensor used after dispose\(\)$/);
    assert.throws(
      () => Ctor.prototype.item.call({}),
      /item\(object\): called on something that is not a tensor handle/,
    );
    assert.throws(() => f32([1, 2], [2]).item(), /item\(float32\[2\]\): needs exactly one element/);
    // .grad must match its tensor, as PyTorch's setter demands
    assert.throws(() => addon().call('set_grad', t, f32([1, 2, 3], [3])), /shape, dtype and device/);
    addon().call('set_grad', t, f32([5, 6], [2]));
    assert.deepEqual([...((addon().call('grad', t) as NativeHandle).toArray() as Float32Array)], [5, 6]);
    assert.throws(() => addon().call('zeros', [2], 'float32', 'meta'), /unknown device 'meta'/);
    assert.throws(() => addon().startProfile('/nonexistent-medseg-dir/trace.json'), /cannot write/);
    // fromArray checks the size before allocating: a malformed shape maps nothing
    const one = new Float32Array(1);
    assert.throws(
      () => addon().fromArray(one, [2 ** 30, 4], 'float32'),
      /4 bytes given, .* needs 17179869184$/,
    );
    assert.throws(() => addon().fromArray(one, [2 ** 40, 2 ** 40], 'float32'), /needs more than 2\^64$/);
    assert.throws(() => addon().fromArray(one, [-1], 'float32'), /must not hold negative sizes/);
    assert.deepEqual(addon().fromArray(new Float32Array(0), [3, 0], 'float32').shape(), [3, 0]);
  });

  test('medseg train --seed 1e20 ends with an error naming the seed, not an abort', async () => {
    const { writeSynthDataset, findTask } = await import('../../src/synth/index.js');
    const root = mkdtempSync(path.join(os.tmpdir(), 'medseg-seed-'));
    try {
      const ds = await writeSynthDataset(findTask('hippocampus'), root, { seed: 1, size: 'tiny', cases: 2 });
      const bin = path.resolve(here, '../../../bin/medseg');
      const r = spawnSync(
        process.execPath,
        [
          bin,
          'train',
          ds.dir,
          '--model',
          path.join(root, 'model'),
          '--seed',
          '1e20',
          '--epochs',
          '1',
          '--iters-per-epoch',
          '1',
          '--threads',
          '1',
          '--memory-gb',
          '1',
          '--no-validation',
        ],
        { encoding: 'utf8', timeout: 300_000 },
      );
      assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr.slice(-2000)}`);
      assert.doesNotMatch(r.stderr, /terminate called/);
      assert.ok(r.status === 1 || r.status === 2, `exit ${r.status}: ${r.stderr.slice(-2000)}`);
      assert.match(
        r.stderr,
        /^medseg train: .*seed.*1e20|^medseg train: .*[sS]eed\(100000000000000000000\)/m,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}
