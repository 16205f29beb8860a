// TrainCallback: what the training loop (executor.ts) calls at the start, after each step and after each epoch's
// validation. Selection, early stopping, checkpoints, LR schedulers and task hooks are callbacks, one file each (as
// Keras callbacks). Phase 7 (execute).

import type { Batch, SplitData } from '../../data/types.js';
import type { EventBody, RunEvent, EpochEndEvent } from '../../events.js';
import type { ModelOutputs, TaskRuntime } from '../../lower/types.js';
import type { EvalOutcome } from '../evaluate.js';

export interface StepEnd {
  epoch: number;
  batch: Batch;
  /** The step's forward outputs (detached), for hooks that keep state (ULGM). */
  outputs: ModelOutputs;
  /** The tasks the step trained (its stage's). */
  tasks: readonly TaskRuntime[];
}

/** The part of the epoch.end event callbacks fill in. */
export type EpochReport = Partial<Pick<EpochEndEvent, 'select' | 'improved' | 'patienceLeft' | 'lr'>> & {
  taskExtras: Record<string, Record<string, unknown>>;
};

export interface EpochEnd {
  epoch: number;
  /** This epoch's validation. */
  valid: EvalOutcome;
  /** An evaluation of a split this epoch (computed once however many callbacks ask). */
  evaluated(split: SplitData): EvalOutcome;
  report: EpochReport;
  /** Queues an event, emitted before epoch.end in the order callbacks queue them. */
  emit(body: EventBody<RunEvent>): void;
  /** Set to end training after this epoch. */
  stop: boolean;
}

export interface TrainCallback {
  onTrainBegin?(): void;
  onStepEnd?(s: StepEnd): void;
  onEpochEnd?(e: EpochEnd): void | Promise<void>;
  /** After the last epoch; `completed` is false when the run was interrupted. */
  onTrainEnd?(completed: boolean): void;
}
