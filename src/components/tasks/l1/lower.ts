// Lowering of task 'l1', shared with 'mse': mean over the batch of |y_hat - y| (or its square) of head `head` against
// label `target`, times the task weight; the same loss for validation when the task counts in the validation Loss.
// Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { IrTask } from '../../../compiler/ir/types.js';
import type { L1Task, MseTask } from '../../../compiler/spec/types.generated.js';
import { defineTaskLowering } from '../../../runtime/lower/node.js';
import type { TaskRuntime } from '../../../runtime/lower/types.js';
import { headOutput, labelColumn } from '../../../runtime/lower/task-inputs.js';

export function lowerRegressionTask(task: IrTask<L1Task | MseTask>, kind: 'l1' | 'mse'): TaskRuntime {
  const { head, target } = task.config;
  const w = task.weight;
  const loss = (out: Parameters<TaskRuntime['trainLoss']>[0], batch: Parameters<TaskRuntime['trainLoss']>[1]): tf.Scalar =>
    tf.tidy(() => {
      const l = regressionLoss(headOutput(out, head, task.name), labelColumn(batch, target, task.name), kind);
      return (w === 1 ? l : tf.mul(l, w)) as tf.Scalar;
    });
  const rt: TaskRuntime = { name: task.name, type: task.type, trainLoss: (out, batch) => loss(out, batch) };
  if (task.validLoss) rt.evalLoss = loss;
  return rt;
}

/** mean_i f(yhat_i - y_i) over a [B, 1] (or [B]) prediction. */
export function regressionLoss(yHat: tf.Tensor, y: Float32Array, kind: 'l1' | 'mse'): tf.Scalar {
  const diff = tf.sub(tf.reshape(yHat, [-1]), tf.tensor1d(y));
  return tf.mean(kind === 'l1' ? tf.abs(diff) : tf.square(diff)) as tf.Scalar;
}

export default defineTaskLowering<L1Task>((task) => lowerRegressionTask(task, 'l1'));
