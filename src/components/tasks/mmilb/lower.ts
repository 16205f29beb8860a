// Lowering of task 'mmilb' (MMSA's trains/singleTask/MMIM.py): weight * (-lld - [i > mem_size] H), where i counts this
// task's training batches within the epoch and H sums entropyH over the listed projections, each over this batch's
// rows stacked under the previous mem_size batches' detached rows. Phase 6 (lower).

import * as tf from '@tensorflow/tfjs';
import type { MmilbTask } from '../../../compiler/spec/types.generated.js';
import { defineTaskLowering } from '../../../runtime/lower/node.js';
import { labelColumn, nodeOutput } from '../../../runtime/lower/task-inputs.js';
import type { TaskRuntime } from '../../../runtime/lower/types.js';
import { entropyH, splitBySign } from './nn.js';

interface Memory {
  pos: tf.Tensor2D;
  neg: tf.Tensor2D;
}

export default defineTaskLowering<MmilbTask>((task) => {
  const c = task.config;
  const w = task.weight;
  // Per projection, the remembered batches (oldest first); emptied at each epoch as MMSA's train_others does.
  let memory: Memory[][] = c.entropy.map(() => []);
  let epochSeen = -1;
  let index = 0;
  const forget = () => {
    for (const list of memory) for (const m of list) tf.dispose([m.pos, m.neg]);
    memory = c.entropy.map(() => []);
  };
  const trainLoss: TaskRuntime['trainLoss'] = (out, batch, epoch) => {
    if (epoch !== epochSeen) {
      forget();
      epochSeen = epoch;
      index = 0;
    }
    const i = index++;
    return tf.tidy(() => {
      let loss = tf.neg(tf.mean(nodeOutput(out, c.lld, task.name)));
      if (c.entropy.length) {
        const labels = labelColumn(batch, c.target, task.name);
        const hs: tf.Scalar[] = [];
        c.entropy.forEach((ref, k) => {
          const { pos, neg } = splitBySign(nodeOutput(out, ref, task.name) as tf.Tensor2D, labels);
          const mem = memory[k]!;
          // MMSA adds -beta * H only from batch index mem_size + 1 (the first full memory is used for H a batch later).
          if (i > c.mem_size) hs.push(entropyH(tf.concat([...mem.map((m) => m.pos), pos]) as tf.Tensor2D, tf.concat([...mem.map((m) => m.neg), neg]) as tf.Tensor2D));
          // Detached copies for the next batches: outside the tape they are constants there.
          const kept = { pos: tf.keep(tf.clone(pos)), neg: tf.keep(tf.clone(neg)) };
          if (mem.length < c.mem_size) mem.push(kept);
          else {
            const old = mem[i % c.mem_size]!;
            tf.dispose([old.pos, old.neg]);
            mem[i % c.mem_size] = kept;
          }
        });
        if (hs.length) loss = tf.sub(loss, tf.addN(hs));
      }
      return (w === 1 ? loss : tf.mul(loss, w)) as tf.Scalar;
    });
  };
  const rt: TaskRuntime = {
    name: task.name,
    type: task.type,
    trainLoss,
  };
  if (task.validLoss) rt.evalLoss = (out) => tf.tidy(() => tf.mul(tf.neg(tf.mean(nodeOutput(out, c.lld, task.name))), w) as tf.Scalar);
  return rt;
});
