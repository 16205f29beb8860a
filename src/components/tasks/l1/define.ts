// Catalog entry 'l1': mean absolute error of one head against one label. Schema, heads/targets read, plan text;
// phases 2-6.

import { defineComponent } from '../../component.js';
import type { L1Task } from '../../../compiler/spec/types.generated.js';

/** Shared by the single-head losses (l1, mse, cross_entropy). */
export function summarizeLossTask(p: { type: string; head: string; target: string; weight: number; valid_loss: boolean }): string {
  const parts = [`head ${p.head}`, `target ${p.target}`];
  if (p.weight !== 1) parts.push(`weight ${p.weight}`);
  if (!p.valid_loss) parts.push('not in validation loss');
  return `${p.type}(${parts.join(', ')})`;
}

/** What the losses of one head against one label (l1, mse, cross_entropy) read and print. */
export const SINGLE_HEAD_LOSS = {
  kind: 'task',
  summary: summarizeLossTask,
  headRefs: (p: { head: string }) => [{ name: p.head, path: ['head'] }],
  // Supervised by the human label: evaluation scores this head unless eval.head says otherwise.
  evalHead: (p: { head: string }) => p.head,
  taskTargets: (p: { target: string }) => [p.target],
  hooks: () => [],
} as const;

export default defineComponent<L1Task>({
  ...SINGLE_HEAD_LOSS,
  type: 'l1',
  schema: 'components/tasks/l1.schema.json',
  doc: 'Mean absolute error.',
  needsHead: 'regression',
});
