// Sliding-window inference against a PyTorch reference written here from nnU-Net's
// predict_sliding_window_return_logits: window starts (compute_steps_for_sliding_window, numpy's
// rounding), the Gaussian importance map, test-time mirroring over every axis combination, padding
// of axes shorter than the patch (pad_nd_image: half below, the rest above) and cropping back. The
// network is a fixed 3×3×3 convolution (1 → 3 channels, zero padding, asymmetric weights) written
// in both, so every window's output depends on where the window sits and which way it is mirrored.
//
// One documented difference: nnU-Net centres its Gaussian on voxel p // 2 (off-centre for an even
// patch); ours is centred on (p − 1) / 2, symmetric under the mirroring it is combined with. For odd
// patches the two are the same, and the test checks ours against nnU-Net's scipy construction there;
// the whole-pipeline reference uses the symmetric closed form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, tidy, F } from '../../src/engine/index.js';
import { gaussianImportance } from '../../src/infer/gaussian.js';
import { slidingWindowLogits, windowStarts } from '../../src/infer/slidingWindow.js';
import { assertClose, seededValues, ref } from '../helpers/numeric.js';
import { torchAvailable, torchRef } from '../helpers/torchRef.js';

const skip = torchAvailable() ? false : 'reference PyTorch (/usr/bin/python3 with torch) is not installed';

const NNUNET_STEPS = `
def steps(size, patch, step):
    # nnU-Net's compute_steps_for_sliding_window for one axis (the image is padded to >= patch first)
    if size <= patch:
        return [0]
    target = patch * step
    n = int(np.ceil((size - patch) / target)) + 1
    actual = (size - patch) / (n - 1) if n > 1 else 99999999999
    return [int(np.round(actual * i)) for i in range(n)]
`;

function f32(shape: number[], seed: number, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromArray(Float32Array.from(seededValues(n, seed, scale)), shape);
}

test(
  "window starts match nnU-Net's (numpy rounds halves to even) for sizes 1..80, patches 5..32",
  { skip },
  () => {
    const cases: [number, number][] = [];
    for (let patch = 5; patch <= 32; patch += 3)
      for (let size = 1; size <= 80; size++) cases.push([size, patch]);
    const r = torchRef(
      `${NNUNET_STEPS}
cases = ${JSON.stringify(cases)}
flat = []
for size, patch in cases:
    s = steps(size, patch, 0.5)
    flat += [len(s)] + s
out['flat'] = torch.tensor(flat, dtype=torch.float64)
`,
      {},
    );
    const ours = cases.flatMap(([size, patch]) => {
      const s = windowStarts(size, patch, 0.5);
      return [s.length, ...s];
    });
    assert.deepEqual(ours, Array.from(r.flat!.data));
    // the case that told the roundings apart: 29 voxels, patch 16 → steps of 6.5
    assert.deepEqual(windowStarts(29, 16, 0.5), [0, 6, 13]);
  },
);

test(
  "the Gaussian importance map equals nnU-Net's compute_gaussian (scipy) for odd patches",
  { skip },
  () => {
    const patches = [
      [15, 13, 17],
      [9, 21],
      [31, 5, 7],
    ];
    const r = torchRef(
      `
from scipy.ndimage import gaussian_filter
for k, patch in enumerate(${JSON.stringify(patches)}):
    tmp = np.zeros(patch)
    tmp[tuple(i // 2 for i in patch)] = 1
    m = gaussian_filter(tmp, [i / 8 for i in patch], 0, mode='constant', cval=0)
    m = m / m.max()
    m[m == 0] = m[m != 0].min()
    out['g%d' % k] = torch.from_numpy(m)
`,
      {},
    );
    patches.forEach((patch, k) => {
      const g = gaussianImportance(patch);
      assertClose(g, r[`g${k}`]!.data, { rtol: 1e-5, atol: 1e-12, what: `Gaussian ${patch.join('×')}` });
      g.dispose();
    });
  },
);

test('for an even patch the map is the closed form centred at (p − 1) / 2, and mirror-symmetric', () => {
  tidy(() => {
    const patch = [16, 12, 10];
    const g = gaussianImportance(patch).to('float64').toArray() as Float64Array;
    let k = 0;
    for (let z = 0; z < 16; z++)
      for (let y = 0; y < 12; y++)
        for (let x = 0; x < 10; x++) {
          const e = [z, y, x].reduce((acc, c, d) => {
            const s = patch[d]! / 8;
            const off = c - (patch[d]! - 1) / 2;
            return acc * Math.exp(-(off * off) / (2 * s * s));
          }, 1);
          const max = [16, 12, 10].reduce((acc, p) => {
            const s = p / 8;
            return acc * Math.exp(-0.25 / (2 * s * s));
          }, 1);
          assertClose([g[k++]!], [e / max], { rtol: 1e-6, atol: 1e-30, what: `g[${z},${y},${x}]` });
        }
    const t = Tensor.fromArray(g, patch, 'float64');
    assertClose(t.flip(0, 1, 2), t, { rtol: 0, atol: 1e-300, what: 'flipped map' });
  });
});

for (const [shape, mirror] of [
  [
    [37, 29, 41],
    [0, 1, 2],
  ],
  [
    [37, 11, 41],
    [0, 2],
  ], // y shorter than the patch: padded 2 below, 3 above, cropped back
  [[9, 29, 16], []],
] as [number[], number[]][]) {
  test(
    `sliding window on ${shape.join('×')} (patch 16³, mirroring ${mirror.length ? mirror.join(',') : 'off'}) equals nnU-Net's procedure`,
    { skip },
    () => {
      tidy(() => {
        const image = f32([1, ...shape], 41);
        const w = f32([3, 1, 3, 3, 3], 42, 0.5);
        const b = f32([3], 43, 0.1);
        const net = { forward: (x: Tensor) => F.conv(x, w, b, { padding: 1 }) };
        const ours = slidingWindowLogits(net, image, {
          patch: [16, 16, 16],
          numClasses: 3,
          mirrorAxes: mirror,
          batch: 3,
        });
        assert.deepEqual(ours.shape, [3, ...shape]);
        const r = torchRef(
          `${NNUNET_STEPS}
import itertools
img, w, b = T['img'].float(), T['w'].float(), T['b'].float()
net = lambda x: F.conv3d(x, w, b, padding=1)
patch = [16, 16, 16]
mirror = ${JSON.stringify(mirror)}
shape = list(img.shape[1:])
# pad_nd_image: difference // 2 below, the rest above (F.pad lists the last axis first)
diff = [max(0, p - s) for p, s in zip(patch, shape)]
cfg = []
for ax in reversed(range(3)):
    cfg += [diff[ax] // 2, diff[ax] - diff[ax] // 2]
x = F.pad(img, cfg)
# Gaussian: sigma = p / 8, centred at (p - 1) / 2 (see the header), max 1, zeros raised to the min
g = torch.ones(patch, dtype=torch.float64)
for ax, p in enumerate(patch):
    c = torch.arange(p, dtype=torch.float64) - (p - 1) / 2
    v = torch.exp(-c ** 2 / (2 * (p / 8) ** 2))
    g = g * v.reshape([p if i == ax else 1 for i in range(3)])
g = (g / g.max()).float()
g[g == 0] = g[g != 0].min()
combos = [c for i in range(len(mirror)) for c in itertools.combinations([m + 2 for m in mirror], i + 1)]
pred = torch.zeros([3] + list(x.shape[1:]))
count = torch.zeros(list(x.shape[1:]))
for sz in steps(x.shape[1], 16, 0.5):
    for sy in steps(x.shape[2], 16, 0.5):
        for sx in steps(x.shape[3], 16, 0.5):
            win = x[None, :, sz:sz + 16, sy:sy + 16, sx:sx + 16]
            p = net(win)
            for axes in combos:
                p = p + torch.flip(net(torch.flip(win, axes)), axes)
            p = p / (len(combos) + 1)
            pred[:, sz:sz + 16, sy:sy + 16, sx:sx + 16] += p[0] * g
            count[sz:sz + 16, sy:sy + 16, sx:sx + 16] += g
pred = pred / count
lo = [e // 2 for e in diff]
out['logits'] = pred[:, lo[0]:lo[0] + shape[0], lo[1]:lo[1] + shape[1], lo[2]:lo[2] + shape[2]]
`,
          { img: ref(image), w: ref(w), b: ref(b) },
        );
        assert.deepEqual(r.logits!.shape, [3, ...shape]);
        assertClose(ours, r.logits!.data, { rtol: 1e-4, atol: 1e-5, what: 'logits' });
      });
    },
  );
}
