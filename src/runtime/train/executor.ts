// The training executor: MMSA's epoch loop (spec 3.4) over a lowered pipeline - seeded shuffles, gradient
// accumulation (reference or corrected), clipping, hooks, validation-based selection, early stop, one final test pass.
// Phase 7 (execute): yields RunEvents, never prints.

import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Ir } from '../../compiler/ir/types.js';
import { MmsaError } from '../../errors.js';
import { iterateBatches, type BatchOptions } from '../data/batching.js';
import { deriveSeed } from '../random.js';
import type { Batch, LoadedDataset, SplitData, SplitName } from '../data/types.js';
import { makeEvent, type EventBody, type RunEvent, type SeedResult } from '../events.js';
import type { LoweredPipeline, ModelOutputs } from '../lower/types.js';
import { computeMetrics, initialBest, numpyRound, type DatasetName } from '../metrics/index.js';
import { evalCtx, trainCtx } from '../nn/params.js';
import { csvCell, writeFileAtomic } from '../run-dir.js';
import type { CheckpointData, StateDict } from './checkpoint.js';
import { clipGradNorm, clipGradValue, disposeGrads, type Grads } from './optim/adam.js';

export type Batcher = (split: SplitData, opts: BatchOptions) => Iterable<Batch>;

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
  /** Batch source (default: the data layer's seeded batching). Tests inject one to watch what the model sees. */
  batches?: Batcher;
  /** Persists the best weights on every improvement; returns what was written (for checkpoint.saved). */
  saveCheckpoint?: (data: CheckpointData) => { path: string; bytes: number } | Promise<{ path: string; bytes: number }>;
  runDir?: string;
  now?: () => number;
}

/** Shuffle streams: each split gets its own, mixed with the epoch by the batcher. */
const STREAM = { train: 1, valid: 2, test: 3, dropout: 4 } as const;

export interface EvalOutcome {
  loss: number;
  metrics: Record<string, number>;
  predictions: Float32Array;
  labels: Float32Array;
  /** Split row of every prediction (eval batches may be shuffled). */
  indexes: number[];
}

/** Label the eval head is scored against: the target a task pairs with that head, else `M`, else the first label. */
export function evalLabelOf(ir: Ir, labels: readonly string[]): string {
  const head = ir.schedule.evalHead;
  for (const t of ir.tasks) {
    const i = t.heads.indexOf(head);
    if (i < 0 || t.targets.length === 0) continue;
    const target = t.targets[Math.min(i, t.targets.length - 1)]!;
    if (labels.includes(target)) return target;
  }
  if (labels.includes('M')) return 'M';
  if (labels.includes(head)) return head;
  const first = labels[0];
  if (first === undefined) throw new MmsaError('MSA6709', 'the dataset has no labels to evaluate against', { hint: 'check the dataset manifest\'s labels' });
  return first;
}

/** The key of a selection metric in an eval result: `loss` -> `Loss`, else the metric key (case-insensitive). */
export function selectionKey(metric: string, metrics: Record<string, number>): string {
  if (metric.toLowerCase() === 'loss') return 'Loss';
  if (metric in metrics) return metric;
  const k = Object.keys(metrics).find((m) => m.toLowerCase() === metric.toLowerCase());
  if (k === undefined) {
    throw new MmsaError('MSA6707', `selection metric '${metric}' is not among the evaluation results (${['Loss', ...Object.keys(metrics)].join(', ')})`, {
      hint: 'use `loss` or one of the metric keys of eval.metrics in train.select / train.early_stop',
    });
  }
  return k;
}

function yieldToLoop(): Promise<void> {
  // Lets signal handlers (Ctrl-C) and I/O run between CPU-bound steps.
  return new Promise((r) => setImmediate(r));
}

function addInto(acc: Grads | null, g: Grads): Grads {
  if (!acc) return g;
  const out: Grads = { ...acc };
  for (const [name, t] of Object.entries(g)) {
    const prev = acc[name];
    if (prev) {
      out[name] = tf.add(prev, t);
      prev.dispose();
      t.dispose();
    } else {
      out[name] = t;
    }
  }
  return out;
}

function scaleGrads(g: Grads, s: number): Grads {
  const out: Grads = {};
  for (const [n, t] of Object.entries(g)) out[n] = tf.mul(t, s);
  return out;
}

/**
 * One evaluation pass as MMSA's do_test: eval mode, the eval batches (shuffled when the schedule says so, from the
 * split's own stream), the validation loss as the mean of batch means, MMSA's metrics on the eval head.
 */
export function evaluateSplit(
  ir: Ir,
  pipeline: LoweredPipeline,
  split: SplitData,
  opts: { seed: number; epoch: number; batches?: Batcher; evalLabel?: string },
): EvalOutcome {
  const s = ir.schedule;
  const { model, tasks } = pipeline;
  const batches = opts.batches ?? iterateBatches;
  const evalLabel = opts.evalLabel ?? evalLabelOf(ir, Object.keys(split.labels));
  const metricOpts = ir.dataset.task === 'classification' && ir.dataset.numClasses ? { numClasses: ir.dataset.numClasses } : {};
  const bs = Math.max(1, Math.floor(s.evalBatchSize));
  const losses: number[] = [];
  const preds: number[] = [];
  const truth: number[] = [];
  const rows: number[] = [];
  const stream = split.name === 'test' ? STREAM.test : split.name === 'valid' ? STREAM.valid : STREAM.train;
  for (const batch of batches(split, { batchSize: bs, shuffle: s.shuffleEval, seed: deriveSeed(opts.seed, stream), epoch: opts.epoch })) {
    tf.tidy(() => {
      const out = model.forward(batch, evalCtx());
      const parts = tasks.filter((t) => t.evalLoss).map((t) => t.evalLoss!(out, batch));
      if (parts.length > 0) losses.push((parts.length === 1 ? parts[0]! : tf.addN(parts)).dataSync()[0]!);
      const head = out.heads[s.evalHead];
      if (!head) throw new MmsaError('MSA6705', `the model has no head '${s.evalHead}' to evaluate`, { hint: 'set eval.head to one of the spec\'s heads' });
      for (const v of head.dataSync()) preds.push(v);
    });
    const lab = batch.labels[evalLabel];
    if (lab) for (const v of lab) truth.push(v);
    for (const i of batch.indexes) rows.push(i);
  }
  const meanLoss = losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : NaN;
  const predictions = Float32Array.from(preds);
  const labels = Float32Array.from(truth);
  const metrics = computeMetrics(s.metrics as DatasetName | string[], predictions, labels, metricOpts);
  const loss = numpyRound(meanLoss, 4);
  return { loss, metrics: { ...metrics, Loss: loss }, predictions, labels, indexes: rows };
}

/**
 * Runs one seed's training schedule. The test split is read exactly once, after training, with the best weights;
 * every decision (selection, early stop) uses the selection split (valid).
 */
export async function* runSchedule(ir: Ir, pipeline: LoweredPipeline, data: LoadedDataset, opts: ExecuteOptions): AsyncGenerator<RunEvent, SeedResult | undefined> {
  const s = ir.schedule;
  const now = opts.now ?? Date.now;
  const emit = <E extends RunEvent>(body: EventBody<E>): E => makeEvent<E>(body, now);
  const batches: Batcher = opts.batches ?? iterateBatches;
  const { model, tasks, optimizer } = pipeline;
  const store = model.store;
  const seed = opts.seed;
  const k = Math.max(1, Math.floor(s.gradAccumSteps));
  const maxEpochs = opts.maxEpochs !== undefined ? opts.maxEpochs : s.maxEpochs;
  const splitOf = (name: string): SplitData => {
    if (name === 'test') {
      throw new MmsaError('MSA6708', 'model selection and early stopping may not read the test split', {
        hint: "set train.select.split and train.early_stop.split to 'valid'",
      });
    }
    if (name === 'train') return data.train;
    if (name === 'valid') return data.valid;
    throw new MmsaError('MSA6708', `unknown split '${name}' for model selection`, { hint: "use 'valid'" });
  };
  const selectSplit = splitOf(s.select.split);
  const stopSplit = splitOf(s.earlyStop.split);
  const evalLabel = evalLabelOf(ir, Object.keys(data.train.labels));
  const vars = optimizer.variables().filter((v) => v.trainable);
  const stepsPerEpoch = Math.ceil(data.train.n / Math.max(1, Math.floor(s.batchSize)));
  const startedAt = now();

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

  const evaluate = (split: SplitData, epoch: number): EvalOutcome => evaluateSplit(ir, pipeline, split, { seed, epoch, batches, evalLabel });

  for (const t of tasks) t.beforeTraining?.(data.train);

  let epochs = 0;
  let best = initialBest(s.select.mode);
  let bestEpoch = 0;
  let esBest = initialBest(s.earlyStop.mode);
  let esBestEpoch = 0;
  let bestState: StateDict | undefined;
  let bestTasks: Record<string, unknown> = {};
  let validAtBest: Record<string, number> = {};
  let interrupted = false;
  const improves = (mode: 'min' | 'max', cur: number, ref: number, minDelta: number) =>
    mode === 'min' ? cur <= ref - minDelta : cur >= ref + minDelta;

  // Task name -> its only head, for tasks whose loss trains one head (l1/mse/cross_entropy).
  const singleHead = new Map(ir.tasks.filter((t) => t.heads.length === 1).map((t) => [t.name, t.heads[0]!] as const));

  for (;;) {
    if (opts.signal?.aborted) {
      interrupted = true;
      break;
    }
    epochs += 1;
    const epoch = epochs;
    const epochStart = now();
    yield emit({ kind: 'epoch.start', runId: opts.runId, epoch });
    let counter = k;
    let acc: Grads | null = null;
    let accCount = 0;
    let optimizerSteps = 0;
    let lossSum = 0;
    let nBatches = 0;
    const taskLossSums: Record<string, number> = Object.fromEntries(tasks.map((t) => [t.name, 0]));
    const headLossSums: Record<string, number> = {};

    const applyStep = (grads: Grads, count: number) => {
      let g = grads;
      const owned: Grads[] = [];
      if (s.gradAccumMode === 'corrected' && count > 1) {
        g = scaleGrads(g, 1 / count);
        owned.push(g);
      }
      if (s.clip) {
        g = s.clip.type === 'value' ? clipGradValue(g, s.clip.max) : clipGradNorm(g, s.clip.max).grads;
        owned.push(g);
      }
      optimizer.step(g);
      for (const o of owned) disposeGrads(o);
      optimizerSteps += 1;
    };

    let step = 0;
    for (const batch of batches(data.train, { batchSize: s.batchSize, shuffle: true, seed: deriveSeed(seed, STREAM.train), epoch })) {
      if (opts.signal?.aborted) {
        interrupted = true;
        break;
      }
      step += 1;
      const t0 = performance.now();
      if (counter === k) {
        if (acc) disposeGrads(acc);
        acc = null;
        accCount = 0;
      }
      counter -= 1;
      const keep: { out?: ModelOutputs; losses: tf.Scalar[] } = { losses: [] };
      const ctx = trainCtx(deriveSeed(seed, STREAM.dropout, epoch, step));
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forward(batch, ctx);
        const parts = tasks.map((t) => t.trainLoss(out, batch, epoch));
        const total = (parts.length === 1 ? parts[0]! : tf.addN(parts)).reshape([]) as tf.Scalar;
        keep.out = { heads: mapKeep(out.heads), features: mapKeep(out.features) };
        keep.losses = parts.map((p) => tf.keep(p));
        return total;
      }, vars);
      const loss = value.dataSync()[0]!;
      value.dispose();
      const taskLosses: Record<string, number> = {};
      const headLosses: Record<string, number> = {};
      tasks.forEach((t, i) => {
        const v = keep.losses[i]!.dataSync()[0]!;
        taskLosses[t.name] = v;
        taskLossSums[t.name] = (taskLossSums[t.name] ?? 0) + v;
        // A single-head task's loss is its head's; multi-head tasks (ULGM) report their parts.
        const parts = t.lastHeadLosses?.() ?? (singleHead.get(t.name) !== undefined ? { [singleHead.get(t.name)!]: v } : {});
        for (const [h, hv] of Object.entries(parts)) headLosses[h] = (headLosses[h] ?? 0) + hv;
      });
      for (const [h, hv] of Object.entries(headLosses)) headLossSums[h] = (headLossSums[h] ?? 0) + hv;
      for (const l of keep.losses) l.dispose();
      lossSum += loss;
      nBatches += 1;
      acc = addInto(acc, grads);
      accCount += 1;
      if (keep.out) {
        const outs = keep.out;
        for (const t of tasks) t.afterStep?.(outs, batch, epoch);
        disposeOutputs(outs);
      }
      let stepped = false;
      if (counter === 0) {
        applyStep(acc, accCount);
        disposeGrads(acc);
        acc = null;
        accCount = 0;
        counter = k;
        stepped = true;
      }
      const dt = (performance.now() - t0) / 1000;
      const lr = optimizer.groups.find((g) => g.trainable)?.lr;
      yield emit({
        kind: 'step.end',
        runId: opts.runId,
        epoch,
        step,
        steps: stepsPerEpoch,
        loss,
        taskLosses,
        headLosses,
        optimizerStep: stepped,
        ...(lr !== undefined ? { lr } : {}),
        examplesPerSec: dt > 0 ? batch.size / dt : 0,
      });
      await yieldToLoop();
    }
    // Leftover batches of the epoch (n mod k): MMSA computes their gradients and then drops them; 'corrected' steps.
    if (acc) {
      if (!interrupted && s.gradAccumMode === 'corrected' && accCount > 0) applyStep(acc, accCount);
      disposeGrads(acc);
      acc = null;
    }
    if (interrupted) {
      epochs -= 1;
      break;
    }

    const valid = evaluate(data.valid, epoch);
    yield emit({ kind: 'eval.end', runId: opts.runId, epoch, split: 'valid', loss: valid.loss, metrics: valid.metrics });
    const selectRes = selectSplit === data.valid ? valid : evaluate(selectSplit, epoch);
    const stopRes = stopSplit === data.valid ? valid : stopSplit === selectSplit ? selectRes : evaluate(stopSplit, epoch);
    const selKey = selectionKey(s.select.metric, selectRes.metrics);
    const cur = selectRes.metrics[selKey]!;
    const improved = improves(s.select.mode, cur, best, s.select.minDelta);
    if (improved) {
      best = cur;
      bestEpoch = epoch;
      validAtBest = { ...selectRes.metrics };
      bestState = store.stateDict();
      bestTasks = {};
      for (const t of tasks) if (t.snapshot) bestTasks[t.name] = t.snapshot();
    }
    const esKey = selectionKey(s.earlyStop.metric, stopRes.metrics);
    const esCur = stopRes.metrics[esKey]!;
    if (improves(s.earlyStop.mode, esCur, esBest, s.earlyStop.minDelta)) {
      esBest = esCur;
      esBestEpoch = epoch;
    }
    const taskExtras: Record<string, Record<string, unknown>> = {};
    for (const t of tasks) {
      const extra = t.onEpochEnd?.(epoch);
      if (extra && Object.keys(extra).length > 0) {
        taskExtras[t.name] = extra;
        yield emit({ kind: 'task.update', runId: opts.runId, epoch, task: t.name, data: extra });
      }
    }
    if (improved && opts.saveCheckpoint && bestState) {
      const saved = await opts.saveCheckpoint({ pipeline: ir.pipeline, epoch, topology: topologyOf(ir), weights: bestState, tasks: bestTasks, selectValue: cur });
      yield emit({ kind: 'checkpoint.saved', runId: opts.runId, epoch, path: saved.path, bytes: saved.bytes });
    }
    const patienceLeft = s.earlyStop.patience - (epoch - esBestEpoch);
    yield emit({
      kind: 'epoch.end',
      runId: opts.runId,
      epoch,
      trainLoss: nBatches ? lossSum / nBatches : NaN,
      taskLosses: Object.fromEntries(Object.entries(taskLossSums).map(([n, v]) => [n, nBatches ? v / nBatches : NaN])),
      headLosses: Object.fromEntries(Object.entries(headLossSums).map(([n, v]) => [n, nBatches ? v / nBatches : NaN])),
      valid: { loss: valid.loss, metrics: valid.metrics },
      select: { metric: selKey, value: cur, best, bestEpoch },
      improved,
      patienceLeft,
      optimizerSteps,
      seconds: (now() - epochStart) / 1000,
      taskExtras,
    });
    await yieldToLoop();
    if (epoch - esBestEpoch >= s.earlyStop.patience) break;
    if (maxEpochs !== null && maxEpochs !== undefined && epoch >= maxEpochs) break;
  }

  if (interrupted) {
    yield emit({
      kind: 'run.end',
      runId: opts.runId,
      scope: 'seed',
      status: 'interrupted',
      seed,
      seedIndex: opts.seedIndex ?? 0,
      epochs,
      bestEpoch,
      ...(opts.runDir ? { runDir: opts.runDir } : {}),
      seconds: (now() - startedAt) / 1000,
    });
    return undefined;
  }

  // Best weights back (MMSA reloads its best checkpoint); with no improvement at all the last weights stay.
  if (bestState) store.loadStateDict(bestState);
  for (const t of tasks) if (t.restore && t.name in bestTasks) t.restore(bestTasks[t.name]);
  const test = evaluate(data.test, epochs + 1);
  const predictionsFile = opts.runDir ? writePredictions(join(opts.runDir, 'predictions.csv'), data.test, test) : undefined;
  yield emit({ kind: 'eval.end', runId: opts.runId, epoch: epochs, split: 'test', loss: test.loss, metrics: test.metrics, ...(predictionsFile ? { predictionsFile } : {}) });
  const result: SeedResult = { seed, test: test.metrics, validAtBest, bestEpoch, epochs };
  yield emit({
    kind: 'run.end',
    runId: opts.runId,
    scope: 'seed',
    status: 'completed',
    seed,
    seedIndex: opts.seedIndex ?? 0,
    result,
    epochs,
    bestEpoch,
    ...(opts.runDir ? { runDir: opts.runDir } : {}),
    seconds: (now() - startedAt) / 1000,
  });
  return result;
}

/** Test predictions of the best weights (id, prediction, label) in split order, for `mmsa report`'s scatter plot. */
export function writePredictions(path: string, split: SplitData, r: EvalOutcome): string | undefined {
  // Only one value per sample (regression, or a class index) fits a row; wider heads are left to `mmsa predict`.
  if (r.predictions.length !== r.indexes.length) return undefined;
  const order = r.indexes.map((row, k) => [row, k] as const).sort((a, b) => a[0] - b[0]);
  const lines = order.map(([row, k]) => [csvCell(split.ids[row] ?? String(row)), csvCell(r.predictions[k]!), k < r.labels.length ? csvCell(r.labels[k]!) : ''].join(','));
  writeFileAtomic(path, `id,prediction,label\n${lines.join('\n')}\n`);
  return path;
}

function mapKeep(m: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [k, t] of Object.entries(m)) out[k] = tf.keep(t);
  return out;
}

function disposeOutputs(o: ModelOutputs): void {
  const seen = new Set<tf.Tensor>();
  for (const t of [...Object.values(o.heads), ...Object.values(o.features)]) {
    if (seen.has(t)) continue;
    seen.add(t);
    t.dispose();
  }
}

/** The model's structure for the checkpoint: node ids, types, inputs and parameter shapes. */
export function topologyOf(ir: Ir): unknown {
  return {
    pipeline: ir.pipeline,
    nodes: ir.nodes.map((n) => ({ id: n.id, kind: n.kind, type: n.type, inputs: n.inputs, output: n.output.shape, params: n.params.map((p) => ({ name: p.name, shape: p.shape, trainable: p.trainable })) })),
    heads: ir.nodes.filter((n) => n.kind === 'head').map((n) => n.name),
    evalHead: ir.schedule.evalHead,
  };
}

/** Predictions of the eval head for every sample of a split, in split order (used by `mmsa predict`). */
export function predictSplit(ir: Ir, pipeline: LoweredPipeline, split: SplitData, batcher: Batcher = iterateBatches): { ids: string[]; predictions: Float32Array; labels: Float32Array | undefined } {
  const s = ir.schedule;
  // New data to predict on may come without labels.
  const label = Object.keys(split.labels).length > 0 ? evalLabelOf(ir, Object.keys(split.labels)) : undefined;
  const preds = new Float32Array(split.n);
  const per = new Map<number, number>();
  for (const batch of batcher(split, { batchSize: Math.max(1, Math.floor(s.evalBatchSize)), shuffle: false, seed: 0, epoch: 0 })) {
    tf.tidy(() => {
      const out = pipeline.model.forward(batch, evalCtx());
      const head = out.heads[s.evalHead];
      if (!head) throw new MmsaError('MSA6705', `the model has no head '${s.evalHead}'`, {});
      const v = head.dataSync();
      const width = v.length / batch.size;
      for (let i = 0; i < batch.size; i++) per.set(batch.indexes[i]!, width === 1 ? v[i]! : argmaxRow(v, i, width));
    });
  }
  for (const [i, v] of per) preds[i] = v;
  return { ids: split.ids, predictions: preds, labels: label === undefined ? undefined : split.labels[label] };
}

function argmaxRow(v: ArrayLike<number>, row: number, width: number): number {
  let best = 0;
  for (let j = 1; j < width; j++) if (v[row * width + j]! > v[row * width + best]!) best = j;
  return best;
}

export type { SplitName };
