// Catalog entry 'ulgm': Self-MM's unimodal label generation (tanh-weighted L1 losses of unimodal heads against
// self-generated labels) and the schedule hooks that maintain its label banks. Phases 2-6.

import { defineComponent } from '../../component.js';
import type { UlgmTask } from '../../../compiler/spec/types.generated.js';
import type { ScheduleHook } from '../../../compiler/ir/types.js';
import { checkUlgm } from './check.js';
import { DEFAULT_H, ulgmRange } from './state.js';

function rangeText(p: UlgmTask): string {
  return p.label_range ? `labels [${p.label_range.join(', ')}]` : `H ${p.H ?? DEFAULT_H}`;
}

export default defineComponent<UlgmTask>({
  kind: 'task',
  type: 'ulgm',
  schema: 'components/tasks/ulgm.schema.json',
  doc: 'Self-MM unimodal label generation: tanh-weighted L1 losses of unimodal heads against self-generated labels.',
  summary(p) {
    const uni = Object.entries(p.heads).map(([m, h]) => `${m} ${h}`).join(', ');
    const parts = [`fusion ${p.fusion_head}`, uni, `target ${p.target}`, rangeText(p), `from epoch ${p.from_epoch}`];
    if (p.exclude_zero) parts.push('exclude zero');
    if (p.weight !== 1) parts.push(`weight ${p.weight}`);
    if (p.save_labels) parts.push('save labels');
    return `ulgm(${parts.join('; ')})`;
  },
  // Without `H`, the generated labels live on the dataset's label scale (PHQ-8 0-24 as well as MOSI's -3..3).
  defaults(p, ctx) {
    if (p.H !== undefined || p.label_range !== undefined) return {};
    return ctx.dataset?.labelRange ? { label_range: [...ctx.dataset.labelRange] } : { H: DEFAULT_H };
  },
  needsHead: 'regression',
  headRefs: (p) => [{ name: p.fusion_head, path: ['fusion_head'] }, ...Object.entries(p.heads).map(([m, h]) => ({ name: h, path: ['heads', m] }))],
  // Self-supervised: evaluation never defaults to its heads.
  evalHead: () => undefined,
  check: checkUlgm,
  taskTargets: (p) => [p.target],
  hooks(p) {
    // The classes split at the middle of the label range (0 for MMSA's [-H, H]).
    const [lo, hi] = ulgmRange(p);
    const mid = (lo + hi) / 2;
    const banks = ['fusion', ...Object.keys(p.heads)].join(', ');
    const hooks: ScheduleHook[] = [
      {
        when: 'before_training',
        fromEpoch: 1,
        description: `initialise label banks (${banks}) from labels.${p.target}`,
      },
      // Label updates read the centres as they stood after the previous step, so they run before the centre update.
      {
        when: 'step',
        fromEpoch: p.from_epoch,
        description: `update unimodal labels from feature-centre distances, clamp to ${p.label_range ? `[${p.label_range.join(', ')}]` : `+-${p.H ?? DEFAULT_H}`}`,
      },
      {
        when: 'step',
        fromEpoch: 1,
        description: `store features and update class centres over all N samples (exclude_zero ${p.exclude_zero ? `on: labels of exactly ${mid} are in neither class` : `off: labels of ${mid} count as positive`})`,
      },
    ];
    if (p.save_labels) hooks.push({ when: 'epoch_end', fromEpoch: 1, description: 'save_labels: write the label banks' });
    return hooks;
  },
});
