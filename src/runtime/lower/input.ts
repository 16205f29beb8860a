// Input nodes at run time: a modality's preprocessed array from the batch (keyed by modality name) as a tensor,
// plus its true lengths when the IR type has them, checked against the IR's shape. Phase 6 (lower) / 7 (execute).

import * as tf from '@tensorflow/tfjs';
import type { IrNode } from '../../compiler/ir/types.js';
import { MmsaError } from '../../errors.js';
import type { Batch } from '../data/types.js';
import type { NodeValue } from './node.js';

export function readInput(node: IrNode, batch: Batch): NodeValue {
  const modality = node.name;
  const arr = batch.features[modality];
  if (!arr) {
    throw new MmsaError('MSA6701', `the batch has no features for modality '${modality}' (input '${node.id}')`, {
      hint: `modalities in the batch: ${Object.keys(batch.features).join(', ') || 'none'}`,
      details: { node: node.id, modality },
    });
  }
  const want = node.output.shape.slice(1);
  const got = arr.shape.slice(1);
  const fits = want.length === got.length && want.every((d, i) => typeof d !== 'number' || d === got[i]);
  if (!fits || arr.shape[0] !== batch.size) {
    throw new MmsaError(
      'MSA6701',
      `modality '${modality}' has shape [${arr.shape.join(', ')}] in the batch, but the pipeline was compiled for [${batch.size}, ${want.join(', ')}]`,
      { hint: 'the data does not match the dataset the pipeline was compiled against; recompile with the real data', details: { node: node.id, modality } },
    );
  }
  const dtype = node.output.dtype === 'int32' ? 'int32' : 'float32';
  const data = dtype === 'int32' ? (arr.data instanceof Int32Array ? arr.data : Int32Array.from(arr.data)) : arr.data instanceof Float32Array ? arr.data : Float32Array.from(arr.data);
  const tensor = tf.tensor(data, arr.shape, dtype);
  if (node.output.lengths === undefined) return { tensor };
  const lengths = batch.lengths[modality];
  if (!lengths || lengths.length !== batch.size) {
    throw new MmsaError('MSA6701', `the batch has no lengths for modality '${modality}' (input '${node.id}' declares lengths '${node.output.lengths}')`, {
      hint: `lengths in the batch: ${Object.keys(batch.lengths).join(', ') || 'none'}`,
      details: { node: node.id, modality },
    });
  }
  return { tensor, lengths };
}
