// What task lowerings read at run time: a head's output or feature from the model outputs and a label column from a
// batch, with clear errors when either is missing. Phase 6 (lower) builds the tasks; phase 7 calls them per batch.

import * as tf from '@tensorflow/tfjs';
import { MmsaError } from '../../errors.js';
import type { Batch } from '../data/types.js';
import type { ModelOutputs } from './types.js';

export function headOutput(out: ModelOutputs, head: string, task: string): tf.Tensor {
  const y = out.heads[head];
  if (!y) {
    throw new MmsaError('MSA6702', `task '${task}' reads head '${head}', which the model did not output`, {
      hint: `heads available: ${Object.keys(out.heads).join(', ') || 'none'}`,
      details: { task, head },
    });
  }
  return y;
}

/** A node output a task reads by reference (`encoders.sp:private_text`, `heads.M`). */
export function nodeOutput(out: ModelOutputs, ref: string, task: string): tf.Tensor {
  const y = out.nodes?.[ref];
  if (!y) {
    throw new MmsaError('MSA6702', `task '${task}' reads '${ref}', which the model did not output`, {
      hint: `outputs available: ${Object.keys(out.nodes ?? {}).join(', ') || 'none'}`,
      details: { task, ref },
    });
  }
  return y;
}

export function headFeature(out: ModelOutputs, head: string, task: string): tf.Tensor {
  const f = out.features[head];
  if (!f) {
    throw new MmsaError('MSA6702', `task '${task}' needs the first hidden activation of head '${head}', which it does not have`, {
      hint: `give heads.${head} at least one hidden layer (\`hidden: [..]\`)`,
      details: { task, head },
    });
  }
  return f;
}

export function labelColumn(batch: Batch, target: string, task: string): Float32Array {
  const y = batch.labels[target];
  if (!y) {
    throw new MmsaError('MSA6703', `task '${task}' reads label '${target}', which the batch does not have`, {
      hint: `labels available: ${Object.keys(batch.labels).join(', ') || 'none'}`,
      details: { task, target },
    });
  }
  if (y.length !== batch.size) {
    throw new MmsaError('MSA6703', `task '${task}': label '${target}' has ${y.length} values for a batch of ${batch.size}`, { details: { task, target } });
  }
  return y;
}
