// Evaluation of a lowered pipeline: MMSA's do_test on a split (eval mode, validation loss as the mean of batch means,
// MMSA's metrics on the eval head), predictions for `mmsa predict`, and the predictions file. Phase 7 (execute).

import * as tf from '@tensorflow/tfjs';
import type { Ir } from '../../compiler/ir/types.js';
import { LOSS_KEY } from '../../core/metrics.js';
import { MmsaError } from '../../errors.js';
import { iterateBatches, type BatchOptions } from '../data/batching.js';
import type { Batch, SplitData } from '../data/types.js';
import type { LoweredPipeline } from '../lower/types.js';
import { computeMetrics, numpyRound, type DatasetName } from '../metrics/index.js';
import { evalCtx } from '../nn/params.js';
import { deriveSeed } from '../random.js';
import { csvCell, writeFileAtomic } from '../run-dir.js';

export type Batcher = (split: SplitData, opts: BatchOptions) => Iterable<Batch>;

/** Shuffle and dropout streams: each split gets its own, mixed with the epoch by the batcher. */
export const STREAM = { train: 1, valid: 2, test: 3, dropout: 4 } as const;

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
  if (first === undefined) throw new MmsaError('MSA6706', 'the dataset has no labels to evaluate against', { hint: 'check the dataset manifest\'s labels' });
  return first;
}

/** The key of a watched metric in an eval result: `loss` -> `Loss`, else the metric key (case-insensitive). */
export function selectionKey(metric: string, metrics: Record<string, number>): string {
  if (metric.toLowerCase() === LOSS_KEY.toLowerCase()) return LOSS_KEY;
  if (metric in metrics) return metric;
  const k = Object.keys(metrics).find((m) => m.toLowerCase() === metric.toLowerCase());
  if (k === undefined) {
    throw new MmsaError('MSA6713', `selection metric '${metric}' is not among the evaluation results (${[LOSS_KEY, ...Object.keys(metrics)].join(', ')})`, {
      hint: 'use `loss` or one of the metric keys of eval.metrics in train.select / train.early_stop',
    });
  }
  return k;
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
  return { loss, metrics: { ...metrics, [LOSS_KEY]: loss }, predictions, labels, indexes: rows };
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
