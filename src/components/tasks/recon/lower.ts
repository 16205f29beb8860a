// Lowering of task 'recon': MISA's MSE module (trains/singleTask/MISA.py: per pair sum((orig - recon)^2) / numel, the
// mean over the pairs) or TFR-Net's RECLoss (models/missingTask/TFR_NET/model.py: per pair, on the dropped positions
// m = mask - missing_mask, sum(loss(pred * m, target * m)) / (sum(m over every feature) + 1e-4) plus cmd_weight times
// the CMD of the masked tensors over the same count; the pairs summed with weight_gen_loss; trains/missingTask/
// TFR_NET.py adds it from epoch 2). Times the task weight; both sides carry gradients (neither model detaches). Phase 6.

import * as tf from '@tensorflow/tfjs';
import type { ReconTask } from '../../../compiler/spec/types.generated.js';
import { defineTaskLowering } from '../../../runtime/lower/node.js';
import { nodeOutput } from '../../../runtime/lower/task-inputs.js';
import type { TaskRuntime } from '../../../runtime/lower/types.js';
import { cmdLoss } from '../cmd/lower.js';

export function reconLoss(recon: tf.Tensor, orig: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.square(tf.sub(orig, recon))), recon.size) as tf.Scalar);
}

/**
 * torch's SmoothL1Loss (beta 1), summed: 0.5 d^2 where |d| < 1, |d| - 0.5 elsewhere, written as
 * 0.5 min(|d|, 1)^2 + (|d| - min(|d|, 1)) so the gradient flows without a comparison op on the tape.
 */
function smoothL1Sum(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  const d = tf.abs(tf.sub(a, b));
  const c = tf.minimum(d, 1);
  return tf.sum(tf.add(tf.mul(tf.square(c), 0.5), tf.sub(d, c))) as tf.Scalar;
}

/** TFR-Net's RECLoss for one pair: pred, target [B, T, D]; m [B, T] (1 where the loader dropped a real position). */
export function maskedReconLoss(pred: tf.Tensor, target: tf.Tensor, m: tf.Tensor, loss: 'mse' | 'smooth_l1', cmdWeight: number): tf.Scalar {
  return tf.tidy(() => {
    const me = tf.mul(tf.expandDims(m, -1), tf.onesLike(pred));
    const p = tf.mul(pred, me);
    const t = tf.mul(target, me);
    const count = tf.add(tf.sum(me), 1e-4);
    const base = loss === 'smooth_l1' ? smoothL1Sum(p, t) : tf.sum(tf.square(tf.sub(p, t)));
    let l = tf.div(base, count);
    if (cmdWeight !== 0) {
      const d = pred.shape[pred.shape.length - 1]!;
      l = tf.add(l, tf.div(tf.mul(cmdLoss(tf.reshape(p, [-1, d]), tf.reshape(t, [-1, d]), 3, 1e-12), cmdWeight), count));
    }
    return l as tf.Scalar;
  });
}

export default defineTaskLowering<ReconTask>((task) => {
  // The references in order: [recon 0, orig 0, recon 1, orig 1, ..., mask 0, missing mask 0, mask 1, ...].
  const refs = task.inputs ?? [];
  const { loss: kind = 'mse', masks, cmd_weight: cmdWeight = 0, pair_weights: pairWeights, from_epoch: fromEpoch = 1 } = task.config;
  const nPairs = task.config.pairs.length;
  const w = task.weight;
  const compute = (out: Parameters<TaskRuntime['trainLoss']>[0]): tf.Scalar =>
    tf.tidy(() => {
      const terms: tf.Tensor[] = [];
      for (let i = 0; i < nPairs; i++) {
        const pred = nodeOutput(out, refs[2 * i]!, task.name);
        const target = nodeOutput(out, refs[2 * i + 1]!, task.name);
        let t: tf.Tensor;
        if (masks) {
          const m = tf.sub(nodeOutput(out, refs[2 * nPairs + 2 * i]!, task.name), nodeOutput(out, refs[2 * nPairs + 2 * i + 1]!, task.name));
          t = maskedReconLoss(pred, target, m, kind, cmdWeight);
        } else if (kind === 'smooth_l1') {
          t = tf.div(smoothL1Sum(pred, target), pred.size);
        } else {
          t = reconLoss(pred, target);
        }
        terms.push(pairWeights ? tf.mul(t, pairWeights[i] ?? 0) : t);
      }
      const l = pairWeights ? tf.addN(terms) : tf.div(tf.addN(terms), terms.length);
      return (w === 1 ? l : tf.mul(l, w)) as tf.Scalar;
    });
  const rt: TaskRuntime = { name: task.name, type: task.type, trainLoss: (out, _batch, epoch) => (epoch >= fromEpoch ? compute(out) : tf.scalar(0)) };
  if (task.validLoss) rt.evalLoss = (out) => compute(out);
  return rt;
});
