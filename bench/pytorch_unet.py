"""PyTorch reference for `medseg bench`: the same network (nnU-Net's 3d_fullres PlainConvUNet defaults),
loss and optimizer, with the same parameter names, so both run on one machine in one session.

  /usr/bin/python3 bench/pytorch_unet.py train-step --patch 64,64,64 --batch 2 [--bf16] [--steps 5] [--threads 2]
  /usr/bin/python3 bench/pytorch_unet.py sliding-window --shape 1,128,128,128 --patch 64,64,64 [--bf16]
  /usr/bin/python3 bench/pytorch_unet.py load-check FILE.safetensors   (loads a medseg checkpoint, prints a forward checksum)
  python3 bench/pytorch_unet.py train-step --device cuda --amp fp16|bf16 ...   (GPU: autocast, GradScaler for fp16, cudnn.benchmark)

Prints JSON as the last line, with the same keys as medseg's bench.
"""
import argparse, json, resource, statistics, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvNormAct(nn.Module):
    def __init__(self, cin, cout, k, stride, nonlin=True):
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, k, stride, padding=[(x - 1) // 2 for x in k], bias=True)
        self.norm = nn.InstanceNorm3d(cout, eps=1e-5, affine=True)
        self.nonlin = nn.LeakyReLU(0.01, inplace=True) if nonlin else nn.Identity()

    def forward(self, x):
        return self.nonlin(self.norm(self.conv(x)))


class StackedConvBlocks(nn.Module):
    def __init__(self, n, cin, cout, k, stride):
        super().__init__()
        self.convs = nn.Sequential(*[ConvNormAct(cin if i == 0 else cout, cout, k, stride if i == 0 else [1] * len(k)) for i in range(n)])

    def forward(self, x):
        return self.convs(x)


class Encoder(nn.Module):
    def __init__(self, cin, features, kernels, strides):
        super().__init__()
        stages = []
        for i, f in enumerate(features):
            stages.append(nn.Sequential(StackedConvBlocks(2, cin, f, kernels[i], strides[i])))
            cin = f
        self.stages = nn.ModuleList(stages)

    def forward(self, x):
        skips = []
        for s in self.stages:
            x = s(x)
            skips.append(x)
        return skips


class Decoder(nn.Module):
    def __init__(self, features, kernels, strides, classes):
        super().__init__()
        n = len(features)
        self.stages = nn.ModuleList()
        self.transpconvs = nn.ModuleList()
        self.seg_layers = nn.ModuleList()
        for d in range(n - 1):
            below, skip, st = features[n - 1 - d], features[n - 2 - d], strides[n - 1 - d]
            self.transpconvs.append(nn.ConvTranspose3d(below, skip, st, st, bias=True))
            self.stages.append(StackedConvBlocks(2, 2 * skip, skip, kernels[n - 2 - d], [1, 1, 1]))
            self.seg_layers.append(nn.Conv3d(skip, classes, 1, 1, 0, bias=True))

    def forward(self, skips):
        low = skips[-1]
        outs = []
        for d in range(len(self.stages)):
            x = self.transpconvs[d](low)
            x = self.stages[d](torch.cat((x, skips[-(d + 2)]), 1))
            outs.append(self.seg_layers[d](x))
            low = x
        return outs[::-1]


class PlainConvUNet(nn.Module):
    def __init__(self, patch, cin, classes):
        super().__init__()
        halvings, p = 0, list(patch)
        while halvings + 1 < 6 and all(v >= 8 for v in p):
            p = [v / 2 for v in p]
            halvings += 1
        n = halvings + 1
        features = [min(32 * 2 ** i, 320) for i in range(n)]
        kernels = [[3, 3, 3]] * n
        strides = [[1, 1, 1]] + [[2, 2, 2]] * (n - 1)
        self.encoder = Encoder(cin, features, kernels, strides)
        self.decoder = Decoder(features, kernels, strides, classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv3d, nn.ConvTranspose3d)):
                nn.init.kaiming_normal_(m.weight, a=1e-2)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.decoder(self.encoder(x))


def dice_ce(logits, target, smooth=1e-5):
    logits = logits.float()
    ce = F.cross_entropy(logits, target)
    p = torch.softmax(logits, 1)
    oh = F.one_hot(target, logits.shape[1]).movedim(-1, 1).float()
    axes = list(range(2, logits.ndim))
    inter = (p * oh).sum(axes)
    dc = (2 * inter + smooth) / (p.sum(axes) + oh.sum(axes) + smooth).clamp_min(1e-8)
    return ce + 1 - dc[:, 1:].mean()


def ds_loss(outs, y):
    n = len(outs)
    w = [1 / 2 ** i for i in range(n)]
    w[-1] = 0
    s = sum(w)
    total = 0
    for i, o in enumerate(outs):
        if w[i] == 0:
            continue
        t = y if o.shape[2:] == y.shape[1:] else F.interpolate(y[:, None].float(), o.shape[2:], mode='nearest')[:, 0].long()
        total = total + w[i] / s * dice_ce(o, t)
    return total


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def amp_dtype(a):
    amp = a.amp or ('bf16' if a.bf16 else None)
    return {'fp16': torch.float16, 'bf16': torch.bfloat16, None: None}[amp]


def sync(a):
    if a.device.startswith('cuda'):
        torch.cuda.synchronize()


def train_step(a):
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = a.device.startswith('cuda')
    patch = [int(v) for v in a.patch.split(',')]
    net = PlainConvUNet(patch, a.inch, a.classes).to(a.device)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.99, nesterov=True, weight_decay=3e-5)
    x = torch.randn(a.batch, a.inch, *patch).to(a.device)
    y = torch.randint(0, a.classes, (a.batch, *patch)).to(a.device)
    dtype = amp_dtype(a)
    scaler = torch.amp.GradScaler('cuda') if dtype == torch.float16 else None
    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        with torch.autocast(a.device.split(':')[0], dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            outs = net(x)
        loss = ds_loss(outs, y)
        opt.zero_grad(set_to_none=True)
        if scaler:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        sync(a)
        ms = (time.perf_counter() - t0) * 1000
        print(i, round(ms), float(loss), file=sys.stderr)
        if i >= a.warmup:
            times.append(ms)
    return {'ms_per_step': statistics.median(times), 'steps_ms': [round(t) for t in times],
            'parameters': sum(p.numel() for p in net.parameters()), 'peak_rss_mb': round(peak_rss_mb()),
            'patch': patch, 'batch': a.batch, 'bf16': a.bf16, 'amp': a.amp, 'device': a.device,
            'gpu': torch.cuda.get_device_name(0) if a.device.startswith('cuda') else None,
            'threads': torch.get_num_threads(), 'torch': torch.__version__}


def gaussian(patch, sigma_scale=1 / 8):
    axes = []
    for p in patch:
        c = torch.arange(p, dtype=torch.float64) - (p - 1) / 2
        axes.append(torch.exp(-c ** 2 / (2 * (p * sigma_scale) ** 2)))
    g = axes[0][:, None, None] * axes[1][None, :, None] * axes[2][None, None, :]
    g = g / g.max()
    g = g.float()
    g[g == 0] = g[g > 0].min()
    return g


def starts(size, patch, step=0.5):
    if size <= patch:
        return [0]
    n = int(-(-(size - patch) // (patch * step))) + 1
    actual = (size - patch) / (n - 1)
    return [int(round(actual * i)) for i in range(n)]


def sliding_window(a):
    torch.manual_seed(0)
    shape = [int(v) for v in a.shape.split(',')]
    patch = [int(v) for v in a.patch.split(',')]
    net = PlainConvUNet(patch, shape[0], a.classes).eval()
    vol = torch.randn(*shape)
    t0 = time.perf_counter()
    g = gaussian(patch)
    agg = torch.zeros(a.classes, *shape[1:])
    wsum = torch.zeros(shape[1:])
    boxes = [(z, y, x) for z in starts(shape[1], patch[0]) for y in starts(shape[2], patch[1]) for x in starts(shape[3], patch[2])]
    with torch.no_grad():
        for b in range(0, len(boxes), 2):
            batch = boxes[b:b + 2]
            x = torch.stack([vol[:, z:z + patch[0], y:y + patch[1], xx:xx + patch[2]] for z, y, xx in batch])
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.bf16):
                out = net(x)[0].float()
            for k, (z, y, xx) in enumerate(batch):
                agg[:, z:z + patch[0], y:y + patch[1], xx:xx + patch[2]] += out[k] * g
                wsum[z:z + patch[0], y:y + patch[1], xx:xx + patch[2]] += g
    seg = (agg / wsum).argmax(0)
    return {'seconds': time.perf_counter() - t0, 'windows': len(boxes), 'parameters': sum(p.numel() for p in net.parameters()),
            'peak_rss_mb': round(peak_rss_mb()), 'checksum': int(seg.sum()), 'threads': torch.get_num_threads(), 'torch': torch.__version__}


def read_safetensors(path):
    """A minimal safetensors reader (the python safetensors package is not in Debian): header JSON + raw data."""
    import numpy as np
    dtypes = {'F64': np.float64, 'F32': np.float32, 'I64': np.int64, 'I32': np.int32, 'I16': np.int16,
              'I8': np.int8, 'U8': np.uint8, 'BOOL': np.bool_}
    raw = open(path, 'rb').read()
    n = int.from_bytes(raw[:8], 'little')
    header = json.loads(raw[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        a, b = v['data_offsets']
        if v['dtype'] in ('BF16', 'F16'):
            bits = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=np.int16).copy()
            t = torch.from_numpy(bits).view(torch.bfloat16 if v['dtype'] == 'BF16' else torch.float16)
        else:
            t = torch.from_numpy(np.frombuffer(raw[8 + n + a:8 + n + b], dtype=dtypes[v['dtype']]).copy())
        out[k] = t.reshape(v['shape'])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('what', choices=['train-step', 'sliding-window'])
    ap.add_argument('--patch', default='64,64,64')
    ap.add_argument('--shape', default='1,128,128,128')
    ap.add_argument('--batch', type=int, default=2)
    ap.add_argument('--in', dest='inch', type=int, default=1)
    ap.add_argument('--classes', type=int, default=3)
    ap.add_argument('--bf16', action='store_true')
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--amp', choices=['fp16', 'bf16'], default=None)
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    r = train_step(a) if a.what == 'train-step' else sliding_window(a)
    print(json.dumps(r))


if __name__ == '__main__':
    main()
