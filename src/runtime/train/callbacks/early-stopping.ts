// Callback: early stopping as MMSA's: training ends once `patience` epochs pass without the watched metric improving
// by at least min_delta. Phase 7 (execute).

import type { TrainingSchedule } from '../../../compiler/ir/types.js';
import type { SplitData } from '../../data/types.js';
import { initialBest, isImprovement } from '../../metrics/index.js';
import { selectionKey } from '../evaluate.js';
import type { EpochEnd, TrainCallback } from './callback.js';

export class EarlyStopping implements TrainCallback {
  private best: number;
  private bestEpoch = 0;

  constructor(private readonly o: { earlyStop: TrainingSchedule['earlyStop']; split: SplitData }) {
    this.best = initialBest(o.earlyStop.mode, o.earlyStop.metric);
  }

  onEpochEnd(e: EpochEnd): void {
    const { earlyStop } = this.o;
    const res = e.evaluated(this.o.split);
    const cur = res.metrics[selectionKey(earlyStop.metric, res.metrics)]!;
    if (isImprovement(earlyStop.mode, cur, this.best, earlyStop.minDelta)) {
      this.best = cur;
      this.bestEpoch = e.epoch;
    }
    e.report.patienceLeft = earlyStop.patience - (e.epoch - this.bestEpoch);
    if (e.epoch - this.bestEpoch >= earlyStop.patience) e.stop = true;
  }
}
