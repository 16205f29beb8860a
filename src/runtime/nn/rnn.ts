// nn.LSTM / nn.GRU (batch-first, 1..N layers, optional bidirectional) with PyTorch parameter names and gate orders,
// and packed-sequence semantics via a masked state carry. Phase 6 creates them, phase 7 runs them.
import * as tf from '@tensorflow/tfjs';
import { rnnInit } from './init.js';
import { dropout } from './layers.js';
import { lstmRecurrence } from './lstm-fused.js';
import type { ForwardCtx, ParamStore } from './params.js';

export type LstmImpl = 'ops' | 'fused';

export interface RnnOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  /** Dropout on the outputs of every layer except the last (training only), as in PyTorch. */
  dropout?: number;
  bidirectional?: boolean;
  bias?: boolean;
}

export interface RnnApplyOptions {
  /**
   * True lengths per batch row. Given: "packed" semantics (each row runs only for its first len steps, h_n is the
   * state after step len-1, outputs past len are 0). Omitted: every row runs all T steps.
   */
  lengths?: ArrayLike<number>;
  /** Also return the last layer's outputs, B x T x (H * directions). */
  returnOutputs?: boolean;
}

export interface RnnResult {
  /** Final hidden states in PyTorch's h_n order: layer 0 forward, layer 0 backward, layer 1 forward, ... each B x H. */
  hN: tf.Tensor2D[];
  /** Final cell states (LSTM only), same order. */
  cN?: tf.Tensor2D[];
  /** h_n[-1]: the last layer's state (its backward direction when bidirectional). */
  last: tf.Tensor2D;
  outputs?: tf.Tensor3D;
}

export interface Rnn {
  path: string;
  options: Required<RnnOptions>;
  apply(x: tf.Tensor3D, ctx: ForwardCtx, opts?: RnnApplyOptions): RnnResult;
}

interface DirParams {
  wih: tf.Variable;
  whh: tf.Variable;
  bih?: tf.Variable;
  bhh?: tf.Variable;
}

function resolveOptions(o: RnnOptions): Required<RnnOptions> {
  return { numLayers: 1, dropout: 0, bidirectional: false, bias: true, ...o };
}

function createRnnParams(store: ParamStore, path: string, o: Required<RnnOptions>, gates: number): DirParams[][] {
  const init = rnnInit(o.hiddenSize);
  const H = o.hiddenSize;
  const dirs = o.bidirectional ? 2 : 1;
  const layers: DirParams[][] = [];
  for (let l = 0; l < o.numLayers; l++) {
    const inSize = l === 0 ? o.inputSize : H * dirs;
    const row: DirParams[] = [];
    for (let d = 0; d < dirs; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      const p: DirParams = {
        wih: store.param(path, `weight_ih${sfx}`, [gates * H, inSize], init),
        whh: store.param(path, `weight_hh${sfx}`, [gates * H, H], init),
      };
      if (o.bias) {
        p.bih = store.param(path, `bias_ih${sfx}`, [gates * H], init);
        p.bhh = store.param(path, `bias_hh${sfx}`, [gates * H], init);
      }
      row.push(p);
    }
    layers.push(row);
  }
  return layers;
}

/** Per-step bookkeeping shared by LSTM and GRU: which steps run, and masks where only some rows are active. */
interface StepPlan {
  T: number;
  B: number;
  /** Steps >= maxLen never change any state, so they are skipped. */
  maxLen: number;
  /** Steps < minLen are active for every row: no mask needed. */
  minLen: number;
  lengths: Int32Array | undefined;
}

function planSteps(B: number, T: number, lengths: ArrayLike<number> | undefined): StepPlan {
  if (!lengths) return { T, B, maxLen: T, minLen: T, lengths: undefined };
  if (lengths.length !== B) throw new Error(`rnn: got ${lengths.length} lengths for a batch of ${B}`);
  const lens = new Int32Array(B);
  let maxLen = 0;
  let minLen = T;
  for (let b = 0; b < B; b++) {
    const l = Math.max(0, Math.min(T, Math.round(lengths[b]!)));
    lens[b] = l;
    maxLen = Math.max(maxLen, l);
    minLen = Math.min(minLen, l);
  }
  return { T, B, maxLen, minLen, lengths: lens };
}

/** Boolean B x H mask "row is active at step t" (only built for minLen <= t < maxLen). */
function stepMask(plan: StepPlan, t: number, H: number): tf.Tensor2D {
  const m = new Uint8Array(plan.B * H);
  for (let b = 0; b < plan.B; b++) if (t < plan.lengths![b]!) m.fill(1, b * H, (b + 1) * H);
  return tf.tensor2d(m, [plan.B, H], 'bool');
}

/** x W_ih^T + b_ih + b_hh for all steps at once (one big matMul), as T tensors of B x G. */
function inputProjection(x: tf.Tensor3D, p: DirParams, foldHiddenBias: boolean): tf.Tensor3D {
  const [B, T, D] = x.shape;
  const G = p.wih.shape[0]!;
  let proj: tf.Tensor = tf.matMul(tf.reshape(x, [B * T, D]) as tf.Tensor2D, p.wih as tf.Tensor2D, false, true);
  if (p.bih) proj = tf.add(proj, foldHiddenBias && p.bhh ? tf.add(p.bih, p.bhh) : p.bih);
  return tf.transpose(tf.reshape(proj, [B, T, G]), [1, 0, 2]) as tf.Tensor3D; // T x B x G
}

function stepOrder(plan: StepPlan, reverse: boolean): number[] {
  const ts: number[] = [];
  for (let i = 0; i < plan.maxLen; i++) ts.push(reverse ? plan.maxLen - 1 - i : i);
  return ts;
}

/** Stack per-step outputs (undefined = all-zero step) into B x T x H. */
function stackOutputs(outs: (tf.Tensor2D | undefined)[], B: number, H: number): tf.Tensor3D {
  const zero = tf.zeros([B, H]) as tf.Tensor2D;
  return tf.stack(outs.map((o) => o ?? zero), 1) as tf.Tensor3D;
}

interface DirResult {
  h: tf.Tensor2D;
  c?: tf.Tensor2D;
  /** B x T x H, zero past each row's length. */
  outputs?: tf.Tensor3D;
}

function lstmDirectionOps(x: tf.Tensor3D, p: DirParams, plan: StepPlan, reverse: boolean, needOutputs: boolean): DirResult {
  const [B] = x.shape;
  const H = p.whh.shape[1]!;
  const projT = inputProjection(x, p, true);
  const steps = tf.unstack(projT) as tf.Tensor2D[];
  const whhT = tf.transpose(p.whh) as tf.Tensor2D;
  let h = tf.zeros([B, H]) as tf.Tensor2D;
  let c = tf.zeros([B, H]) as tf.Tensor2D;
  const outs: (tf.Tensor2D | undefined)[] = new Array(plan.T).fill(undefined);
  for (const t of stepOrder(plan, reverse)) {
    const gates = tf.add(steps[t]!, tf.matMul(h, whhT));
    const [gi, gf, gg, go] = tf.split(gates, 4, 1) as tf.Tensor2D[];
    const cNew = tf.add(tf.mul(tf.sigmoid(gf!), c), tf.mul(tf.sigmoid(gi!), tf.tanh(gg!))) as tf.Tensor2D;
    const hNew = tf.mul(tf.sigmoid(go!), tf.tanh(cNew)) as tf.Tensor2D;
    if (t >= plan.minLen) {
      const m = stepMask(plan, t, H);
      c = tf.where(m, cNew, c);
      h = tf.where(m, hNew, h);
      if (needOutputs) outs[t] = tf.where(m, hNew, tf.zerosLike(hNew));
    } else {
      c = cNew;
      h = hNew;
      if (needOutputs) outs[t] = hNew;
    }
  }
  return { h, c, ...(needOutputs ? { outputs: stackOutputs(outs, B, H) } : {}) };
}

function lstmDirectionFused(x: tf.Tensor3D, p: DirParams, plan: StepPlan, reverse: boolean, needOutputs: boolean): DirResult {
  const [B, T, D] = x.shape;
  const H = p.whh.shape[1]!;
  const G = p.wih.shape[0]!;
  // Batch-major input projection: one matMul, no transpose (the recurrence indexes rows (b, t) directly).
  let proj: tf.Tensor = tf.matMul(tf.reshape(x, [B * T, D]) as tf.Tensor2D, p.wih as tf.Tensor2D, false, true);
  if (p.bih) proj = tf.add(proj, p.bhh ? tf.add(p.bih, p.bhh) : p.bih);
  const lengths = plan.lengths ?? new Int32Array(B).fill(T);
  const y = lstmRecurrence(tf.reshape(proj, [B, T, G]) as tf.Tensor3D, p.whh as tf.Tensor2D, lengths, reverse); // B x (T+1) x H
  const h = tf.reshape(tf.slice(y, [0, T, 0], [B, 1, H]), [B, H]) as tf.Tensor2D;
  if (!needOutputs) return { h };
  const outputs = tf.slice(y, [0, 0, 0], [B, T, H]) as tf.Tensor3D;
  return { h, outputs };
}

function runLayers(
  x: tf.Tensor3D,
  ctx: ForwardCtx,
  o: Required<RnnOptions>,
  params: DirParams[][],
  runDir: (x: tf.Tensor3D, p: DirParams, plan: StepPlan, reverse: boolean, needOutputs: boolean) => DirResult,
  opts: RnnApplyOptions,
  path: string,
): RnnResult {
  if (x.rank !== 3 || x.shape[2] !== o.inputSize) {
    throw new Error(`${path}: expected B x T x ${o.inputSize} input, got [${x.shape.join(', ')}]`);
  }
  const [B, T] = x.shape;
  const plan = planSteps(B, T, opts.lengths);
  const hN: tf.Tensor2D[] = [];
  const cN: tf.Tensor2D[] = [];
  let input = x;
  let outputs: tf.Tensor3D | undefined;
  for (let l = 0; l < o.numLayers; l++) {
    const isLast = l === o.numLayers - 1;
    const needOutputs = !isLast || opts.returnOutputs === true;
    const dirOuts: tf.Tensor3D[] = [];
    params[l]!.forEach((p, d) => {
      const r = runDir(input, p, plan, d === 1, needOutputs);
      hN.push(r.h);
      if (r.c) cN.push(r.c);
      if (r.outputs) dirOuts.push(r.outputs);
    });
    if (needOutputs) {
      outputs = dirOuts.length === 1 ? dirOuts[0]! : (tf.concat(dirOuts, 2) as tf.Tensor3D);
      if (!isLast) input = dropout(outputs, o.dropout, ctx) as tf.Tensor3D;
    }
  }
  return {
    hN,
    ...(cN.length === hN.length ? { cN } : {}),
    last: hN[hN.length - 1]!,
    ...(opts.returnOutputs && outputs ? { outputs } : {}),
  };
}

/**
 * nn.LSTM(batch_first=True). Gate order i, f, g, o. impl 'fused' runs the recurrence as one custom-gradient kernel
 * over Float32Arrays (same maths, far fewer tfjs kernel dispatches); 'ops' builds it from tfjs ops per step.
 * With impl 'fused', cN is not returned.
 */
export function createLstm(store: ParamStore, path: string, options: RnnOptions & { impl?: LstmImpl }): Rnn {
  const o = resolveOptions(options);
  const params = createRnnParams(store, path, o, 4);
  const impl = options.impl ?? defaultLstmImpl;
  return {
    path,
    options: o,
    apply: (x, ctx, opts = {}) => runLayers(x, ctx, o, params, impl === 'fused' ? lstmDirectionFused : lstmDirectionOps, opts, path),
  };
}

/** Default LSTM implementation for createLstm (set from benchmarks / options; see bench/nn.mjs). */
export let defaultLstmImpl: LstmImpl = 'fused';
export function setDefaultLstmImpl(impl: LstmImpl): void {
  defaultLstmImpl = impl;
}

function gruDirectionOps(x: tf.Tensor3D, p: DirParams, plan: StepPlan, reverse: boolean, needOutputs: boolean): DirResult {
  const [B] = x.shape;
  const H = p.whh.shape[1]!;
  const steps = tf.unstack(inputProjection(x, p, false)) as tf.Tensor2D[];
  const whhT = tf.transpose(p.whh) as tf.Tensor2D;
  let h = tf.zeros([B, H]) as tf.Tensor2D;
  const outs: (tf.Tensor2D | undefined)[] = new Array(plan.T).fill(undefined);
  for (const t of stepOrder(plan, reverse)) {
    let hh: tf.Tensor = tf.matMul(h, whhT);
    if (p.bhh) hh = tf.add(hh, p.bhh);
    const [xr, xz, xn] = tf.split(steps[t]!, 3, 1);
    const [hr, hz, hn] = tf.split(hh, 3, 1);
    const r = tf.sigmoid(tf.add(xr!, hr!));
    const z = tf.sigmoid(tf.add(xz!, hz!));
    const n = tf.tanh(tf.add(xn!, tf.mul(r, hn!)));
    const hNew = tf.add(n, tf.mul(z, tf.sub(h, n))) as tf.Tensor2D; // (1-z)*n + z*h
    if (t >= plan.minLen) {
      const m = stepMask(plan, t, H);
      h = tf.where(m, hNew, h);
      if (needOutputs) outs[t] = tf.where(m, hNew, tf.zerosLike(hNew));
    } else {
      h = hNew;
      if (needOutputs) outs[t] = hNew;
    }
  }
  return { h, ...(needOutputs ? { outputs: stackOutputs(outs, B, H) } : {}) };
}

/** nn.GRU(batch_first=True). Gate order r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)). */
export function createGru(store: ParamStore, path: string, options: RnnOptions): Rnn {
  const o = resolveOptions(options);
  const params = createRnnParams(store, path, o, 3);
  return { path, options: o, apply: (x, ctx, opts = {}) => runLayers(x, ctx, o, params, gruDirectionOps, opts, path) };
}
