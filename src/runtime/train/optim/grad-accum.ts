// Gradient accumulation over several batches (MMSA's update_epochs) with the running sums held outside the wasm heap,
// so a batch's backward pass never has to fit next to a second full set of gradients. Phase 7 (execute).
import * as tf from '@tensorflow/tfjs';
import { nativeAccumulate } from '../../backend.js';
import { disposeGrads, type Grads } from './adam.js';

interface Sum {
  shape: number[];
  data: Float32Array;
  /** The window this sum belongs to (a stale window's buffer is overwritten, not added to). */
  window: number;
}

export interface GradAccumulatorOptions {
  /**
   * true: sums live in JS memory (float32, the same additions as tf.add) and each batch's gradients are freed at once;
   * false: sums stay tensors (no copies; for one batch per step, or backends without a heap limit).
   */
  host: boolean;
}

/** Sums the gradients of the batches of one optimizer step; `take()` hands them over and starts the next window. */
export class GradAccumulator {
  readonly host: boolean;
  private readonly sums = new Map<string, Sum>();
  private tensors: Grads | null = null;
  private window = 0;
  private batches = 0;

  constructor(opts: GradAccumulatorOptions) {
    this.host = opts.host;
  }

  /** Batches added since the last take() / clear(). */
  get count(): number {
    return this.batches;
  }

  /**
   * Adds one batch's gradients, or one micro-batch's (`batches` 1 for a batch's first chunk, 0 for the others: the
   * count stays in batches); takes ownership of (and disposes) the tensors.
   */
  add(grads: Grads, batches = 1): void {
    this.batches += batches;
    if (!this.host) {
      this.tensors = addTensors(this.tensors, grads);
      return;
    }
    for (const [name, g] of Object.entries(grads)) {
      let s = this.sums.get(name);
      if (!s || s.data.length !== g.size) {
        s = { shape: [...g.shape], data: new Float32Array(g.size), window: -1 };
        this.sums.set(name, s);
      }
      const first = s.window !== this.window;
      s.window = this.window;
      if (!nativeAccumulate(g, s.data, first)) {
        const src = g.dataSync() as Float32Array;
        if (first) s.data.set(src);
        else for (let i = 0; i < src.length; i++) s.data[i] = s.data[i]! + src[i]!; // float32 store: the sum of tf.add
      }
      g.dispose();
    }
  }

  /** The summed gradients as new tensors (the caller disposes them); the next add() starts a new window. */
  take(): Grads {
    let out: Grads;
    if (!this.host) {
      out = this.tensors ?? {};
      this.tensors = null;
    } else {
      out = {};
      for (const [name, s] of this.sums) if (s.window === this.window) out[name] = tf.tensor(s.data, s.shape, 'float32');
    }
    this.window += 1;
    this.batches = 0;
    return out;
  }

  /**
   * The current window's running sums as new tensors (the caller disposes them), the window staying open: MMSA's
   * TFR-Net trainer steps on its `.grad` buffers after every batch without zeroing them.
   */
  peek(): Grads {
    if (!this.host) return Object.fromEntries(Object.entries(this.tensors ?? {}).map(([n, t]) => [n, t.clone()]));
    const out: Grads = {};
    for (const [name, s] of this.sums) if (s.window === this.window) out[name] = tf.tensor(s.data, s.shape, 'float32');
    return out;
  }

  /**
   * Replaces the current window's running sums by f(sums): MMSA clips its `.grad` buffers after every backward, i.e.
   * the running sum of the accumulation window. f gets tensors and returns new ones; both are disposed here.
   */
  mapRunning(f: (sums: Grads) => Grads): void {
    if (!this.host) {
      if (!this.tensors) return;
      const next = f(this.tensors);
      disposeGrads(this.tensors);
      this.tensors = next;
      return;
    }
    const cur: Grads = {};
    for (const [name, s] of this.sums) if (s.window === this.window) cur[name] = tf.tensor(s.data, s.shape, 'float32');
    const next = f(cur);
    for (const [name, t] of Object.entries(next)) this.sums.get(name)!.data.set(t.dataSync() as Float32Array);
    disposeGrads(cur);
    disposeGrads(next);
  }

  /** Drops the current window's sums (MMSA drops the leftover batches of an epoch). */
  clear(): void {
    if (this.tensors) for (const t of Object.values(this.tensors)) t.dispose();
    this.tensors = null;
    this.window += 1;
    this.batches = 0;
  }

  /** Bytes held outside the tensor backend. */
  hostBytes(): number {
    let n = 0;
    for (const s of this.sums.values()) n += s.data.byteLength;
    return n;
  }

  dispose(): void {
    this.clear();
    this.sums.clear();
  }
}

function addTensors(acc: Grads | null, g: Grads): Grads {
  if (!acc) return g;
  const out: Grads = { ...acc };
  for (const [name, t] of Object.entries(g)) {
    const prev = acc[name];
    if (prev) {
      out[name] = tf.add(prev, t);
      prev.dispose();
      t.dispose();
    } else {
      out[name] = t;
    }
  }
  return out;
}
