// One network over several tasks: a shared U-Net body (encoder, decoder stages and transposed
// convolutions, under UNet's own parameter names), one segmentation head per task (its own label
// set: heads.<head>.seg_layers.N.*) and, for a task whose channel count differs from the body's, a
// per-task input stem: a bias-free 1×1×1 convolution from the task's channels to the body's
// (stems.<task>.weight). Bias-free on purpose: a linear map of the channels commutes with the first
// convolution's zero padding, so the stem folds exactly into that convolution and every task has an
// ordinary UNet view (taskView) that predict, export and fine-tuning read like any model.
import { cat, noGrad, tidy, type Tensor } from '../engine/index.js';
import {
  Conv,
  Module,
  ModuleList,
  UNet,
  kaimingNormal_,
  zeros_,
  type UNetDecoder,
  type UNetEncoder,
  type UNetSpec,
} from '../nn/index.js';

export interface TaskShape {
  name: string;
  channels: number;
  /** Classes including background. */
  classes: number;
  /** The head it uses (its own name in multi-task training; one shared head in meta-training). */
  head: string;
}

/** A name usable inside a parameter name: letters, digits, '_' and '-'. */
export function taskKey(name: string): string {
  const k = name.replace(/[^A-Za-z0-9_-]/g, '_');
  if (!k) throw new Error(`task name '${name}' has no usable character`);
  return k;
}

class Named extends Module {
  constructor(entries: [string, Module][]) {
    super();
    for (const [n, m] of entries) this.child(n, m);
  }
  forward(): Tensor {
    throw new Error('a container of named modules has no forward');
  }
}

class Head extends Module {
  readonly segLayers: ModuleList<Conv>;
  constructor(spec: UNetSpec, classes: number) {
    super();
    const n = spec.features.length;
    const segs: Conv[] = [];
    for (let d = 0; d < n - 1; d++) {
      const c = new Conv(spec.features[n - 2 - d]!, classes, { dims: spec.dims, kernel: 1, bias: true });
      kaimingNormal_(c.weight, spec.slope ?? 0.01); // as UNet's own He initialisation
      zeros_(c.bias!);
      segs.push(c);
    }
    this.segLayers = this.child('seg_layers', new ModuleList(segs));
  }
  forward(): Tensor {
    throw new Error('Head.forward: use MultiTaskNet.forwardTask');
  }
}

class BodyDecoder extends Module {
  constructor(readonly inner: UNetDecoder) {
    super();
    this.child('stages', inner.stages);
    this.child('transpconvs', inner.transpconvs);
  }
  forward(): Tensor {
    throw new Error('BodyDecoder.forward: use MultiTaskNet.forwardTask');
  }
}

export class MultiTaskNet extends Module {
  readonly encoder: UNetEncoder;
  readonly decoder: BodyDecoder;
  readonly heads = new Map<string, Head>();
  readonly stems = new Map<string, Conv>();
  readonly tasks: Map<string, TaskShape>;

  /** `body`: the shared network's spec (inputChannels = the body's width, numClasses ignored). */
  constructor(
    readonly body: UNetSpec,
    tasks: TaskShape[],
    /** The head also written as decoder.seg_layers.* so the file is an ordinary UNet checkpoint. */
    readonly primaryHead: string,
  ) {
    super();
    this.tasks = new Map(tasks.map((t) => [t.name, t]));
    const unet = new UNet({ ...body, numClasses: 1 }); // He-initialised body
    this.encoder = this.child('encoder', unet.encoder);
    this.decoder = this.child('decoder', new BodyDecoder(unet.decoder));
    for (const t of unet.decoder.segLayers.namedParameters()) t[1].dispose(); // its head is unused
    const headClasses = new Map<string, number>();
    for (const t of tasks) {
      const had = headClasses.get(t.head);
      if (had !== undefined && had !== t.classes)
        throw new Error(`head ${t.head} is shared by tasks with ${had} and ${t.classes} classes`);
      headClasses.set(t.head, t.classes);
    }
    if (!headClasses.has(primaryHead)) throw new Error(`primary head ${primaryHead} belongs to no task`);
    for (const [h, k] of headClasses) this.heads.set(h, new Head(body, k));
    for (const t of tasks) {
      if (t.channels === body.inputChannels) continue;
      const s = new Conv(t.channels, body.inputChannels, { dims: body.dims, kernel: 1, bias: false });
      // identity where channels overlap, zero elsewhere: a new task starts as the body's first channels
      noGrad(() => {
        s.weight.zero_();
        for (let c = 0; c < Math.min(t.channels, body.inputChannels); c++)
          s.weight.narrow(0, c, 1).narrow(1, c, 1).fill_(1);
      });
      this.stems.set(t.name, s);
    }
    this.child('heads', new Named([...this.heads]));
    this.child('stems', new Named([...this.stems]));
  }

  task(name: string): TaskShape {
    const t = this.tasks.get(name);
    if (!t) throw new Error(`unknown task '${name}': this model has ${[...this.tasks.keys()].join(', ')}`);
    return t;
  }

  /** The tensors every task shares (encoder and decoder body), under UNet's names. */
  bodyParameters(): [string, Tensor][] {
    return [
      ...this.encoder.namedParameters('encoder.'),
      ...this.encoder.namedBuffers('encoder.'),
      ...this.decoder.namedParameters('decoder.'),
      ...this.decoder.namedBuffers('decoder.'),
    ];
  }

  /** Deep-supervision logits of task `name` (full resolution first; one without deep supervision). */
  forwardTask(name: string, x: Tensor): Tensor[] {
    const t = this.task(name);
    const stem = this.stems.get(name);
    const input = stem ? stem.forward(x) : x;
    const skips = this.encoder.forwardSkips(input);
    if (input !== x) input.dispose();
    const head = this.heads.get(t.head)!;
    const dec = this.decoder.inner;
    let low = skips[skips.length - 1]!;
    const outs: Tensor[] = [];
    const n = dec.stages.items.length;
    for (let d = 0; d < n; d++) {
      const up = dec.transpconvs.items[d]!.forward(low);
      const skip = skips[skips.length - 2 - d]!;
      const joined = cat([up, skip], 1);
      up.dispose();
      skip.dispose();
      const y = dec.stages.items[d]!.forward(joined);
      joined.dispose();
      if (this.body.deepSupervision || d === n - 1) outs.push(head.segLayers.items[d]!.forward(y));
      low.dispose();
      low = y;
    }
    low.dispose();
    return outs.reverse();
  }

  forward(): Tensor {
    throw new Error('MultiTaskNet.forward: use forwardTask(task, x)');
  }

  /** Every tensor, plus the primary head again as decoder.seg_layers.*: a checkpoint of this network
   * is also an ordinary UNet checkpoint of the primary task (loading copies the alias twice, harmlessly). */
  override stateDict(): Map<string, Tensor> {
    const m = super.stateDict();
    for (const [k, t] of this.heads.get(this.primaryHead)!.namedParameters('decoder.')) m.set(k, t);
    return m;
  }
}

/** The full-resolution logits of one task (validation, inference through the multi-task network). */
export function forwardTaskFull(net: MultiTaskNet, task: string, x: Tensor): Tensor {
  const outs = net.forwardTask(task, x);
  for (const o of outs.slice(1)) o.dispose();
  return outs[0]!;
}

/**
 * Task `name` as an ordinary UNet: the body, the task's head as decoder.seg_layers and its stem folded
 * into the first convolution (W'[f, c, k] = Σ_C W[f, C, k] · S[C, c]; exact, the stem has no bias).
 * Plain architecture: the first conv is encoder.stages.0.0.convs.0.conv; residual: encoder.stem's.
 */
export function taskView(net: MultiTaskNet, name: string, deepSupervision = false): UNet {
  const t = net.task(name);
  const view = new UNet({
    ...net.body,
    inputChannels: t.channels,
    numClasses: t.classes,
    deepSupervision,
  });
  // the first convolution: the one weight reading the body's input channels
  const first = [...view.stateDict()].find(
    ([, w]) => w.shape.length === net.body.dims + 2 && w.shape[1] === t.channels,
  )![0];
  const missing = tidy(() => {
    const src = new Map<string, Tensor>(net.bodyParameters());
    for (const [k, p] of net.heads.get(t.head)!.namedParameters('decoder.')) src.set(k, p);
    const stem = net.stems.get(name);
    if (stem) {
      const w = src.get(first)!; // [F, C, k...]
      const s = stem.weight.flatten(1); // [C, c]
      const [f, C, ...k] = w.shape;
      const folded = s
        .transpose(0, 1)
        .matmul(w.permute(1, 0, ...k.map((_, i) => i + 2)).reshape(C!, -1)) // [c, F·k]
        .reshape(t.channels, f!, ...k)
        .permute(1, 0, ...k.map((_, i) => i + 2));
      src.set(first, folded.contiguous());
    }
    return view.loadStateDict(src, false).missing;
  });
  if (missing.length) {
    view.dispose();
    throw new Error(`taskView: no weights for ${missing.join(', ')}`);
  }
  return view;
}
