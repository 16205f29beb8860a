// Callback: model selection as MMSA's: after each validation, keep the weights (and task state) of the best epoch by
// the selection metric (improvement by at least min_delta); restore them when training ends. Phase 7 (execute).

import type { TrainingSchedule } from '../../../compiler/ir/types.js';
import type { SplitData } from '../../data/types.js';
import type { TaskRuntime } from '../../lower/types.js';
import { initialBest, isImprovement } from '../../metrics/index.js';
import type { ParamStore } from '../../nn/params.js';
import type { StateDict } from '../checkpoint.js';
import { selectionKey } from '../evaluate.js';
import type { EpochEnd, TrainCallback } from './callback.js';

export class ModelSelection implements TrainCallback {
  best: number;
  bestEpoch = 0;
  /** The selection value of the last epoch, and whether it improved on the best before it. */
  value = NaN;
  improved = false;
  bestState: StateDict | undefined;
  bestTasks: Record<string, unknown> = {};
  validAtBest: Record<string, number> = {};

  constructor(private readonly o: { select: TrainingSchedule['select']; split: SplitData; store: ParamStore; tasks: readonly TaskRuntime[] }) {
    this.best = initialBest(o.select.mode, o.select.metric);
  }

  onEpochEnd(e: EpochEnd): void {
    const res = e.evaluated(this.o.split);
    const key = selectionKey(this.o.select.metric, res.metrics);
    this.value = res.metrics[key]!;
    this.improved = isImprovement(this.o.select.mode, this.value, this.best, this.o.select.minDelta);
    if (this.improved) {
      this.best = this.value;
      this.bestEpoch = e.epoch;
      this.validAtBest = { ...res.metrics };
      this.bestState = this.o.store.stateDict();
      this.bestTasks = {};
      for (const t of this.o.tasks) if (t.snapshot) this.bestTasks[t.name] = t.snapshot();
    }
    e.report.select = { metric: key, value: this.value, best: this.best, bestEpoch: this.bestEpoch };
    e.report.improved = this.improved;
  }

  /** MMSA reloads its best checkpoint; with no improvement at all the last weights stay. */
  onTrainEnd(completed: boolean): void {
    if (!completed) return;
    if (this.bestState) this.o.store.loadStateDict(this.bestState);
    for (const t of this.o.tasks) if (t.restore && t.name in this.bestTasks) t.restore(this.bestTasks[t.name]);
  }
}
