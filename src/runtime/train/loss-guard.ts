// Stops training as soon as a step's loss is not a finite number, naming the epoch, the step and the heads (and
// tasks) whose loss went bad, so a diverged run ends `failed` instead of finishing with meaningless metrics. Phase 7.

import { MmsaError } from '../../errors.js';

export interface StepLosses {
  epoch: number;
  step: number;
  /** The summed training loss of the step. */
  loss: number;
  taskLosses: Readonly<Record<string, number>>;
  headLosses: Readonly<Record<string, number>>;
}

function fmt(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+inf' : '-inf';
}

function bad(losses: Readonly<Record<string, number>>): string[] {
  return Object.entries(losses)
    .filter(([, v]) => !Number.isFinite(v))
    .map(([name, v]) => `'${name}' (${fmt(v)})`);
}

/** Throws MSA6707 when the step's loss (or any head's or task's) is NaN or infinite. Called once per training step. */
export function guardStepLoss(s: StepLosses): void {
  const heads = bad(s.headLosses);
  const tasks = bad(s.taskLosses);
  if (Number.isFinite(s.loss) && heads.length === 0 && tasks.length === 0) return;
  const who = heads.length > 0 ? `head${heads.length === 1 ? '' : 's'} ${heads.join(', ')}` : tasks.length > 0 ? `task${tasks.length === 1 ? '' : 's'} ${tasks.join(', ')}` : 'the summed loss';
  throw new MmsaError('MSA6707', `the training loss became ${fmt(Number.isFinite(s.loss) ? NaN : s.loss)} at epoch ${s.epoch}, step ${s.step}: ${who}`, {
    hint: 'the data were checked to be finite at load, so training diverged: lower the learning rate, clip gradients (train.clip), or check a custom loss weight',
    details: { epoch: s.epoch, step: s.step, loss: fmt(Number.isFinite(s.loss) ? NaN : s.loss), heads: Object.keys(s.headLosses).filter((h) => !Number.isFinite(s.headLosses[h]!)), tasks: Object.keys(s.taskLosses).filter((t) => !Number.isFinite(s.taskLosses[t]!)) },
  });
}
