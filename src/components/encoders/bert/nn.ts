// Maths only the bert encoder's hooks use: BERT-MAG's Multimodal Adaptation Gate on the embeddings (MMSA's
// models/singleTask/BERT_MAG.py, class MAG) and CENET's cross-modal enhancement before an encoder layer (MMSA's
// models/singleTask/CENET.py, class CE). Phase 6 (lower) builds them; phase 7 runs them inside BERT's forward.
import * as tf from '@tensorflow/tfjs';
import { normalInit, zerosInit } from '../../../runtime/nn/init.js';
import { createLayerNorm, createLinear, dropout, type Linear } from '../../../runtime/nn/layers.js';
import { joinPath, type ForwardCtx, type ParamStore } from '../../../runtime/nn/params.js';
import { CE_MODULE } from './ce-shape.js';
import { MAG_MODULE } from './mag-shape.js';

export interface Mag {
  /** e' = Dropout(LayerNorm(alpha * h + e)); e [B, L, H], audio [B, L, Da], vision [B, L, Dv]. */
  apply(embedding: tf.Tensor3D, audio: tf.Tensor, vision: tf.Tensor, ctx: ForwardCtx): tf.Tensor3D;
}

/** L2 norm over the last axis of a sum of squares, kept off 0 so that the gradient stays finite at an all-zero row. */
function normOf(sumSq: tf.Tensor): tf.Tensor {
  return tf.sqrt(tf.maximum(sumSq, 1e-30));
}

/**
 * Registers MAG's parameters under `<node>.MAG` with MMSA's names. Linear weights start as BERT's init_weights leaves
 * them (normal(0, initializer_range), biases 0), the LayerNorm at 1 / 0 with torch's eps 1e-5.
 */
export function createMag(
  store: ParamStore,
  node: string,
  dims: { hidden: number; audio: number; vision: number },
  opts: { betaShift: number; dropoutProb: number; initializerRange: number },
): Mag {
  const H = dims.hidden;
  const path = (m: string) => joinPath(node, `${MAG_MODULE}.${m}`);
  const init = { weightInit: normalInit(0, opts.initializerRange), biasInit: zerosInit };
  const lin = (m: string, inF: number): Linear => createLinear(store, path(m), inF, H, init);
  const Whv = lin('W_hv', dims.vision + H);
  const Wha = lin('W_ha', dims.audio + H);
  const Wv = lin('W_v', dims.vision);
  const Wa = lin('W_a', dims.audio);
  const ln = createLayerNorm(store, path('LayerNorm'), H);
  const eps = 1e-6;
  return {
    apply(e, audio, vision, ctx) {
      const gv = tf.relu(Whv.apply(tf.concat([vision, e], -1)));
      const ga = tf.relu(Wha.apply(tf.concat([audio, e], -1)));
      const h = tf.add(tf.mul(gv, Wv.apply(vision)), tf.mul(ga, Wa.apply(audio)));
      const emNorm = normOf(tf.sum(tf.square(e), -1));
      const hSq = tf.sum(tf.square(h), -1);
      // A zero displacement gets norm 1 (MMSA), so the ratio below stays finite. step() marks it (sums of squares are
      // never negative) with a gradient tfjs knows (zero), where equal() has none.
      const isZero = tf.sub(1, tf.step(hSq));
      const hmNorm = tf.add(isZero, tf.mul(tf.sub(1, isZero), normOf(hSq)));
      const alpha = tf.expandDims(tf.minimum(tf.mul(tf.div(emNorm, tf.add(hmNorm, eps)), opts.betaShift), 1), -1);
      return dropout(ln.apply(tf.add(tf.mul(alpha, h), e)), opts.dropoutProb, ctx) as tf.Tensor3D;
    },
  };
}

export interface Ce {
  /** h' = h + cat_connect([SA_hv(h, V); SA_ha(h, A)]); h [B, L, H], audio [B, Ta, Da], vision [B, Tv, Dv]. */
  apply(hidden: tf.Tensor3D, audio: tf.Tensor, vision: tf.Tensor): tf.Tensor3D;
}

/**
 * Registers CE's parameters under `<node>.encoder.CE` with MMSA's names, initialised as CENET's init_weights leaves
 * them (normal(0, initializer_range), biases 0). CE has no dropout and reads no mask: every token attends over every
 * audio and video step, padding included, as in MMSA.
 */
export function createCe(store: ParamStore, node: string, dims: { hidden: number; audio: number; vision: number }, opts: { initializerRange: number }): Ce {
  const H = dims.hidden;
  const init = { weightInit: normalInit(0, opts.initializerRange), biasInit: zerosInit };
  const lin = (m: string, inF: number, outF = H): Linear => createLinear(store, joinPath(node, `${CE_MODULE}.${m}`), inF, outF, init);
  const transform = (name: string, inF: number) => {
    const first = lin(`${name}.0`, inF);
    const second = lin(`${name}.2`, H);
    return (x: tf.Tensor) => second.apply(tf.relu(first.apply(x)));
  };
  const visual = transform('visual_transform', dims.vision);
  const acoustic = transform('acoustic_transform', dims.audio);
  // CENET's SelfAttention with one head: the scores are not scaled by 1/sqrt(d) but multiplied by 8 before softmax.
  const attention = (name: string) => {
    const [q, k, v] = (['Wq', 'Wk', 'Wv'] as const).map((w) => lin(`${name}.${w}`, H));
    return (text: tf.Tensor, x: tf.Tensor) => {
      const scores = tf.matMul(q!.apply(text) as tf.Tensor3D, k!.apply(x) as tf.Tensor3D, false, true);
      return tf.matMul(tf.softmax(tf.mul(scores, 8)) as tf.Tensor3D, v!.apply(x) as tf.Tensor3D);
    };
  };
  const hv = attention('hv');
  const ha = attention('ha');
  const cat = lin('cat_connect', 2 * H);
  return {
    apply(hidden, audio, vision) {
      const shift = cat.apply(tf.concat([hv(hidden, visual(vision)), ha(hidden, acoustic(audio))], -1));
      return tf.add(shift, hidden) as tf.Tensor3D;
    },
  };
}
