// Callback: writes the best weights (and task state) whenever model selection improves, as MMSA saves its best
// model, and reports checkpoint.saved. Phase 7 (execute).

import type { Ir } from '../../../compiler/ir/types.js';
import { topologyOf, type CheckpointData } from '../checkpoint.js';
import type { EpochEnd, TrainCallback } from './callback.js';
import type { ModelSelection } from './model-selection.js';

export type SaveCheckpoint = (data: CheckpointData) => { path: string; bytes: number } | Promise<{ path: string; bytes: number }>;

export class SaveBest implements TrainCallback {
  constructor(private readonly ir: Ir, private readonly selection: ModelSelection, private readonly save: SaveCheckpoint) {}

  async onEpochEnd(e: EpochEnd): Promise<void> {
    const sel = this.selection;
    if (!sel.improved || !sel.bestState) return;
    const saved = await this.save({ pipeline: this.ir.pipeline, epoch: e.epoch, topology: topologyOf(this.ir), weights: sel.bestState, tasks: sel.bestTasks, selectValue: sel.value });
    e.emit({ kind: 'checkpoint.saved', runId: '', epoch: e.epoch, path: saved.path, bytes: saved.bytes });
  }
}
