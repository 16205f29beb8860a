// Lowering of task 'diff' (MISA's DiffLoss, trains/singleTask/MISA.py): both inputs flattened per row, centred over
// the batch, divided by their row norms (+1e-6; the norms carry no gradient, as MISA detaches them), then the mean of
// the squared entries of x1^T x2, times the task weight. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { DiffTask } from '../../../compiler/spec/types.generated.js';
import { defineTaskLowering } from '../../../runtime/lower/node.js';
import { nodeOutput } from '../../../runtime/lower/task-inputs.js';
import type { TaskRuntime } from '../../../runtime/lower/types.js';

/** Centred rows divided by their (constant) L2 norms. */
function normalised(x: tf.Tensor): tf.Tensor2D {
  const B = x.shape[0]!;
  const flat = tf.reshape(x, [B, -1]) as tf.Tensor2D;
  const c = tf.sub(flat, tf.mean(flat, 0, true));
  // A detached norm: computed, then rebuilt as a constant the gradient does not flow through.
  const norm = tf.tensor2d(tf.norm(c, 2, 1, true).dataSync(), [B, 1]);
  return tf.div(c, tf.add(norm, 1e-6)) as tf.Tensor2D;
}

export function diffLoss(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.matMul(normalised(a), normalised(b), true, false))) as tf.Scalar);
}

export default defineTaskLowering<DiffTask>((task) => {
  const [a, b] = task.inputs ?? [];
  const w = task.weight;
  const loss: TaskRuntime['trainLoss'] = (out) =>
    tf.tidy(() => {
      const l = diffLoss(nodeOutput(out, a!, task.name), nodeOutput(out, b!, task.name));
      return (w === 1 ? l : tf.mul(l, w)) as tf.Scalar;
    });
  const rt: TaskRuntime = { name: task.name, type: task.type, trainLoss: loss };
  if (task.validLoss) rt.evalLoss = (out, batch) => loss(out, batch, 0);
  return rt;
});
