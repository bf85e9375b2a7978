// Modules: named parameters, buffers and children (PyTorch's naming: "encoder.stages.0.0.conv.weight"),
// train/eval mode and state dicts.
import { Tensor, keep, noGrad } from '../engine/index.js';

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** A trainable tensor; it leaves every tidy scope and requires grad. */
  protected param(name: string, t: Tensor): Tensor {
    keep(t);
    t.requiresGrad = true;
    this.params.set(name, t);
    return t;
  }

  protected buffer(name: string, t: Tensor): Tensor {
    keep(t);
    this.buffers.set(name, t);
    return t;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this.params) out.push([prefix + n, p]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, b] of this.buffers) out.push([prefix + n, b]);
    for (const [n, c] of this.children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /** Every module of the tree, depth first, with its dotted name ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [n, c] of this.children) out.push(...c.namedModules(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.numel, 0);
  }

  /** Parameters and buffers by name (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values into this module's tensors (in place, under no-grad). With strict, names must
   * match exactly; shapes must always match. Nothing is changed when any check fails.
   */
  loadStateDict(state: Map<string, Tensor>, strict = true): { missing: string[]; unexpected: string[] } {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    if (strict && (missing.length || unexpected.length)) {
      throw new Error(
        `loadStateDict: ${missing.length} missing (${missing.slice(0, 5).join(', ')}), ` +
          `${unexpected.length} unexpected (${unexpected.slice(0, 5).join(', ')})`,
      );
    }
    for (const [k, t] of own) {
      const src = state.get(k);
      if (src && src.shape.join(',') !== t.shape.join(',')) {
        throw new Error(`loadStateDict: ${k} has shape [${src.shape}] but the module expects [${t.shape}]`);
      }
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const src = state.get(k);
        if (src) t.copy_(src);
      }
    });
    return { missing, unexpected };
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Moves every parameter and buffer to a device or dtype (in place: the module keeps its tensors' names). */
  to(target: string): this {
    for (const [, m] of this.namedModules()) {
      for (const map of [m.params, m.buffers]) {
        for (const [n, t] of map) {
          const moved = noGrad(() => t.to(target).detach());
          keep(moved);
          if (map === m.params) moved.requiresGrad = true;
          t.dispose();
          map.set(n, moved);
        }
      }
    }
    return this;
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const [, t] of this.namedParameters()) t.dispose();
    for (const [, t] of this.namedBuffers()) t.dispose();
  }

  abstract forward(x: Tensor): Tensor;
}

/** Modules applied in order; children named 0, 1, 2, ... as torch.nn.Sequential. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers.map((m, i) => this.child(String(i), m));
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.layers) y = replace(y, m.forward(y), x);
    return y;
  }
}

/**
 * Returns next, disposing the handle of prev unless it is the caller's input or the same handle.
 * Forward passes free each intermediate as soon as the next exists, as PyTorch's reference
 * counting does: autograd keeps its own references to what backward needs, so only JS's handle
 * goes, and without this a whole forward's activations would wait for the end of the tidy scope.
 */
export function replace(prev: Tensor, next: Tensor, keepInput: Tensor): Tensor {
  if (prev !== keepInput && prev !== next) prev.dispose();
  return next;
}

/** A list of modules (torch.nn.ModuleList): named 0, 1, ...; no forward of its own. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.child(String(i), m));
  }
  forward(): Tensor {
    throw new Error('ModuleList has no forward');
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
