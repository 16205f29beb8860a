// torch.optim.Adam / AdamW over parameter groups (L2 weight decay added to the gradient for Adam, decoupled for AdamW),
// with the moments held outside the wasm heap, plus clip_grad_norm_ / clip_grad_value_. Phase 7 (execute).
import * as tf from '@tensorflow/tfjs';
import { nativeAdamHostStep, type AdamScalars } from '../../backend.js';
import type { ParamEntry } from '../../nn/params.js';

export type AdamMode = 'adam' | 'adamw';

export interface AdamGroupSpec {
  /** For logs and checkpoints ("audio", "bert_no_decay", ...). */
  name?: string;
  params: readonly (tf.Variable | ParamEntry)[];
  lr: number;
  /** Default 0 (torch Adam) - AdamW's torch default is 1e-2, pass it explicitly. */
  weightDecay?: number;
  betas?: readonly [number, number];
  eps?: number;
  /** false: the group is frozen and never touched (no state, no step count). */
  trainable?: boolean;
}

export interface AdamGroup {
  name: string;
  params: tf.Variable[];
  /** Mutable, for schedulers (ReduceLROnPlateau, warm-up). */
  lr: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  trainable: boolean;
}

/**
 * A parameter's moments, in JS memory rather than tfjs tensors: for BERT-base they are 880 MB that need not sit in the
 * 4 GiB wasm heap next to the weights and a step's activations.
 */
export interface AdamParamState {
  step: number;
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}

export interface AdamOptions {
  /** 'adam' (default): torch.optim.Adam, L2 decay added to the gradient. 'adamw': decoupled decay p *= 1 - lr*wd. */
  mode?: AdamMode;
  betas?: readonly [number, number];
  eps?: number;
}

function isEntry(p: tf.Variable | ParamEntry): p is ParamEntry {
  return typeof (p as ParamEntry).key === 'string' && (p as ParamEntry).variable instanceof tf.Variable;
}

export interface AdamState {
  mode: AdamMode;
  groups: { name: string; lr: number; weightDecay: number; betas: readonly [number, number]; eps: number }[];
  params: Record<string, { step: number; shape: number[]; expAvg: Float32Array; expAvgSq: Float32Array }>;
}

/** Gradients keyed by tf variable name, as returned by tf.variableGrads(...).grads. */
export type Grads = Record<string, tf.Tensor>;

export class Adam {
  readonly mode: AdamMode;
  readonly groups: AdamGroup[];
  private readonly state = new Map<string, AdamParamState>();

  constructor(groups: readonly AdamGroupSpec[], opts: AdamOptions = {}) {
    this.mode = opts.mode ?? 'adam';
    const seen = new Set<string>();
    this.groups = groups.map((g, i) => {
      const params = g.params.map((p) => (isEntry(p) ? p.variable : p));
      for (const p of params) {
        if (seen.has(p.name)) throw new Error(`optimizer: parameter '${p.name}' appears in more than one group`);
        seen.add(p.name);
      }
      return {
        name: g.name ?? `group${i}`,
        params,
        lr: g.lr,
        weightDecay: g.weightDecay ?? 0,
        betas: [...(g.betas ?? opts.betas ?? [0.9, 0.999])] as [number, number],
        eps: g.eps ?? opts.eps ?? 1e-8,
        trainable: g.trainable ?? true,
      };
    });
  }

  /** Variables of all non-frozen groups: the varList to pass to tf.variableGrads. */
  variables(): tf.Variable[] {
    return this.groups.filter((g) => g.trainable).flatMap((g) => g.params);
  }

  /**
   * One optimizer step. Parameters without an entry in `grads` are skipped entirely (no decay, no step count),
   * like torch parameters whose .grad is None. Does not dispose `grads`.
   */
  step(grads: Grads): void {
    for (const g of this.groups) {
      if (!g.trainable) continue;
      const [b1, b2] = g.betas;
      for (const p of g.params) {
        const grad = grads[p.name];
        if (!grad) continue;
        let st = this.state.get(p.name);
        if (!st) {
          st = { step: 0, expAvg: new Float32Array(p.size), expAvgSq: new Float32Array(p.size) };
          this.state.set(p.name, st);
        }
        st.step += 1;
        const h: AdamScalars = {
          lr: g.lr, b1, b2, eps: g.eps, weightDecay: g.weightDecay, stepSize: g.lr / (1 - Math.pow(b1, st.step)),
          bc2Sqrt: Math.sqrt(1 - Math.pow(b2, st.step)), decoupled: this.mode === 'adamw',
        };
        const next = nativeAdamHostStep(p, grad, st.expAvg, st.expAvgSq, h) ?? adamStepJs(p, grad, st.expAvg, st.expAvgSq, h);
        p.assign(next);
        next.dispose();
      }
    }
  }

  /** Per-parameter state (undefined before the parameter's first update). */
  stateOf(variable: tf.Variable): AdamParamState | undefined {
    return this.state.get(variable.name);
  }

  /**
   * Serialisable optimizer state for checkpoints (like torch's optimizer.state_dict()). `keyOf` names parameters
   * stably across processes, e.g. `(v) => store.byVariableName(v.name)!.key`; the default is the tf variable name.
   */
  exportState(keyOf: (v: tf.Variable) => string = (v) => v.name): AdamState {
    const params: AdamState['params'] = {};
    for (const g of this.groups) {
      for (const p of g.params) {
        const st = this.state.get(p.name);
        if (!st) continue;
        params[keyOf(p)] = { step: st.step, shape: [...p.shape], expAvg: st.expAvg.slice(), expAvgSq: st.expAvgSq.slice() };
      }
    }
    return { mode: this.mode, groups: this.groups.map((g) => ({ name: g.name, lr: g.lr, weightDecay: g.weightDecay, betas: g.betas, eps: g.eps })), params };
  }

  /** Restore exportState() output; groups are matched by position, parameters by `keyOf`. */
  importState(state: AdamState, keyOf: (v: tf.Variable) => string = (v) => v.name): void {
    if (state.groups.length !== this.groups.length) throw new Error(`optimizer state has ${state.groups.length} groups, this optimizer ${this.groups.length}`);
    state.groups.forEach((sg, i) => {
      const g = this.groups[i]!;
      g.lr = sg.lr;
      g.weightDecay = sg.weightDecay;
      g.betas = [...sg.betas] as [number, number];
      g.eps = sg.eps;
    });
    for (const g of this.groups) {
      for (const p of g.params) {
        const ps = state.params[keyOf(p)];
        if (!ps) continue;
        if (ps.shape.length !== p.shape.length || ps.shape.some((d, i) => d !== p.shape[i])) {
          throw new Error(`optimizer state for '${keyOf(p)}' has shape [${ps.shape.join(', ')}], parameter [${p.shape.join(', ')}]`);
        }
        this.state.set(p.name, { step: ps.step, expAvg: Float32Array.from(ps.expAvg), expAvgSq: Float32Array.from(ps.expAvgSq) });
      }
    }
  }

  /** Bytes of optimizer state held outside the tensor backend (both moments of every updated parameter). */
  stateBytes(): number {
    let n = 0;
    for (const st of this.state.values()) n += st.expAvg.byteLength + st.expAvgSq.byteLength;
    return n;
  }

  dispose(): void {
    this.state.clear();
  }
}

/**
 * The native kernel's maths in JS, for backends without it: every operation rounded to float32 (Math.fround) in the
 * kernel's order. A float32 sum, product, quotient or square root computed in float64 and rounded once is the float32
 * result (53 >= 2 * 24 + 2 bits), so this gives the kernel's bits and the tensor ops' bits.
 */
function adamStepJs(p: tf.Tensor, grad: tf.Tensor, m: Float32Array, v: Float32Array, h: AdamScalars): tf.Tensor {
  const f = Math.fround;
  const pv = p.dataSync() as Float32Array;
  const gv = grad.dataSync() as Float32Array;
  const c1 = f(1 - h.b1);
  const b2 = f(h.b2);
  const c2 = f(1 - h.b2);
  const wd = f(h.weightDecay);
  const shrink = f(1 - h.lr * h.weightDecay);
  const eps = f(h.eps);
  const step = f(h.stepSize);
  const bc2 = f(h.bc2Sqrt);
  const out = new Float32Array(pv.length);
  const l2 = h.weightDecay !== 0 && !h.decoupled;
  const decay = h.weightDecay !== 0 && h.decoupled;
  for (let i = 0; i < pv.length; i++) {
    const gr = l2 ? f(gv[i]! + f(pv[i]! * wd)) : gv[i]!;
    const mi = f(m[i]! + f(f(gr - m[i]!) * c1));
    const vi = f(f(v[i]! * b2) + f(f(gr * gr) * c2));
    m[i] = mi;
    v[i] = vi;
    const base = decay ? f(pv[i]! * shrink) : pv[i]!;
    out[i] = f(base - f(f(mi / f(f(f(Math.sqrt(vi)) / bc2) + eps)) * step));
  }
  return tf.tensor(out, p.shape, 'float32');
}

/**
 * clip_grad_norm_: global L2 norm over all gradients; when clipping, every gradient is scaled by
 * min(1, max/(norm + 1e-6)). Returns new tensors (inputs untouched) and the pre-clipping norm.
 */
export function clipGradNorm(grads: Grads, maxNorm: number): { grads: Grads; totalNorm: number } {
  const names = Object.keys(grads);
  if (names.length === 0) return { grads: {}, totalNorm: 0 };
  const totalNorm = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]!))))).dataSync()[0]!);
  const coef = Math.min(1, maxNorm / (totalNorm + 1e-6));
  const out: Grads = {};
  for (const n of names) out[n] = coef < 1 ? tf.tidy(() => tf.mul(grads[n]!, coef)) : tf.clone(grads[n]!);
  return { grads: out, totalNorm };
}

/** clip_grad_value_: clamp every gradient element to [-c, c]. Returns new tensors. */
export function clipGradValue(grads: Grads, clipValue: number): Grads {
  const out: Grads = {};
  for (const [n, g] of Object.entries(grads)) out[n] = tf.clipByValue(g, -clipValue, clipValue);
  return out;
}

/** Dispose every tensor of a gradient map (tf.variableGrads' grads are not tidied). */
export function disposeGrads(grads: Grads): void {
  for (const g of Object.values(grads)) g.dispose();
}
