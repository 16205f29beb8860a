// Lowering of task 'node_loss': the mean of the referenced named output (a loss the node computed on this batch),
// times the task weight; the same for validation when the task counts in the validation Loss. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { NodeLossTask } from '../../../compiler/spec/types.generated.js';
import { defineTaskLowering } from '../../../runtime/lower/node.js';
import { nodeOutput } from '../../../runtime/lower/task-inputs.js';
import type { TaskRuntime } from '../../../runtime/lower/types.js';

export default defineTaskLowering<NodeLossTask>((task) => {
  const { input } = task.config;
  const w = task.weight;
  const loss: TaskRuntime['trainLoss'] = (out) =>
    tf.tidy(() => {
      const l = tf.mean(nodeOutput(out, input, task.name));
      return (w === 1 ? l : tf.mul(l, w)) as tf.Scalar;
    });
  const rt: TaskRuntime = { name: task.name, type: task.type, trainLoss: loss };
  if (task.validLoss) rt.evalLoss = (out, batch) => loss(out, batch, 0);
  return rt;
});
