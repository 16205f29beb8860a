// Catalog entry 'cross_entropy': softmax cross entropy of one logits head against integer labels. Schema,
// heads/targets read, plan text; phases 2-6.

import { defineComponent } from '../../component.js';
import type { CrossEntropyTask } from '../../../compiler/spec/types.generated.js';
import { SINGLE_HEAD_LOSS } from '../l1/define.js';

export default defineComponent<CrossEntropyTask>({
  ...SINGLE_HEAD_LOSS,
  type: 'cross_entropy',
  schema: 'components/tasks/cross_entropy.schema.json',
  doc: 'Softmax cross entropy on integer labels.',
  needsHead: 'classification',
});
