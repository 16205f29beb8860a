// Catalog entry 'recon': reconstruction loss over pairs of node outputs read by reference (`pairs:`): MISA's recon
// loss between each modality's reconstruction and its projected utterance vector, and TFR-Net's RECLoss on the
// positions the loader dropped (`masks:`). Schema, references, plan text; phases 2-6.

import { defineComponent } from '../../component.js';
import type { ReconTask } from '../../../compiler/spec/types.generated.js';

export default defineComponent<ReconTask>({
  kind: 'task',
  type: 'recon',
  schema: 'components/tasks/recon.schema.json',
  doc: "Reconstruction loss: MISA's mean squared difference of each [reconstruction, original] pair of node outputs, averaged over the pairs, or TFR-Net's RECLoss (masked to the dropped positions, SmoothL1 plus weighted CMD, weighted sum over the pairs, from an epoch on).",
  couplesBatch: (p) => (p.masks ? "with masks it divides by the dropped positions counted over the whole batch (TFR-Net's RECLoss)" : undefined),
  summary: (p) =>
    `recon(${p.pairs.map(([a, b]) => `${a} ~ ${b}`).join(', ')}${p.loss && p.loss !== 'mse' ? `; ${p.loss}` : ''}${p.masks ? '; dropped positions only' : ''}${p.cmd_weight ? ` + ${p.cmd_weight} * cmd` : ''}${p.pair_weights ? `; pair weights ${p.pair_weights.join(', ')}` : ''}${(p.from_epoch ?? 1) > 1 ? `; from epoch ${p.from_epoch}` : ''}${p.weight !== 1 ? `, weight ${p.weight}` : ''}${p.valid_loss ? ', in validation loss' : ''})`,
  headRefs: () => [],
  // Pairs first, then the masks: the lowering reads them in this order.
  inputRefs: (p) => [
    ...p.pairs.flatMap((pair, i) => pair.map((name, j) => ({ name, path: ['pairs', i, j] as (string | number)[] }))),
    ...(p.masks ?? []).flatMap((pair, i) => pair.map((name, j) => ({ name, path: ['masks', i, j] as (string | number)[] }))),
  ],
  evalHead: () => undefined,
  taskTargets: () => [],
  hooks: () => [],
});
