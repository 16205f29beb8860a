// Maths only the bert encoder uses: BERT-MAG's Multimodal Adaptation Gate, its embeddings hook (MMSA's
// models/singleTask/BERT_MAG.py, class MAG), shifting every token's embedding by a gated acoustic/visual displacement
// whose norm is capped relative to the embedding's. Phase 6 (lower) builds it; phase 7 runs it inside BERT's forward.
import * as tf from '@tensorflow/tfjs';
import { normalInit, zerosInit } from '../../../runtime/nn/init.js';
import { createLayerNorm, createLinear, dropout, type Linear } from '../../../runtime/nn/layers.js';
import { joinPath, type ForwardCtx, type ParamStore } from '../../../runtime/nn/params.js';
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
