// Lowering of task 'cmd' (MISA's CMD, trains/singleTask/MISA.py): for x, y [B, d], ||mean x - mean y||_2 plus, for
// k = 2..K, ||E[(x - mean x)^k] - E[(y - mean y)^k]||_2 (means over the batch); averaged over every input pair (i < j),
// times the task weight. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { CmdTask } from '../../../compiler/spec/types.generated.js';
import { defineTaskLowering } from '../../../runtime/lower/node.js';
import { nodeOutput } from '../../../runtime/lower/task-inputs.js';
import type { TaskRuntime } from '../../../runtime/lower/types.js';

/** MISA's matchnorm: sqrt(sum((a - b)^2)), as `summed ** 0.5`; TFR-Net's adds 1e-12 under the root (`eps`). */
function matchNorm(a: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const s = tf.sum(tf.square(tf.sub(a, b)));
  return tf.sqrt(eps === 0 ? s : tf.add(s, eps));
}

export function cmdLoss(x: tf.Tensor, y: tf.Tensor, moments: number, eps = 0): tf.Scalar {
  return tf.tidy(() => {
    const mx = tf.mean(x, 0);
    const my = tf.mean(y, 0);
    const sx = tf.sub(x, mx);
    const sy = tf.sub(y, my);
    let total = matchNorm(mx, my, eps);
    for (let k = 2; k <= moments; k++) total = tf.add(total, matchNorm(tf.mean(tf.pow(sx, k), 0), tf.mean(tf.pow(sy, k), 0), eps));
    return total as tf.Scalar;
  });
}

export default defineTaskLowering<CmdTask>((task) => {
  const refs = task.inputs ?? [];
  const { moments } = task.config;
  const w = task.weight;
  const loss: TaskRuntime['trainLoss'] = (out) =>
    tf.tidy(() => {
      const xs = refs.map((r) => nodeOutput(out, r, task.name));
      const terms: tf.Tensor[] = [];
      for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++) terms.push(cmdLoss(xs[i]!, xs[j]!, moments));
      const l = tf.div(tf.addN(terms), terms.length);
      return (w === 1 ? l : tf.mul(l, w)) as tf.Scalar;
    });
  const rt: TaskRuntime = { name: task.name, type: task.type, trainLoss: loss };
  if (task.validLoss) rt.evalLoss = (out, batch) => loss(out, batch, 0);
  return rt;
});
