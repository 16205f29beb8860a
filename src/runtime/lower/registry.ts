// The lowering of every catalog component, keyed `kind/type` (`encoder/lstm`, `task/ulgm`). The catalog's own
// `lower` hook stays lazy; this map is what phase 6 (lower) uses, and a test checks it covers the whole catalog.

import type { ComponentLowering } from './node.js';
import { lowerBertEncoder } from '../../components/encoders/bert/lower.js';
import { lowerGruEncoder } from '../../components/encoders/gru/lower.js';
import { lowerLstmEncoder } from '../../components/encoders/lstm/lower.js';
import { lowerMlpEncoder } from '../../components/encoders/mlp/lower.js';
import { lowerPrecomputedEncoder } from '../../components/encoders/precomputed/lower.js';
import { lowerSubnetEncoder } from '../../components/encoders/subnet/lower.js';
import { lowerTextLstmEncoder } from '../../components/encoders/text_lstm/lower.js';
import { lowerConcatFusion } from '../../components/fusions/concat/lower.js';
import { lowerEarlyFusion } from '../../components/fusions/early/lower.js';
import { lowerLateFusion } from '../../components/fusions/late/lower.js';
import { lowerLowRankFusion } from '../../components/fusions/low_rank/lower.js';
import { lowerTensorFusion } from '../../components/fusions/tensor/lower.js';
import { lowerClassificationHead } from '../../components/heads/classification/lower.js';
import { lowerRegressionHead } from '../../components/heads/regression/lower.js';
import { lowerCrossEntropyTask } from '../../components/tasks/cross_entropy/lower.js';
import { lowerL1Task } from '../../components/tasks/l1/lower.js';
import { lowerMseTask } from '../../components/tasks/mse/lower.js';
import { lowerUlgmTask } from '../../components/tasks/ulgm/lower.js';

export const LOWERINGS: Readonly<Record<string, ComponentLowering>> = {
  'encoder/bert': { kind: 'encoder', lowerNode: lowerBertEncoder },
  'encoder/gru': { kind: 'encoder', lowerNode: lowerGruEncoder },
  'encoder/lstm': { kind: 'encoder', lowerNode: lowerLstmEncoder },
  'encoder/mlp': { kind: 'encoder', lowerNode: lowerMlpEncoder },
  'encoder/precomputed': { kind: 'encoder', lowerNode: lowerPrecomputedEncoder },
  'encoder/subnet': { kind: 'encoder', lowerNode: lowerSubnetEncoder },
  'encoder/text_lstm': { kind: 'encoder', lowerNode: lowerTextLstmEncoder },
  'fusion/concat': { kind: 'fusion', lowerNode: lowerConcatFusion },
  'fusion/early': { kind: 'fusion', lowerNode: lowerEarlyFusion },
  'fusion/late': { kind: 'fusion', lowerNode: lowerLateFusion },
  'fusion/low_rank': { kind: 'fusion', lowerNode: lowerLowRankFusion },
  'fusion/tensor': { kind: 'fusion', lowerNode: lowerTensorFusion },
  'head/classification': { kind: 'head', lowerNode: lowerClassificationHead },
  'head/regression': { kind: 'head', lowerNode: lowerRegressionHead },
  'task/cross_entropy': { kind: 'task', lowerTask: lowerCrossEntropyTask },
  'task/l1': { kind: 'task', lowerTask: lowerL1Task },
  'task/mse': { kind: 'task', lowerTask: lowerMseTask },
  'task/ulgm': { kind: 'task', lowerTask: lowerUlgmTask },
};

export function getLowering(kind: string, type: string): ComponentLowering | undefined {
  return LOWERINGS[`${kind}/${type}`];
}
