// Callback: the tasks' own hooks (ULGM: initialise its label banks before training, update them after every step of
// its stage, report drift and histograms after each epoch as task.update events). Phase 7 (execute).

import type { SplitData } from '../../data/types.js';
import type { TaskRuntime } from '../../lower/types.js';
import type { EpochEnd, StepEnd, TrainCallback } from './callback.js';

export class TaskHooks implements TrainCallback {
  constructor(private readonly tasks: readonly TaskRuntime[], private readonly train: SplitData) {}

  onTrainBegin(): void {
    for (const t of this.tasks) t.beforeTraining?.(this.train);
  }

  onStepEnd(s: StepEnd): void {
    for (const t of s.tasks) t.afterStep?.(s.outputs, s.batch, s.epoch);
  }

  onEpochEnd(e: EpochEnd): void {
    for (const t of this.tasks) {
      const extra = t.onEpochEnd?.(e.epoch);
      if (!extra || Object.keys(extra).length === 0) continue;
      e.report.taskExtras[t.name] = extra;
      e.emit({ kind: 'task.update', runId: '', epoch: e.epoch, task: t.name, type: t.type, data: extra });
    }
  }
}
