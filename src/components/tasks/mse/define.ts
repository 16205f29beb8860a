// Catalog entry 'mse': mean squared error of one head against one label. Schema, heads/targets read, plan text;
// phases 2-6.

import { defineComponent } from '../../component.js';
import type { MseTask } from '../../../compiler/spec/types.generated.js';
import { summarizeLossTask } from '../l1/define.js';

export const mseTask = defineComponent<MseTask>({
  kind: 'task',
  type: 'mse',
  schema: 'components/tasks/mse.schema.json',
  doc: 'Mean squared error.',
  summary: summarizeLossTask,
  taskHeads: (p) => [p.head],
  taskTargets: (p) => [p.target],
  hooks: () => [],
});
