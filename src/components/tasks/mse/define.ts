// Catalog entry 'mse': mean squared error of one head against one label. Schema, heads/targets read, plan text;
// phases 2-6.

import { defineComponent } from '../../component.js';
import type { MseTask } from '../../../compiler/spec/types.generated.js';
import { summarizeLossTask } from '../l1/define.js';

export default defineComponent<MseTask>({
  kind: 'task',
  type: 'mse',
  schema: 'components/tasks/mse.schema.json',
  doc: 'Mean squared error.',
  summary: summarizeLossTask,
  needsHead: 'regression',
  headRefs: (p) => [{ name: p.head, path: ['head'] }],
  // Supervised by the human label: evaluation scores this head unless eval.head says otherwise.
  evalHead: (p) => p.head,
  taskTargets: (p) => [p.target],
  hooks: () => [],
});
