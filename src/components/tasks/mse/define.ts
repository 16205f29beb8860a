// Catalog entry 'mse': mean squared error of one head against one label. Schema, heads/targets read, plan text;
// phases 2-6.

import { defineComponent } from '../../component.js';
import type { MseTask } from '../../../compiler/spec/types.generated.js';
import { SINGLE_HEAD_LOSS } from '../l1/define.js';

export default defineComponent<MseTask>({
  ...SINGLE_HEAD_LOSS,
  type: 'mse',
  schema: 'components/tasks/mse.schema.json',
  doc: 'Mean squared error.',
  needsHead: 'regression',
});
