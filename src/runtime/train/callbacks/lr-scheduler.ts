// Callback: a stage's learning-rate scheduler, stepped after each epoch's validation as PyTorch scripts do (MulT and
// MMIM step ReduceLROnPlateau with the validation loss); the new rates apply from the next epoch and are reported in
// epoch.end. Phase 7 (execute).

import type { IrScheduler } from '../../../compiler/ir/types.js';
import type { SplitData } from '../../data/types.js';
import { selectionKey } from '../evaluate.js';
import { createLrScheduler, type LrScheduler } from '../lr-schedulers.js';
import type { AdamGroup } from '../optim/adam.js';
import type { EpochEnd, TrainCallback } from './callback.js';

export class LrSchedule implements TrainCallback {
  private readonly scheduler: LrScheduler;

  constructor(private readonly o: { scheduler: IrScheduler; groups: readonly AdamGroup[]; split: SplitData }) {
    this.scheduler = createLrScheduler(o.scheduler);
  }

  onTrainBegin(): void {
    if (!this.scheduler.begin) return;
    const lrs = { lrs: this.o.groups.map((g) => g.lr) };
    this.scheduler.begin(lrs);
    this.o.groups.forEach((g, i) => {
      g.lr = lrs.lrs[i]!;
    });
  }

  onEpochEnd(e: EpochEnd): void {
    const s = this.o.scheduler;
    let metric: number | undefined;
    if (s.type === 'plateau') {
      const res = e.evaluated(this.o.split);
      metric = res.metrics[selectionKey(s.metric, res.metrics)];
    }
    const lrs = { lrs: this.o.groups.map((g) => g.lr) };
    this.scheduler.step(lrs, metric);
    this.o.groups.forEach((g, i) => {
      g.lr = lrs.lrs[i]!;
    });
    e.report.lr = { ...(e.report.lr ?? {}), ...Object.fromEntries(this.o.groups.map((g) => [g.name, g.lr])) };
  }
}
