// Shared pieces of the bert hook tests (MAG, CE): a tiny random BERT directory, two rows of token ids with padding
// and segments, and nn.Linear in float64 for the plain-JS references. Test helper only.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { randomWeights, writeSafetensorsDir } from '../../../runtime/bert/helpers.js';

/** Batch and token length of hookTokenRows(). */
export const HOOK_B = 2;
export const HOOK_L = 7;

/** A tiny random BERT (TINY_CONFIG) written as a Hugging Face directory; returns its path. */
export function writeTinyBert(prefix: string, seed: number): string {
  const dir = join(mkdtempSync(join(tmpdir(), prefix)), 'tiny-bert');
  writeSafetensorsDir(dir, randomWeights(seed));
  return dir;
}

/** text_bert rows [B, 3, L]: ids, mask (row 0 padded), segment ids (row 1 with a second segment). */
export function hookTokenRows(): tf.Tensor {
  const ids = [[2, 5, 9, 13, 3, 0, 0], [2, 39, 1, 7, 22, 31, 3]];
  const mask = [[1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1]];
  const types = [[0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1, 1]];
  return tf.tensor3d(ids.map((r, i) => [r, mask[i]!, types[i]!]), [HOOK_B, 3, HOOK_L], 'int32');
}

/** nn.Linear in float64 on one row. */
export function lin(w: number[], b: number[], x: number[]): number[] {
  return Array.from({ length: b.length }, (_, o) => b[o]! + x.reduce((s, xi, i) => s + w[o * x.length + i]! * xi, 0));
}
