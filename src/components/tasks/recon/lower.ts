// Lowering of task 'recon' (MISA's MSE module, trains/singleTask/MISA.py): per pair sum((orig - recon)^2) / numel,
// the mean over the pairs, times the task weight; both sides carry gradients (MISA detaches neither). Phase 6.

import * as tf from '@tensorflow/tfjs';
import type { ReconTask } from '../../../compiler/spec/types.generated.js';
import { defineTaskLowering } from '../../../runtime/lower/node.js';
import { nodeOutput } from '../../../runtime/lower/task-inputs.js';
import type { TaskRuntime } from '../../../runtime/lower/types.js';

export function reconLoss(recon: tf.Tensor, orig: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.square(tf.sub(orig, recon))), recon.size) as tf.Scalar);
}

export default defineTaskLowering<ReconTask>((task) => {
  // The references in pair order: [recon 0, orig 0, recon 1, orig 1, ...].
  const refs = task.inputs ?? [];
  const w = task.weight;
  const loss: TaskRuntime['trainLoss'] = (out) =>
    tf.tidy(() => {
      const terms: tf.Tensor[] = [];
      for (let i = 0; i + 1 < refs.length; i += 2) terms.push(reconLoss(nodeOutput(out, refs[i]!, task.name), nodeOutput(out, refs[i + 1]!, task.name)));
      const l = tf.div(tf.addN(terms), terms.length);
      return (w === 1 ? l : tf.mul(l, w)) as tf.Scalar;
    });
  const rt: TaskRuntime = { name: task.name, type: task.type, trainLoss: loss };
  if (task.validLoss) rt.evalLoss = (out, batch) => loss(out, batch, 0);
  return rt;
});
