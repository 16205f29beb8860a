// Catalog entry 'cmd': the central moment discrepancy between node outputs read by reference (`inputs:`), MISA's
// similarity loss between the shared vectors (trains/singleTask/MISA.py CMD). Schema, references, plan text; phases 2-6.

import { defineComponent } from '../../component.js';
import type { CmdTask } from '../../../compiler/spec/types.generated.js';

export default defineComponent<CmdTask>({
  kind: 'task',
  type: 'cmd',
  schema: 'components/tasks/cmd.schema.json',
  doc: "Central moment discrepancy (MISA's similarity loss): distances of the batch means and of central moments 2..K, averaged over every pair of inputs.",
  couplesBatch: () => 'it compares the batch means and central moments',
  summary: (p) => `cmd(${p.inputs.join(', ')}; moments ${p.moments}${p.weight !== 1 ? `, weight ${p.weight}` : ''}${p.valid_loss ? ', in validation loss' : ''})`,
  headRefs: () => [],
  inputRefs: (p) => p.inputs.map((name, i) => ({ name, path: ['inputs', i] })),
  evalHead: () => undefined,
  taskTargets: () => [],
  hooks: () => [],
});
