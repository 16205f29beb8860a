// The training loop: MMSA's epoch loop over a lowered pipeline - each epoch trains its stages (train-epoch.ts), then
// validates and lets the callbacks decide (model selection, early stopping, LR schedulers, task hooks, checkpoints,
// one file each under callbacks/); after the last epoch the best weights are restored and the test split is read once.
// Phase 7 (execute): yields RunEvents, never prints.

import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Ir } from '../../compiler/ir/types.js';
import { MESSAGES } from '../../core/messages.js';
import { MmsaError } from '../../errors.js';
import { iterateBatches, microBatchCount } from '../data/batching.js';
import { makeTorchBatcher } from '../data/torch-shuffle.js';
import type { LoadedDataset, SplitData } from '../data/types.js';
import { makeEvent, type EventBody, type RunEvent, type SeedResult } from '../events.js';
import type { LoweredPipeline } from '../lower/types.js';
import type { EpochEnd, EpochReport, TrainCallback } from './callbacks/callback.js';
import { EarlyStopping } from './callbacks/early-stopping.js';
import { LrSchedule } from './callbacks/lr-scheduler.js';
import { ModelSelection } from './callbacks/model-selection.js';
import { SaveBest, type SaveCheckpoint } from './callbacks/save-best.js';
import { TaskHooks } from './callbacks/task-hooks.js';
import { evalLabelOf, evaluateSplit, writePredictions, type Batcher, type EvalOutcome } from './evaluate.js';
import { runStages, passesOf, trainEpoch } from './train-epoch.js';

export interface ExecuteOptions {
  /** Event envelope id (`<spec-hash>-<seed>`). */
  runId: string;
  seed: number;
  seedIndex?: number;
  seedCount?: number;
  /** Backend name for run.start. */
  backend?: string;
  /** Overrides schedule.maxEpochs when given (a number caps, null removes the cap). */
  maxEpochs?: number | null;
  /** Aborting stops after the current step; the run ends with status 'interrupted'. */
  signal?: AbortSignal;
  /** Chunks per training batch as the memory plan resolved train.micro_batches (default: the spec's count, 'auto' as 1). */
  microBatches?: number;
  /** Batch source (default: the data layer's seeded batching). Tests inject one to watch what the model sees. */
  batches?: Batcher;
  /** Persists the best weights on every improvement; returns what was written (for checkpoint.saved). */
  saveCheckpoint?: SaveCheckpoint;
  runDir?: string;
  now?: () => number;
}

/** Model selection and early stopping read the validation split (or the training split); never the test split. */
function selectionSplit(data: LoadedDataset, name: string): SplitData {
  if (name === 'test') {
    throw new MmsaError('MSA6708', 'model selection and early stopping may not read the test split', {
      hint: "set train.select.split and train.early_stop.split to 'valid'",
    });
  }
  if (name === 'train') return data.train;
  if (name === 'valid') return data.valid;
  throw new MmsaError('MSA6708', `unknown split '${name}' for model selection`, { hint: "use 'valid'" });
}

function yieldToLoop(): Promise<void> {
  // Lets signal handlers (Ctrl-C) and I/O run between CPU-bound steps.
  return new Promise((r) => setImmediate(r));
}

/**
 * Runs one seed's training schedule. The test split is read exactly once, after training, with the best weights;
 * every decision (selection, early stop, plateau schedulers) uses the selection split (valid).
 */
export async function* runSchedule(ir: Ir, pipeline: LoweredPipeline, data: LoadedDataset, opts: ExecuteOptions): AsyncGenerator<RunEvent, SeedResult | undefined> {
  const s = ir.schedule;
  const now = opts.now ?? Date.now;
  const emit = <E extends RunEvent>(body: EventBody<E>): E => makeEvent<E>(body, now);
  const torchStream = s.shuffleRng === 'torch' ? pipeline.model.store.torchStream() : undefined;
  if (s.shuffleRng === 'torch' && !torchStream) {
    // `mmsa check` reports this at the key; a pipeline built past the checks still must not fall back silently
    throw new MmsaError('MSA3053', MESSAGES.MSA3053.message, { hint: MESSAGES.MSA3053.hint });
  }
  const batches: Batcher = opts.batches ?? (torchStream ? makeTorchBatcher(torchStream) : iterateBatches);
  const { model, tasks, optimizer } = pipeline;
  const store = model.store;
  const seed = opts.seed;
  const maxEpochs = opts.maxEpochs !== undefined ? opts.maxEpochs : s.maxEpochs;
  const evalLabel = evalLabelOf(ir, Object.keys(data.train.labels));
  const microBatches = opts.microBatches ?? microBatchCount(ir.schedule.microBatches);
  const stages = runStages(ir, pipeline, microBatches);
  const vars = optimizer.variables().filter((v) => v.trainable);
  const nBatches = Math.ceil(data.train.n / Math.max(1, Math.floor(s.batchSize)));
  // Batch i of n runs while i / n < fraction: ceil(fraction * n) batches for the largest fraction of the pass.
  const stepsPerEpoch = passesOf(stages).reduce((sum, pass) => sum + Math.ceil(nBatches * Math.max(...pass.map((st) => st.fraction)) - 1e-9), 0);
  const startedAt = now();

  const selection = new ModelSelection({ select: s.select, split: selectionSplit(data, s.select.split), store, tasks });
  // Order matters: selection snapshots task state before the tasks' epoch hooks run; the checkpoint saves that
  // snapshot and is reported after the tasks' updates, as MMSA's loop did.
  const callbacks: TrainCallback[] = [
    selection,
    new EarlyStopping({ earlyStop: s.earlyStop, split: selectionSplit(data, s.earlyStop.split) }),
    ...stages.flatMap((st) => (st.scheduler ? [new LrSchedule({ scheduler: st.scheduler, groups: st.groups, split: selectionSplit(data, st.scheduler.type === 'plateau' ? st.scheduler.split : 'valid') })] : [])),
    new TaskHooks(tasks, data.train),
    ...(opts.saveCheckpoint ? [new SaveBest(ir, selection, opts.saveCheckpoint)] : []),
  ];

  yield emit({
    kind: 'run.start',
    runId: opts.runId,
    pipeline: ir.pipeline,
    dataset: {
      name: data.name,
      source: data.provenance.source,
      ...(data.provenance.path ? { path: data.provenance.path } : {}),
      ...(data.provenance.sha256 ? { sha256: data.provenance.sha256 } : {}),
      n: { train: data.train.n, valid: data.valid.n, test: data.test.n },
    },
    backend: opts.backend ?? tf.getBackend(),
    seed,
    seedIndex: opts.seedIndex ?? 0,
    seedCount: opts.seedCount ?? 1,
    epochsMax: maxEpochs,
    stepsPerEpoch,
    params: { total: store.numParams(), trainable: store.numParams({ trainableOnly: true }), optimized: vars.reduce((n, v) => n + v.size, 0) },
    ...(opts.runDir ? { runDir: opts.runDir } : {}),
  });

  const evaluate = (split: SplitData, epoch: number): EvalOutcome => evaluateSplit(ir, pipeline, split, { seed, epoch, batches, evalLabel, microBatches });

  for (const cb of callbacks) cb.onTrainBegin?.();

  let epochs = 0;
  let interrupted = false;
  for (;;) {
    if (opts.signal?.aborted) {
      interrupted = true;
      break;
    }
    epochs += 1;
    const epoch = epochs;
    const epochStart = now();
    yield emit({ kind: 'epoch.start', runId: opts.runId, epoch });
    const it = trainEpoch({ ir, pipeline, data, stages, callbacks, seed, epoch, batches, runId: opts.runId, stepsPerEpoch, microBatches, signal: opts.signal, emit });
    let r = await it.next();
    for (; !r.done; r = await it.next()) yield r.value;
    const totals = r.value;
    if (totals.interrupted) {
      interrupted = true;
      epochs -= 1;
      break;
    }

    const valid = evaluate(data.valid, epoch);
    yield emit({ kind: 'eval.end', runId: opts.runId, epoch, split: 'valid', loss: valid.loss, metrics: valid.metrics });
    const evaluated = new Map<SplitData, EvalOutcome>([[data.valid, valid]]);
    const queued: EventBody<RunEvent>[] = [];
    const report: EpochReport = { taskExtras: {} };
    const end: EpochEnd = {
      epoch,
      valid,
      evaluated: (split) => {
        let res = evaluated.get(split);
        if (!res) evaluated.set(split, (res = evaluate(split, epoch)));
        return res;
      },
      report,
      emit: (body) => queued.push(body),
      stop: false,
    };
    for (const cb of callbacks) {
      await cb.onEpochEnd?.(end);
      // Events a callback queues go out in order, before epoch.end.
      for (const body of queued.splice(0)) yield emit({ ...body, runId: opts.runId });
    }
    const n = totals.nBatches;
    yield emit({
      kind: 'epoch.end',
      runId: opts.runId,
      epoch,
      trainLoss: n ? totals.lossSum / n : NaN,
      taskLosses: Object.fromEntries(Object.entries(totals.taskLossSums).map(([k, v]) => [k, n ? v / n : NaN])),
      headLosses: Object.fromEntries(Object.entries(totals.headLossSums).map(([k, v]) => [k, n ? v / n : NaN])),
      valid: { loss: valid.loss, metrics: valid.metrics },
      select: report.select!,
      improved: report.improved ?? false,
      patienceLeft: report.patienceLeft ?? 0,
      optimizerSteps: totals.optimizerSteps,
      seconds: (now() - epochStart) / 1000,
      taskExtras: report.taskExtras,
      ...(report.lr ? { lr: report.lr } : {}),
    });
    await yieldToLoop();
    if (end.stop) break;
    if (maxEpochs !== null && maxEpochs !== undefined && epoch >= maxEpochs) break;
  }

  for (const cb of callbacks) cb.onTrainEnd?.(!interrupted);
  if (interrupted) {
    yield emit({
      kind: 'run.end',
      runId: opts.runId,
      scope: 'seed',
      status: 'interrupted',
      seed,
      seedIndex: opts.seedIndex ?? 0,
      epochs,
      bestEpoch: selection.bestEpoch,
      ...(opts.runDir ? { runDir: opts.runDir } : {}),
      seconds: (now() - startedAt) / 1000,
    });
    return undefined;
  }

  // A tuning trial leaves test out of eval.splits: its setting must be chosen without the test split being read.
  let testMetrics: Record<string, number> = {};
  if (s.evalSplits.includes('test')) {
    const test = evaluate(data.test, epochs + 1);
    const predictionsFile = opts.runDir ? writePredictions(join(opts.runDir, 'predictions.csv'), data.test, test) : undefined;
    yield emit({ kind: 'eval.end', runId: opts.runId, epoch: epochs, split: 'test', loss: test.loss, metrics: test.metrics, ...(predictionsFile ? { predictionsFile } : {}) });
    testMetrics = test.metrics;
  }
  const result: SeedResult = { seed, test: testMetrics, validAtBest: selection.validAtBest, bestEpoch: selection.bestEpoch, epochs };
  yield emit({
    kind: 'run.end',
    runId: opts.runId,
    scope: 'seed',
    status: 'completed',
    seed,
    seedIndex: opts.seedIndex ?? 0,
    result,
    epochs,
    bestEpoch: selection.bestEpoch,
    ...(opts.runDir ? { runDir: opts.runDir } : {}),
    seconds: (now() - startedAt) / 1000,
  });
  return result;
}

