// Catalog entry 'cross_entropy': softmax cross entropy of one logits head against integer labels. Schema,
// heads/targets read, plan text; phases 2-6.

import { defineComponent } from '../../component.js';
import type { CrossEntropyTask } from '../../../compiler/spec/types.generated.js';
import { summarizeLossTask } from '../l1/define.js';

export default defineComponent<CrossEntropyTask>({
  kind: 'task',
  type: 'cross_entropy',
  schema: 'components/tasks/cross_entropy.schema.json',
  doc: 'Softmax cross entropy on integer labels.',
  summary: summarizeLossTask,
  needsHead: 'classification',
  headRefs: (p) => [{ name: p.head, path: ['head'] }],
  // Supervised by the human label: evaluation scores this head unless eval.head says otherwise.
  evalHead: (p) => p.head,
  taskTargets: (p) => [p.target],
  hooks: () => [],
});
