// Evaluation of a lowered pipeline: MMSA's do_test on a split (eval mode, validation loss as the mean of batch means,
// MMSA's metrics on the eval head), predictions for `mmsa predict`, and the predictions file. Phase 7 (execute).

import * as tf from '@tensorflow/tfjs';
import type { Ir } from '../../compiler/ir/types.js';
import { LOSS_KEY } from '../../core/metrics.js';
import { MmsaError } from '../../errors.js';
import { iterateBatches, splitBatch, type BatchOptions } from '../data/batching.js';
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
  opts: {
    seed: number;
    epoch: number;
    batches?: Batcher;
    evalLabel?: string;
    /** Default: the schedule's shuffle_eval (MMSA shuffles valid/test; the loss is a mean of batch means). */
    shuffle?: boolean;
    /**
     * Chunks each eval batch runs in (the training's micro-batches; default 1): the batch's loss is the chunks' losses
     * weighted by their share, its predictions theirs in order, as for the whole batch.
     */
    microBatches?: number;
  },
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
  for (const batch of batches(split, { batchSize: bs, shuffle: opts.shuffle ?? s.shuffleEval, seed: deriveSeed(opts.seed, stream), epoch: opts.epoch })) {
    let batchLoss: number | undefined;
    for (const chunk of splitBatch(batch, opts.microBatches ?? 1)) {
      tf.tidy(() => {
        const out = model.forward(chunk, evalCtx());
        const parts = tasks.filter((t) => t.evalLoss).map((t) => t.evalLoss!(out, chunk));
        if (parts.length > 0) batchLoss = (batchLoss ?? 0) + (parts.length === 1 ? parts[0]! : tf.addN(parts)).dataSync()[0]! * (chunk.size / batch.size);
        const head = out.heads[s.evalHead];
        if (!head) throw new MmsaError('MSA6705', `the model has no head '${s.evalHead}' to evaluate`, { hint: 'set eval.head to one of the spec\'s heads' });
        for (const v of head.dataSync()) preds.push(v);
      });
    }
    if (batchLoss !== undefined) losses.push(batchLoss);
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

/** Test predictions of the best weights in split order (`mmsa report`'s scatter plot and confusion matrix). */
export function writePredictions(path: string, split: SplitData, r: EvalOutcome): string | undefined {
  const n = r.indexes.length;
  if (n === 0 || r.predictions.length % n !== 0) return undefined;
  const width = r.predictions.length / n;
  const order = r.indexes.map((row, k) => [row, k] as const).sort((a, b) => a[0] - b[0]);
  const text = predictionsCsv(
    order.map(([row]) => split.ids[row] ?? String(row)),
    order.map(([, k]) => r.predictions.subarray(k * width, (k + 1) * width)),
    order.map(([, k]) => (k < r.labels.length ? r.labels[k]! : null)),
  );
  writeFileAtomic(path, text);
  return path;
}

/** Softmax of one row of logits (float64, shifted by the max so large logits do not overflow). */
export function softmaxRow(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let j = 0; j < logits.length; j++) max = Math.max(max, logits[j]!);
  const e = Array.from({ length: logits.length }, (_, j) => Math.exp(logits[j]! - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/**
 * The predictions file: `id,prediction,label` for one output per sample (regression); for classification heads
 * (one logit per class) the prediction is the class index and `prob_0..prob_{C-1}` its softmax probabilities follow.
 */
export function predictionsCsv(ids: readonly string[], outputs: readonly ArrayLike<number>[], labels: readonly (number | null)[]): string {
  const width = outputs[0]?.length ?? 1;
  const head = ['id', 'prediction', 'label', ...(width > 1 ? Array.from({ length: width }, (_, j) => `prob_${j}`) : [])];
  const lines = ids.map((id, i) => {
    const o = outputs[i]!;
    const label = labels[i];
    const lab = label === null || label === undefined ? '' : csvCell(label);
    if (width === 1) return [csvCell(id), csvCell(o[0]!), lab].join(',');
    const p = softmaxRow(o);
    return [csvCell(id), String(argmaxRow(o, 0, width)), lab, ...p.map((v) => csvCell(Number(v.toPrecision(6))))].join(',');
  });
  return `${head.join(',')}\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
}

export interface SplitPredictions {
  ids: string[];
  /** Per sample: the regression output, or the class index (argmax of the logits). */
  predictions: Float32Array;
  /** Per sample the eval head's raw outputs (one value, or one logit per class), in split order. */
  outputs: Float32Array[];
  labels: Float32Array | undefined;
}

/**
 * Predictions of the eval head for every sample of a split, in split order (`mmsa predict`). `microBatches`: the chunks
 * each batch runs in (the memory plan's count; default 1), with the whole batch's predictions.
 */
export function predictSplit(ir: Ir, pipeline: LoweredPipeline, split: SplitData, opts: { batches?: Batcher; microBatches?: number } = {}): SplitPredictions {
  const s = ir.schedule;
  // New data to predict on may come without labels.
  const label = Object.keys(split.labels).length > 0 ? evalLabelOf(ir, Object.keys(split.labels)) : undefined;
  const preds = new Float32Array(split.n);
  const outputs: Float32Array[] = new Array<Float32Array>(split.n);
  const batches = opts.batches ?? iterateBatches;
  for (const batch of batches(split, { batchSize: Math.max(1, Math.floor(s.evalBatchSize)), shuffle: false, seed: 0, epoch: 0 })) {
    for (const chunk of splitBatch(batch, opts.microBatches ?? 1)) {
      tf.tidy(() => {
        const out = pipeline.model.forward(chunk, evalCtx());
        const head = out.heads[s.evalHead];
        if (!head) throw new MmsaError('MSA6705', `the model has no head '${s.evalHead}'`, {});
        const v = head.dataSync() as Float32Array;
        const width = v.length / chunk.size;
        for (let i = 0; i < chunk.size; i++) {
          const row = chunk.indexes[i]!;
          outputs[row] = v.slice(i * width, (i + 1) * width);
          preds[row] = width === 1 ? v[i]! : argmaxRow(v, i, width);
        }
      });
    }
  }
  return { ids: split.ids, predictions: preds, outputs, labels: label === undefined ? undefined : split.labels[label] };
}

function argmaxRow(v: ArrayLike<number>, row: number, width: number): number {
  let best = 0;
  for (let j = 1; j < width; j++) if (v[row * width + j]! > v[row * width + best]!) best = j;
  return best;
}
