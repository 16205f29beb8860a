// Catalog entry 'node_loss': a loss a component computes itself and publishes as a named output (MCTN's translation
// loss), times the task weight. Schema, the reference it reads, plan text; phases 2-6.

import { defineComponent } from '../../component.js';
import type { NodeLossTask } from '../../../compiler/spec/types.generated.js';

export default defineComponent<NodeLossTask>({
  kind: 'task',
  type: 'node_loss',
  schema: 'components/tasks/node_loss.schema.json',
  doc: "A loss a component computes itself (MCTN's translation loss), read from a named output and weighted.",
  summary: (p) => `node_loss(${p.input}${p.weight !== 1 ? `, weight ${p.weight}` : ''}${p.valid_loss ? '' : ', not in validation loss'})`,
  headRefs: () => [],
  inputRefs: (p) => [{ name: p.input, path: ['input'] }],
  evalHead: () => undefined,
  taskTargets: () => [],
  hooks: () => [],
});
