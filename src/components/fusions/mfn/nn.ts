// The Memory Fusion Network family's maths (MFN, Graph-MFN, MFM's embedded MFN): LSTMCells run over whole sequences,
// the multi-view gated memory, and a linear scan for the cell states. Phase 6 wires it, phase 7 runs it.
//
// MMSA's MFN (models/singleTask/MFN.py) steps three LSTMCells and the memory together, one time step at a time. The
// LSTMCells never read the memory, and the attention and c-hat networks read only the LSTM states, so everything but
// the memory update runs over all steps at once here: each LSTM through the fused recurrence, the attention over
// B x T rows. Only the gates that read the previous memory stay a per-step loop. The maths is MMSA's.

import * as tf from '@tensorflow/tfjs';
import { dropout, dropoutMask, linear, type Linear } from '../../../runtime/nn/layers.js';
import { lstmRecurrence } from '../../../runtime/nn/lstm-fused.js';
import { rnnInit } from '../../../runtime/nn/init.js';
import type { ForwardCtx, ParamStore } from '../../../runtime/nn/params.js';

/** nn.LSTMCell(in, hidden): `weight_ih` [4H, in], `weight_hh` [4H, H], `bias_ih`, `bias_hh` [4H] (gates i, f, g, o). */
export interface LstmCell {
  hidden: number;
  wih: tf.Variable;
  whh: tf.Variable;
  bih: tf.Variable;
  bhh: tf.Variable;
}

export function createLstmCell(store: ParamStore, path: string, inSize: number, hidden: number): LstmCell {
  const init = rnnInit(hidden);
  return {
    hidden,
    wih: store.param(path, 'weight_ih', [4 * hidden, inSize], init),
    whh: store.param(path, 'weight_hh', [4 * hidden, hidden], init),
    bih: store.param(path, 'bias_ih', [4 * hidden], init),
    bhh: store.param(path, 'bias_hh', [4 * hidden], init),
  };
}

export interface CellStates {
  /** h_0 .. h_{T-1}, B x T x H. */
  h: tf.Tensor3D;
  /** h_{-1} .. h_{T-2} (zeros first), B x T x H. */
  hPrev: tf.Tensor3D;
  /** c_0 .. c_{T-1}, B x T x H (only when asked for). */
  c?: tf.Tensor3D;
  /** h_{T-1}, B x H. */
  last: tf.Tensor2D;
}

/** Shifts a B x T x H sequence one step later in time, with zeros at step 0 (the zero initial state). */
export function shiftRight(x: tf.Tensor3D): tf.Tensor3D {
  const [B, T, H] = x.shape;
  if (T === 1) return tf.zerosLike(x);
  return tf.concat([tf.zeros([B, 1, H]), tf.slice(x, [0, 0, 0], [B, T - 1, H])], 1) as tf.Tensor3D;
}

/**
 * An LSTMCell stepped over every time step from zero states (all rows run all T steps, no packing), as MMSA's loop
 * does. The recurrence is the fused LSTM kernel; the cell states, which the kernel keeps to itself, are recomputed
 * from its outputs when asked for (the gates are a function of x_t and h_{t-1}, and c_t = f_t c_{t-1} + i_t g_t is a
 * linear scan), so gradients reach the weights through both paths exactly.
 */
export function runLstmCell(x: tf.Tensor3D, cell: LstmCell, opts: { cells?: boolean } = {}): CellStates {
  const [B, T] = x.shape;
  const H = cell.hidden;
  const xproj = tf.add(tf.add(linear(x, cell.wih), cell.bih), cell.bhh) as tf.Tensor3D;
  const y = lstmRecurrence(xproj, cell.whh as tf.Tensor2D, new Int32Array(B).fill(T), false);
  const h = tf.slice(y, [0, 0, 0], [B, T, H]) as tf.Tensor3D;
  const last = tf.reshape(tf.slice(y, [0, T, 0], [B, 1, H]), [B, H]) as tf.Tensor2D;
  const hPrev = shiftRight(h);
  if (!opts.cells) return { h, hPrev, last };
  const pre = tf.add(xproj, linear(hPrev, cell.whh));
  const i = tf.sigmoid(tf.slice(pre, [0, 0, 0], [B, T, H]));
  const f = tf.sigmoid(tf.slice(pre, [0, 0, H], [B, T, H]));
  const g = tf.tanh(tf.slice(pre, [0, 0, 2 * H], [B, T, H]));
  const c = linearScan(f as tf.Tensor3D, tf.mul(i, g) as tf.Tensor3D);
  return { h, hPrev, c, last };
}

/** s_t = a_t * s_{t-1} + b_t over axis 1 of B x T x H, s_{-1} = 0: one op (loops over Float32Arrays), with its gradient. */
export function linearScan(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const [B, T, H] = a.shape;
  const scan = (av: Float32Array, bv: Float32Array): Float32Array => {
    const s = new Float32Array(B * T * H);
    for (let r = 0; r < B; r++) {
      const base = r * T * H;
      for (let q = 0; q < H; q++) s[base + q] = bv[base + q]!;
      for (let t = 1; t < T; t++) {
        const o = base + t * H;
        for (let q = 0; q < H; q++) s[o + q] = av[o + q]! * s[o - H + q]! + bv[o + q]!;
      }
    }
    return s;
  };
  if (!tf.engine().isTapeOn()) return tf.tensor3d(scan(a.dataSync() as Float32Array, b.dataSync() as Float32Array), [B, T, H]);
  const op = tf.customGrad(((ta: tf.Tensor, tb: tf.Tensor, save: tf.GradSaveFunc) => {
    const av = ta.dataSync() as Float32Array;
    const s = scan(av, tb.dataSync() as Float32Array);
    const value = tf.tensor3d(s, [B, T, H]);
    save([ta, value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const ga = saved[0]!.dataSync() as Float32Array;
        const gs = saved[1]!.dataSync() as Float32Array;
        const d = dy.dataSync() as Float32Array;
        const da = new Float32Array(B * T * H);
        const db = new Float32Array(B * T * H);
        for (let r = 0; r < B; r++) {
          const base = r * T * H;
          // g_t = dL/ds_t including the path through s_{t+1} = a_{t+1} s_t + ...
          for (let t = T - 1; t >= 0; t--) {
            const o = base + t * H;
            for (let q = 0; q < H; q++) {
              const g = d[o + q]! + (t + 1 < T ? ga[o + H + q]! * db[o + H + q]! : 0);
              db[o + q] = g;
              da[o + q] = t > 0 ? g * gs[o - H + q]! : 0;
            }
          }
        }
        return [tf.tensor3d(da, [B, T, H]), tf.tensor3d(db, [B, T, H])];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad<tf.Tensor3D>>[0]);
  return op(a, b) as tf.Tensor3D;
}

/** A two-Linear network fc2(dropout(relu(fc1(x)))) as MMSA's att/gamma/out blocks write it. */
export interface TwoLayer {
  fc1: Linear;
  fc2: Linear;
  dropout: number;
}

export function applyTwoLayer(n: TwoLayer, x: tf.Tensor, ctx: ForwardCtx): tf.Tensor {
  return n.fc2.apply(dropout(tf.relu(n.fc1.apply(x)), n.dropout, ctx));
}

/**
 * MFN's multi-view gated memory over all steps: with both_t = [attended_t; mem_{t-1}],
 * gamma_k = sigmoid(gamma_k.fc2(dropout(relu(gamma_k.fc1(both_t))))) and mem_t = gamma_1 * mem_{t-1} + gamma_2 * cHat_t,
 * from mem_{-1} = 0. Returns mem_{T-1} (B x mem).
 * The gammas' first Linear is split into the part reading attended_t (computed for all steps at once) and the part
 * reading the memory (the per-step loop).
 */
export function gatedMemory(attended: tf.Tensor3D, cHat: tf.Tensor3D, gamma1: TwoLayer, gamma2: TwoLayer, ctx: ForwardCtx): tf.Tensor2D {
  const [B, T, A] = attended.shape;
  const M = cHat.shape[2];
  const attT = tf.transpose(attended, [1, 0, 2]);
  const gates = [gamma1, gamma2].map((g) => {
    const hdim = g.fc1.outFeatures;
    const wa = tf.slice(g.fc1.weight, [0, 0], [hdim, A]);
    const wm = tf.slice(g.fc1.weight, [0, A], [hdim, M]) as tf.Tensor2D;
    const pre = tf.unstack(linear(attT, wa, g.fc1.bias)) as tf.Tensor2D[];
    const masks = ctx.training && g.dropout > 0 ? (tf.unstack(dropoutMask([T, B, hdim], g.dropout, ctx)) as tf.Tensor2D[]) : undefined;
    return { g, wm, pre, masks };
  });
  const cHatSteps = tf.unstack(tf.transpose(cHat, [1, 0, 2])) as tf.Tensor2D[];
  let mem: tf.Tensor2D | undefined;
  for (let t = 0; t < T; t++) {
    const [g1, g2] = gates.map(({ g, wm, pre, masks }) => {
      let z: tf.Tensor = mem ? tf.add(pre[t]!, tf.matMul(mem, wm, false, true)) : pre[t]!;
      z = tf.relu(z);
      if (masks) z = tf.mul(z, masks[t]!);
      return tf.sigmoid(g.fc2.apply(z));
    }) as [tf.Tensor2D, tf.Tensor2D];
    const write = tf.mul(g2, cHatSteps[t]!);
    mem = (mem ? tf.add(tf.mul(g1, mem), write) : write) as tf.Tensor2D;
  }
  return mem ?? (tf.zeros([B, M]) as tf.Tensor2D);
}
