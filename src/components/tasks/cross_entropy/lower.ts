// Lowering of task 'cross_entropy': softmax cross entropy of a logits head against integer class labels, mean over
// the batch, times the task weight. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import { MmsaError } from '../../../errors.js';
import type { CrossEntropyTask } from '../../../compiler/spec/types.generated.js';
import { defineTaskLowering } from '../../../runtime/lower/node.js';
import type { TaskRuntime } from '../../../runtime/lower/types.js';
import { headOutput, labelColumn } from '../../../runtime/lower/task-inputs.js';

export default defineTaskLowering<CrossEntropyTask>((task) => {
  const { head, target } = task.config;
  const w = task.weight;
  const loss: TaskRuntime['trainLoss'] = (out, batch) => {
    const logits = headOutput(out, head, task.name);
    const y = labelColumn(batch, target, task.name);
    const [B, C] = logits.shape as [number, number];
    // One-hot built in JS: labels carry no gradient, and tf.oneHot needs an int tensor round trip.
    const onehot = new Float32Array(B * C);
    for (let i = 0; i < B; i++) {
      const c = y[i]!;
      if (!Number.isInteger(c) || c < 0 || c >= C) {
        throw new MmsaError('MSA6712', `task '${task.name}': label '${target}' of batch row ${i} is ${c}, not a class index in 0..${C - 1}`, {
          hint: 'cross_entropy needs integer class labels; use l1/mse for regression labels',
          details: { task: task.name, target, row: i },
        });
      }
      onehot[i * C + c] = 1;
    }
    return tf.tidy(() => {
      const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.tensor2d(onehot, [B, C])), 1));
      const l = tf.mean(nll);
      return (w === 1 ? l : tf.mul(l, w)) as tf.Scalar;
    });
  };
  const rt: TaskRuntime = { name: task.name, type: task.type, trainLoss: loss };
  if (task.validLoss) rt.evalLoss = (out, batch) => loss(out, batch, 0);
  return rt;
});
