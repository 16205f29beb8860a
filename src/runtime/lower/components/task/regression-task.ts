// Shared runtime of the single-head regression losses (l1, mse): loss on head `head` against label `target`,
// weighted; the same loss for validation when the task counts in the validation Loss. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { IrTask } from '../../../../compiler/ir/types.js';
import { cfgString } from '../../node.js';
import type { TaskRuntime } from '../../types.js';
import { headOutput, labelColumn, regressionLoss } from './losses.js';

export function lowerRegressionTask(task: IrTask, kind: 'l1' | 'mse'): TaskRuntime {
  const head = task.heads[0] ?? cfgString(task, 'head');
  const target = task.targets[0] ?? cfgString(task, 'target', 'M');
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
