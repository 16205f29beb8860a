// Catalog entry 'diff': MISA's difference loss between two node outputs read by reference (`inputs:`), e.g. a
// modality's private and shared vectors. Schema, references, plan text; phases 2-6.

import { defineComponent } from '../../component.js';
import type { DiffTask } from '../../../compiler/spec/types.generated.js';

export default defineComponent<DiffTask>({
  kind: 'task',
  type: 'diff',
  schema: 'components/tasks/diff.schema.json',
  doc: "MISA's difference loss: the squared cross-correlation of two batch-centred, row-normalised representations (soft orthogonality).",
  couplesBatch: () => 'it centres the representations on the batch mean and correlates them over the batch',
  summary: (p) => `diff(${p.inputs.join(' vs ')}${p.weight !== 1 ? `, weight ${p.weight}` : ''}${p.valid_loss ? ', in validation loss' : ''})`,
  headRefs: () => [],
  inputRefs: (p) => p.inputs.map((name, i) => ({ name, path: ['inputs', i] })),
  evalHead: () => undefined,
  taskTargets: () => [],
  hooks: () => [],
});
