// MCTN's cyclic translation (models/singleTask/MCTN.py) as tfjs blocks: bidirectional LSTM encoders, attention
// decoders run with teacher forcing, the text -> vision -> text cycle and the joint -> audio translation. Phase 6
// (lower) builds it; phase 7 runs it.
import * as tf from '@tensorflow/tfjs';
import { rnnInit } from '../../../runtime/nn/init.js';
import { createLinear, type Linear } from '../../../runtime/nn/layers.js';
import { joinPath, type ForwardCtx, type ParamStore } from '../../../runtime/nn/params.js';
import { createLstm, type Rnn } from '../../../runtime/nn/rnn.js';

/**
 * Every tensor here is batch-first [N, T, D]. MMSA's modules are time-major and MCTN hands them batch-major tensors,
 * so they run along the batch axis; that behaviour is the same computation on the transposed tensors (N = time steps,
 * T = samples), which is how the caller reproduces it.
 */
export interface Seq2SeqEncoder {
  rnn: Rnn;
  fc: Linear;
  /** join = forward + backward outputs [N, T, H]; s = tanh(fc(h_fwd + h_bwd)) [N, H]. */
  apply(x: tf.Tensor3D, ctx: ForwardCtx): { join: tf.Tensor3D; s: tf.Tensor2D };
}

export function createSeq2SeqEncoder(store: ParamStore, path: string, inSize: number, hidden: number): Seq2SeqEncoder {
  const rnn = createLstm(store, joinPath(path, 'rnn'), { inputSize: inSize, hiddenSize: hidden, bidirectional: true });
  const fc = createLinear(store, joinPath(path, 'fc'), hidden, hidden, { bias: false });
  return {
    rnn,
    fc,
    apply(x, ctx) {
      const r = rnn.apply(x, ctx, { returnOutputs: true });
      const out = r.outputs!;
      const [N, T] = out.shape;
      const fwd = tf.slice(out, [0, 0, 0], [N, T, hidden]);
      const bwd = tf.slice(out, [0, 0, hidden], [N, T, hidden]);
      const join = tf.add(fwd, bwd) as tf.Tensor3D;
      const s = tf.tanh(fc.apply(tf.add(r.hN[0]!, r.hN[1]!))) as tf.Tensor2D;
      return { join, s };
    },
  };
}

interface CellDir {
  wih: tf.Variable;
  whh: tf.Variable;
  bih: tf.Variable;
  bhh: tf.Variable;
}

export interface Seq2SeqDecoder {
  /**
   * Teacher-forced decoding of `trg` [N, T2, out] over the encoder's `join` [N, T, H] from state `s`: step t (1..T2-1)
   * reads trg[:, t-1] and predicts outputs[:, t]; outputs[:, 0] stays zero, as in MMSA.
   */
  decode(trg: tf.Tensor3D, s: tf.Tensor2D, join: tf.Tensor3D): tf.Tensor3D;
}

/**
 * MMSA's Decoder with its Attention: energy = tanh(attn([s; join_t])), a = softmax_t(v(energy)), c = sum_t a_t join_t;
 * a 1-step bidirectional LSTM from a zero state reads [input; c], its two directions summed give both the output and
 * the next s; pred = fc_out([output; c]). The LSTM starts from zero every step (MMSA passes no state), so its hidden
 * weights meet only zeros; only s carries the recurrence.
 */
export function createSeq2SeqDecoder(store: ParamStore, path: string, outSize: number, hidden: number): Seq2SeqDecoder {
  const H = hidden;
  const attn = createLinear(store, joinPath(path, 'attention', 'attn'), 2 * H, H, { bias: false });
  const v = createLinear(store, joinPath(path, 'attention', 'v'), H, 1, { bias: false });
  const rnnPath = joinPath(path, 'rnn');
  const init = rnnInit(H);
  const dirs: CellDir[] = ['', '_reverse'].map((sfx) => ({
    wih: store.param(rnnPath, `weight_ih_l0${sfx}`, [4 * H, outSize + H], init),
    whh: store.param(rnnPath, `weight_hh_l0${sfx}`, [4 * H, H], init),
    bih: store.param(rnnPath, `bias_ih_l0${sfx}`, [4 * H], init),
    bhh: store.param(rnnPath, `bias_hh_l0${sfx}`, [4 * H], init),
  }));
  const fcOut = createLinear(store, joinPath(path, 'fc_out'), 2 * H, outSize);
  return {
    decode(trg, s0, join) {
      const [N, T2, D] = trg.shape;
      const T = join.shape[1];
      // A one-step target (a batch of one along the batch axis, in MMSA's behaviour) has nothing to predict.
      if (T2 < 2) return tf.zeros([N, T2, D]) as tf.Tensor3D;
      // attn([s; join]) = s Ws^T + join Wj^T: the join half once per sequence.
      const ws = tf.slice(attn.weight, [0, 0], [H, H]) as tf.Tensor2D;
      const wj = tf.slice(attn.weight, [0, H], [H, H]) as tf.Tensor2D;
      const joinProj = tf.reshape(tf.matMul(tf.reshape(join, [N * T, H]) as tf.Tensor2D, wj, false, true), [N, T, H]);
      // The inputs are teacher-forced, so their share of the gates is one matMul for all steps (trg[:, 0..T2-2]).
      const inputs = tf.reshape(tf.slice(trg, [0, 0, 0], [N, T2 - 1, D]), [N * (T2 - 1), D]) as tf.Tensor2D;
      const perDir = dirs.map((d) => {
        const wIn = tf.slice(d.wih, [0, 0], [4 * H, D]) as tf.Tensor2D;
        const wC = tf.slice(d.wih, [0, D], [4 * H, H]) as tf.Tensor2D;
        // h0 = 0, so W_hh contributes 0 * W_hh: kept in the graph so its gradient is a zero tensor, as in torch.
        const bias = tf.add(tf.add(d.bih, d.bhh), tf.sum(tf.mul(d.whh, 0), 1));
        const xPart = tf.reshape(tf.add(tf.matMul(inputs, wIn, false, true), bias), [N, T2 - 1, 4 * H]);
        return { xPart, wC };
      });
      const steps: tf.Tensor2D[] = [];
      let s = s0;
      for (let t = 1; t < T2; t++) {
        const energy = tf.tanh(tf.add(joinProj, tf.expandDims(tf.matMul(s, ws, false, true), 1))); // N x T x H
        const scores = tf.reshape(v.apply(energy), [N, T]);
        const a = tf.softmax(scores, -1);
        const c = tf.reshape(tf.matMul(tf.expandDims(a, 1), join), [N, H]) as tf.Tensor2D;
        let out: tf.Tensor2D | undefined;
        for (const d of perDir) {
          const gates = tf.add(tf.reshape(tf.slice(d.xPart, [0, t - 1, 0], [N, 1, 4 * H]), [N, 4 * H]), tf.matMul(c, d.wC, false, true));
          const [gi, , gg, go] = tf.split(gates, 4, 1);
          // Zero initial cell: c1 = sigmoid(i) * tanh(g) (the forget gate multiplies 0).
          const h = tf.mul(tf.sigmoid(go!), tf.tanh(tf.mul(tf.sigmoid(gi!), tf.tanh(gg!)))) as tf.Tensor2D;
          out = out ? (tf.add(out, h) as tf.Tensor2D) : h;
        }
        steps.push(tf.concat([out!, c], 1) as tf.Tensor2D);
        s = out!;
      }
      const preds = tf.reshape(fcOut.apply(tf.stack(steps, 1)), [N, T2 - 1, D]);
      return tf.concat([tf.zeros([N, 1, D]), preds], 1) as tf.Tensor3D;
    },
  };
}

export interface CyclicTranslation {
  /**
   * text, vision, audio [B, L, D_pad] (padded and truncated by the caller), batch-first. Returns the second encoder's
   * joint sequence and the sum of the three translation MSEs (vision, text by the cycle, audio).
   */
  apply(text: tf.Tensor3D, vision: tf.Tensor3D, audio: tf.Tensor3D, ctx: ForwardCtx): { joint: tf.Tensor3D; translationLoss: tf.Scalar };
}

export function createCyclicTranslation(store: ParamStore, path: string, dim: number, hidden: number): CyclicTranslation {
  const encoder1 = createSeq2SeqEncoder(store, joinPath(path, 'encoder1'), dim, hidden);
  const decoder1 = createSeq2SeqDecoder(store, joinPath(path, 'decoder1'), dim, hidden);
  const encoder2 = createSeq2SeqEncoder(store, joinPath(path, 'encoder2'), hidden, hidden);
  const decoder2 = createSeq2SeqDecoder(store, joinPath(path, 'decoder2'), dim, hidden);
  const mse = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.mean(tf.squaredDifference(a, b)) as tf.Scalar;
  return {
    apply(text, vision, audio, ctx) {
      // seq2seq1: text -> vision; the same module translates the predicted vision back to text (the cycle).
      const e1 = encoder1.apply(text, ctx);
      const vision1 = decoder1.decode(vision, e1.s, e1.join);
      const back = encoder1.apply(vision1, ctx);
      const text1 = decoder1.decode(text, back.s, back.join);
      // seq2seq2: the first encoder's joint sequence -> audio.
      const e2 = encoder2.apply(e1.join, ctx);
      const audio1 = decoder2.decode(audio, e2.s, e2.join);
      const translationLoss = tf.addN([mse(vision1, vision), mse(text1, text), mse(audio1, audio)]) as tf.Scalar;
      return { joint: e2.join, translationLoss };
    },
  };
}
