// Catalog entry 'mmilb': maximises MMIM's mutual-information lower bound (-lld, and -H over a memory of previous
// batches' entropy projections). Schema, references, targets, plan text; phases 2-6.

import { defineComponent } from '../../component.js';
import type { MmilbTask } from '../../../compiler/spec/types.generated.js';

export default defineComponent<MmilbTask>({
  kind: 'task',
  type: 'mmilb',
  schema: 'components/tasks/mmilb.schema.json',
  doc: "Maximises MMIM's mutual-information lower bound: loss = -lld, and with `entropy` also -H, H = 0.25 (logdet cov(pos) + logdet cov(neg)) of the entropy projections of this batch and the previous `mem_size` batches, split by the sign of the label.",
  couplesBatch: (p) => (p.entropy.length ? 'its entropy term estimates covariances over the batch and the batches before it' : undefined),
  summary: (p) =>
    `mmilb(-${p.lld}${p.entropy.length ? ` - H(${p.entropy.join(', ')}; split by ${p.target}, memory ${p.mem_size})` : ''}${p.weight !== 1 ? `, weight ${p.weight}` : ''}${p.valid_loss ? ', in validation loss' : ''})`,
  headRefs: () => [],
  inputRefs: (p) => [{ name: p.lld, path: ['lld'] }, ...p.entropy.map((name, i) => ({ name, path: ['entropy', i] as (string | number)[] }))],
  evalHead: () => undefined,
  taskTargets: (p) => (p.entropy.length ? [p.target] : []),
  hooks: () => [],
});
