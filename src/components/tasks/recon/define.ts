// Catalog entry 'recon': reconstruction loss over pairs of node outputs read by reference (`pairs:`), MISA's recon
// loss between each modality's reconstruction and its projected utterance vector. Schema, references, plan text;
// phases 2-6.

import { defineComponent } from '../../component.js';
import type { ReconTask } from '../../../compiler/spec/types.generated.js';

export default defineComponent<ReconTask>({
  kind: 'task',
  type: 'recon',
  schema: 'components/tasks/recon.schema.json',
  doc: "Reconstruction loss (MISA's recon loss): the mean squared difference of each [reconstruction, original] pair of node outputs, averaged over the pairs.",
  summary: (p) => `recon(${p.pairs.map(([a, b]) => `${a} ~ ${b}`).join(', ')}${p.weight !== 1 ? `, weight ${p.weight}` : ''}${p.valid_loss ? ', in validation loss' : ''})`,
  headRefs: () => [],
  inputRefs: (p) => p.pairs.flatMap((pair, i) => pair.map((name, j) => ({ name, path: ['pairs', i, j] }))),
  evalHead: () => undefined,
  taskTargets: () => [],
  hooks: () => [],
});
