// Fused LSTM recurrence: one tf.customGrad op, cell maths in Float32Array loops (packed-length masking included), the
// products on the tfjs backend (per-step h W_hh^T, one dW_hh over all steps). Phase 7 (execute); see deps.md 1.9.

import * as tf from '@tensorflow/tfjs';
import { activeNativeKernels, wasmHeapView } from '../backend.js';
import type { NativeKernels } from '../native.js';

/**
 * Where the per-step recurrent product h W_hh^T (and its backward dG W_hh) runs:
 * - 'js': scalar JS loops (matMul and gate nonlinearities); no dispatch cost, wins only for toy sizes;
 * - 'tf': per step, one backend matMul (XNNPACK on wasm) + add + sigmoid over B x 4H, with uploads of h and the
 *   step's input projection and one readback; the rest of the cell stays in JS. The gates then come from the
 *   backend's float32 sigmoid (tanh as 2 sigmoid(2x) - 1): same maths, float32 rounding instead of float64;
 * - 'native': the whole recurrence (products and float32 cell maths) in mmsa's native kernels (native/src/lstm.c),
 *   available while they back the wasm backend;
 * - 'auto': pick per call from the size and the backend (see chooseRecurrentMatMul).
 */
export type RecurrentMatMul = 'js' | 'tf' | 'native' | 'auto';

export interface LstmRecurrenceOptions {
  matmul?: RecurrentMatMul;
}

let defaultRecurrentMatMul: RecurrentMatMul = 'auto';
/** Process-wide default for lstmRecurrence's `matmul` option (benchmarks and tests switch it). */
export function setDefaultRecurrentMatMul(mode: RecurrentMatMul): void {
  defaultRecurrentMatMul = mode;
}

/**
 * Multiply-adds per step from which the backend path beats the JS loop. bench/lstm-shapes.mjs on wasm (SIMD, 1 thread,
 * idle): 'tf' already wins 1.5x at Self-MM's audio LSTM (B 16, H 16: 16k MACs per step) and 3-5x at H 128, because it
 * also moves the gate sigmoids into one vectorised kernel; only toy sizes (unit tests) stay in JS.
 */
const TF_STEP_MACS = 4096;

export function chooseRecurrentMatMul(B: number, H: number, mode: RecurrentMatMul = defaultRecurrentMatMul): 'js' | 'tf' | 'native' {
  if (mode === 'native') {
    if (!activeNativeKernels()) throw new Error("lstmRecurrence: matmul 'native' needs mmsa's native kernels on the wasm backend");
    return mode;
  }
  if (mode !== 'auto') return mode;
  if (activeNativeKernels()) return 'native';
  // The pure-JS cpu backend's matMul is no faster than our loop, so only accelerated backends get the 'tf' path.
  const backend = tf.getBackend();
  if (backend === 'cpu') return 'js';
  return B * H * 4 * H >= TF_STEP_MACS ? 'tf' : 'js';
}

/**
 * Recurrence of one LSTM direction given the precomputed input projection, batch-major.
 * @param xproj B x T x 4H: x_t W_ih^T + b_ih + b_hh (gate order i, f, g, o)
 * @param whh 4H x H (PyTorch layout)
 * @param lengths per-row true lengths; row b updates its state only at steps t < lengths[b]
 * @param reverse process t = T-1 .. 0 (the backward direction of a bidirectional LSTM)
 * @returns B x (T+1) x H: slots 0..T-1 are the outputs (0 where t >= len), slot T is h_n.
 */
export function lstmRecurrence(
  xproj: tf.Tensor3D,
  whh: tf.Tensor2D,
  lengths: Int32Array,
  reverse: boolean,
  opts: LstmRecurrenceOptions = {},
): tf.Tensor3D {
  const [B, T, G] = xproj.shape;
  const H = whh.shape[1]!;
  if (G !== 4 * H || whh.shape[0] !== G) throw new Error(`lstmRecurrence: xproj has ${G} gates for hidden size ${H}`);
  if (lengths.length !== B) throw new Error(`lstmRecurrence: ${lengths.length} lengths for batch ${B}`);
  const plan = makePlan(B, T, H, lengths, reverse, chooseRecurrentMatMul(B, H, opts.matmul ?? defaultRecurrentMatMul));
  // Eval passes (no tape) skip the customGrad bookkeeping and keep no activations.
  if (!tf.engine().isTapeOn()) {
    return tf.tidy(() => {
      const f = forward(plan, xproj, whh, false);
      const out = tf.tensor3d(f.y, [B, T + 1, H]);
      if (f.pooled) giveScratch(f.y);
      return out;
    });
  }
  const op = tf.customGrad(((xp: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
    const f = forward(plan, xp as tf.Tensor3D, w as tf.Tensor2D, true);
    const value = tf.tensor3d(f.y, [B, T + 1, H]);
    if (f.pooled) giveScratch(f.y);
    // Saved, so a recurrent weight computed in the forward pass (MFM's decoder feeds W_ih + W_hh) outlives its tidy.
    save([w]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const ws = saved[0] as tf.Tensor2D;
      return plan.mode === 'native' ? backwardNative(plan, f, dy, ws) : backward(plan, f, dy.dataSync() as Float32Array, ws);
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad<tf.Tensor3D>>[0]);
  return op(xproj, whh) as tf.Tensor3D;
}


interface Plan {
  B: number;
  T: number;
  H: number;
  G: number;
  lengths: Int32Array;
  /** Step order: order[k] is the time index of the k-th processed step. */
  order: Int32Array;
  K: number;
  /** allActive[k] = 1: step k is active for every row (no per-row length test needed). */
  allActive: Uint8Array;
  mode: 'js' | 'tf' | 'native';
}

function makePlan(B: number, T: number, H: number, lengths: Int32Array, reverse: boolean, mode: 'js' | 'tf' | 'native'): Plan {
  let maxLen = 0;
  let minLen = T;
  const lens = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const l = Math.max(0, Math.min(T, lengths[b]!));
    lens[b] = l;
    if (l > maxLen) maxLen = l;
    if (l < minLen) minLen = l;
  }
  const order = new Int32Array(maxLen);
  const allActive = new Uint8Array(maxLen);
  for (let k = 0; k < maxLen; k++) {
    const t = reverse ? maxLen - 1 - k : k;
    order[k] = t;
    allActive[k] = t < minLen ? 1 : 0;
  }
  return { B, T, H, G: 4 * H, lengths: lens, order, K: maxLen, allActive, mode };
}

interface Saved {
  y: Float32Array;
  /** B x T x G gate activations (i, f, g, o after their nonlinearity), rows (b, t) with t >= len stay 0. */
  acts?: Float32Array;
  /** B x T x H: tanh(c_t). */
  tanhC?: Float32Array;
  /** B x T x H: c_{t-1} and h_{t-1} (the state before step t). */
  cPrev?: Float32Array;
  hPrev?: Float32Array;
  /** The arrays come from the native path's scratch pool (y goes back once it is uploaded). */
  pooled?: boolean;
}

/** One small matMul on the backend: a (rows x inner, JS) times b (inner x cols, a tensor), read back. */
function tfMatMul(a: Float32Array, rows: number, inner: number, b: tf.Tensor2D): Float32Array {
  const at = tf.tensor2d(a, [rows, inner]);
  const r = tf.matMul(at, b);
  const out = r.dataSync() as Float32Array;
  at.dispose();
  r.dispose();
  return out;
}

function forward(p: Plan, xproj: tf.Tensor3D, whh: tf.Tensor2D, save: boolean): Saved {
  if (p.mode === 'native') return forwardNative(p, xproj, whh, save);
  const { B, T, H, G, K, order, lengths, allActive } = p;
  const BH = B * H;
  const y = new Float32Array(B * (T + 1) * H);
  const acts = save ? new Float32Array(B * T * G) : undefined;
  const tanhC = save ? new Float32Array(B * T * H) : undefined;
  const cPrev = save ? new Float32Array(B * T * H) : undefined;
  const hPrev = save ? new Float32Array(B * T * H) : undefined;
  const h = new Float32Array(BH);
  const c = new Float32Array(BH);
  const useTf = p.mode === 'tf';
  // js: xs = the input projection, gates = this step's pre-activations, W = W_hh.
  const xs = xproj.dataSync() as Float32Array;
  const W = useTf ? undefined : (whh.dataSync() as Float32Array);
  const gates = useTf ? undefined : new Float32Array(B * G);
  // tf: the step's gate activations come back from the backend as one sigmoid over B x 4H, with the g gate's
  // pre-activation doubled (tanh(x) = 2 sigmoid(2x) - 1): the backend's vectorised sigmoid replaces four of the five
  // transcendental calls per unit that dominated the JS loop. xT (T x B x 4H, scaled) is uploaded one step at a time:
  // wasm's Slice kernel copies its whole input out of the heap on every call.
  const scaled = useTf ? gateScaled(xs, whh, B, T, H) : undefined;
  try {
    for (let k = 0; k < K; k++) {
      const t = order[k]!;
      const every = allActive[k] === 1;
      let a: Float32Array;
      if (scaled) {
        const act = tf.tidy(() => {
          const hw = tf.matMul(tf.tensor2d(h, [B, H]), scaled.wT);
          return tf.sigmoid(tf.add(hw, tf.tensor2d(scaled.xT.subarray(t * B * G, (t + 1) * B * G), [B, G])));
        });
        a = act.dataSync() as Float32Array;
        act.dispose();
      } else {
        a = gates!;
        for (let b = 0; b < B; b++) {
          if (!every && t >= lengths[b]!) continue;
          const gOff = b * G;
          const xOff = (b * T + t) * G;
          rowTimesWT(h, b * H, W!, H, G, a, gOff);
          for (let q = 0; q < H; q++) {
            a[gOff + q] = sigm(xs[xOff + q]! + a[gOff + q]!);
            a[gOff + H + q] = sigm(xs[xOff + H + q]! + a[gOff + H + q]!);
            a[gOff + 2 * H + q] = tanh(xs[xOff + 2 * H + q]! + a[gOff + 2 * H + q]!);
            a[gOff + 3 * H + q] = sigm(xs[xOff + 3 * H + q]! + a[gOff + 3 * H + q]!);
          }
        }
      }
      for (let b = 0; b < B; b++) {
        if (!every && t >= lengths[b]!) continue;
        const hOff = b * H;
        const gOff = b * G;
        const sOff = (b * T + t) * H;
        const yOff = (b * (T + 1) + t) * H;
        if (scaled) for (let q = 2 * H; q < 3 * H; q++) a[gOff + q] = 2 * a[gOff + q]! - 1;
        if (save) {
          hPrev!.set(h.subarray(hOff, hOff + H), sOff);
          cPrev!.set(c.subarray(hOff, hOff + H), sOff);
          acts!.set(a.subarray(gOff, gOff + G), (b * T + t) * G);
        }
        for (let q = 0; q < H; q++) {
          const ig = a[gOff + q]!;
          const fg = a[gOff + H + q]!;
          const gg = a[gOff + 2 * H + q]!;
          const og = a[gOff + 3 * H + q]!;
          const cn = fg * c[hOff + q]! + ig * gg;
          const tc = tanh(cn);
          const hn = og * tc;
          c[hOff + q] = cn;
          h[hOff + q] = hn;
          y[yOff + q] = hn;
          if (save) tanhC![sOff + q] = tc;
        }
      }
    }
  } finally {
    scaled?.wT.dispose();
  }
  for (let b = 0; b < B; b++) y.set(h.subarray(b * H, (b + 1) * H), (b * (T + 1) + T) * H);
  return save ? { y, acts: acts!, tanhC: tanhC!, cPrev: cPrev!, hPrev: hPrev! } : { y };
}

/** xproj (B x T x 4H, JS) made time-major and W_hh^T (H x 4H, a tensor), both with the g-gate columns doubled. */
function gateScaled(xs: Float32Array, whh: tf.Tensor2D, B: number, T: number, H: number): { xT: Float32Array; wT: tf.Tensor2D } {
  const G = 4 * H;
  const xT = new Float32Array(B * T * G);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const src = (b * T + t) * G;
      const dst = (t * B + b) * G;
      xT.set(xs.subarray(src, src + G), dst);
      for (let j = 2 * H; j < 3 * H; j++) xT[dst + j] = 2 * xT[dst + j]!;
    }
  }
  const wT = tf.tidy(() => {
    const s = new Float32Array(G).fill(1);
    s.fill(2, 2 * H, 3 * H);
    return tf.mul(tf.transpose(whh), tf.tensor1d(s)) as tf.Tensor2D;
  });
  return { xT, wT };
}

/** out[oOff + j] = sum_q h[hOff + q] * W[j*H + q] for j < G: the contiguous row of W is the inner loop. */
function rowTimesWT(h: Float32Array, hOff: number, W: Float32Array, H: number, G: number, out: Float32Array, oOff: number): void {
  const H4 = H - (H % 4);
  for (let j = 0; j < G; j++) {
    const wOff = j * H;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let q = 0;
    for (; q < H4; q += 4) {
      s0 += h[hOff + q]! * W[wOff + q]!;
      s1 += h[hOff + q + 1]! * W[wOff + q + 1]!;
      s2 += h[hOff + q + 2]! * W[wOff + q + 2]!;
      s3 += h[hOff + q + 3]! * W[wOff + q + 3]!;
    }
    for (; q < H; q++) s0 += h[hOff + q]! * W[wOff + q]!;
    out[oOff + j] = s0 + s1 + (s2 + s3);
  }
}

function backward(p: Plan, f: Saved, dys: Float32Array, whh: tf.Tensor2D): tf.Tensor[] {
  const { B, T, H, G, K, order, lengths, allActive } = p;
  const BH = B * H;
  const acts = f.acts!;
  const tanhC = f.tanhC!;
  const cPrev = f.cPrev!;
  const dh = new Float32Array(BH);
  for (let b = 0; b < B; b++) dh.set(dys.subarray((b * (T + 1) + T) * H, (b * (T + 1) + T + 1) * H), b * H);
  const dc = new Float32Array(BH);
  const dxp = new Float32Array(B * T * G);
  const useTf = p.mode === 'tf';
  const W = useTf ? undefined : (whh.dataSync() as Float32Array);
  // dG of the current step, B x G, zero for inactive rows (so the per-step product leaves them at 0).
  const dG = useTf ? new Float32Array(B * G) : undefined;
  for (let k = K - 1; k >= 0; k--) {
    const t = order[k]!;
    const every = allActive[k] === 1;
    for (let b = 0; b < B; b++) {
      const active = every || t < lengths[b]!;
      if (!active) {
        if (dG) dG.fill(0, b * G, (b + 1) * G);
        continue;
      }
      const hOff = b * H;
      const xOff = (b * T + t) * G;
      const sOff = (b * T + t) * H;
      const yOff = (b * (T + 1) + t) * H;
      for (let q = 0; q < H; q++) {
        const dht = dh[hOff + q]! + dys[yOff + q]!;
        const ig = acts[xOff + q]!;
        const fg = acts[xOff + H + q]!;
        const gg = acts[xOff + 2 * H + q]!;
        const og = acts[xOff + 3 * H + q]!;
        const tc = tanhC[sOff + q]!;
        const dcn = dc[hOff + q]! + dht * og * (1 - tc * tc);
        dxp[xOff + q] = dcn * gg * ig * (1 - ig);
        dxp[xOff + H + q] = dcn * cPrev[sOff + q]! * fg * (1 - fg);
        dxp[xOff + 2 * H + q] = dcn * ig * (1 - gg * gg);
        dxp[xOff + 3 * H + q] = dht * tc * og * (1 - og);
        dc[hOff + q] = dcn * fg;
      }
      if (dG) {
        dG.set(dxp.subarray(xOff, xOff + G), b * G);
      } else {
        // dh_{t-1} = dG_t W_hh: axpy over contiguous rows of W.
        dh.fill(0, hOff, hOff + H);
        for (let j = 0; j < G; j++) {
          const d = dxp[xOff + j]!;
          if (d === 0) continue;
          const wOff = j * H;
          for (let q = 0; q < H; q++) dh[hOff + q] = dh[hOff + q]! + d * W![wOff + q]!;
        }
      }
    }
    if (dG && k > 0) {
      const prod = tfMatMul(dG, B, G, whh);
      if (every) dh.set(prod);
      else for (let b = 0; b < B; b++) if (t < lengths[b]!) dh.set(prod.subarray(b * H, (b + 1) * H), b * H);
    }
  }
  return gateGradsToTensors(p, dxp, f.hPrev!);
}

/**
 * [d xproj, dW_hh] from the gate gradients: dW_hh = sum over (b, t) of dG^T h_{t-1}, one big product over all steps
 * (inactive rows have dG = 0). Both arrays are copied into tensors, so the caller may reuse them afterwards.
 */
function gateGradsToTensors(p: Plan, dxp: Float32Array, hPrev: Float32Array): tf.Tensor[] {
  const { B, T, H, G } = p;
  const dxpT = tf.tensor2d(dxp, [B * T, G]);
  const hPrevT = tf.tensor2d(hPrev, [B * T, H]);
  const dW = tf.matMul(dxpT, hPrevT, true, false);
  hPrevT.dispose();
  return [tf.reshape(dxpT, [B, T, G]), dW];
}

function nativeKernels(): { mod: NativeKernels; threads: number } {
  const k = activeNativeKernels();
  if (!k) throw new Error('lstmRecurrence: the native kernels were switched off between the forward and backward pass');
  return k;
}

/**
 * Scratch arrays of the native path, reused across batches: a text LSTM step allocates ~30 MB of activations per
 * batch, and fresh Float32Arrays of that size cost page faults plus garbage collection (a quarter of an LMF epoch).
 * Arrays return here once their contents are copied into tensors (tfjs copies on upload) or the backward pass ends.
 */
const scratch = new Map<number, Float32Array[]>();
function takeScratch(n: number, zero: boolean): Float32Array {
  const a = scratch.get(n)?.pop();
  if (!a) return new Float32Array(n);
  if (zero) a.fill(0);
  return a;
}
function giveScratch(...arrays: (Float32Array | undefined)[]): void {
  for (const a of arrays) {
    if (!a) continue;
    const list = scratch.get(a.length) ?? [];
    if (list.length < 8) list.push(a);
    scratch.set(a.length, list);
  }
}

function forwardNative(p: Plan, xproj: tf.Tensor3D, whh: tf.Tensor2D, save: boolean): Saved {
  const { B, T, H, G, K } = p;
  const { mod, threads } = nativeKernels();
  // y's inactive slots must be 0; the saved arrays are only read where a row is active (hPrev's other rows meet
  // zero gate gradients in dW, so they are zeroed too: 0 * a stale value is 0 only while it is finite).
  const y = takeScratch(B * (T + 1) * H, true);
  const saved = save
    ? { acts: takeScratch(B * T * G, false), tanhC: takeScratch(B * T * H, false), cPrev: takeScratch(B * T * H, false), hPrev: takeScratch(B * T * H, true) }
    : undefined;
  // Views into the wasm heap, not copies: nothing allocates on the backend before the call returns.
  const xs = wasmHeapView(xproj) ?? (xproj.dataSync() as Float32Array);
  const W = wasmHeapView(whh) ?? (whh.dataSync() as Float32Array);
  mod.lstmForward(B, T, H, K, p.order, p.lengths, xs, W, y, saved?.acts ?? null, saved?.tanhC ?? null, saved?.cPrev ?? null,
    saved?.hPrev ?? null, threads);
  return saved ? { y, ...saved, pooled: true } : { y, pooled: true };
}

function backwardNative(p: Plan, f: Saved, dy: tf.Tensor, whh: tf.Tensor2D): tf.Tensor[] {
  const { B, T, H, G, K } = p;
  const { mod, threads } = nativeKernels();
  if (!f.acts) throw new Error('lstmRecurrence: the native backward pass of one forward pass ran twice (its activations are released after the first)');
  const dxp = takeScratch(B * T * G, true);
  const dys = wasmHeapView(dy) ?? (dy.dataSync() as Float32Array);
  const W = wasmHeapView(whh) ?? (whh.dataSync() as Float32Array);
  mod.lstmBackward(B, T, H, K, p.order, p.lengths, dys, f.acts!, f.tanhC!, f.cPrev!, W, dxp, threads);
  const grads = gateGradsToTensors(p, dxp, f.hPrev!);
  giveScratch(dxp, f.acts, f.tanhC, f.cPrev, f.hPrev);
  f.acts = f.tanhC = f.cPrev = f.hPrev = undefined;
  return grads;
}

function sigm(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * tanh through exp: V8's Math.tanh is 1.5-3x slower than Math.exp and this form differs from it by < 1e-15
 * (no cancellation problem in absolute terms; exp overflow gives exactly +-1).
 */
function tanh(x: number): number {
  return 1 - 2 / (Math.exp(2 * x) + 1);
}
