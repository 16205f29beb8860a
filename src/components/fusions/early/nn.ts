// EF-LSTM's early fusion: per-time-step concatenation of aligned sequences. Phase 6 wires it, phase 7 runs it.
import * as tf from '@tensorflow/tfjs';

/** EF_LSTM early fusion: concatenate B x L x D_m inputs along features (all must share L). */
export function earlyFusion(inputs: readonly tf.Tensor3D[]): tf.Tensor3D {
  const L = inputs[0]?.shape[1];
  for (const x of inputs) if (x.shape[1] !== L) throw new Error(`earlyFusion: sequence lengths differ (${inputs.map((i) => i.shape[1]).join(' vs ')})`);
  return tf.concat(inputs as tf.Tensor3D[], 2) as tf.Tensor3D;
}
