// Mini-batches over a loaded split: seeded per-epoch shuffles, sample indexes carried with each batch, zero-copy
// views for contiguous index runs. Phase 7 (execute).

import { Rng, deriveSeed } from '../random.js';
import type { ArrayData, Batch, SplitData } from './types.js';

/** The sample order of one epoch: identity when not shuffled, else a Fisher-Yates permutation of (seed, epoch). */
export function epochOrder(n: number, shuffle: boolean, seed: number, epoch = 0): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (!shuffle) return order;
  const rng = new Rng(deriveSeed(seed, epoch, 0x5f3759df));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

export interface BatchOptions {
  batchSize: number;
  shuffle: boolean;
  seed: number;
  /** Epoch number mixed into the shuffle seed (default 0): same seed + epoch gives the same order. */
  epoch?: number;
}

function rowSize(shape: number[]): number {
  let r = 1;
  for (let i = 1; i < shape.length; i++) r *= shape[i]!;
  return r;
}

/** First index of a run start..start+len-1, or -1 when the indexes are not such a run. */
function contiguousStart(idx: Int32Array): number {
  const s = idx[0] ?? 0;
  for (let i = 1; i < idx.length; i++) if (idx[i] !== s + i) return -1;
  return s;
}

function takeRows<T extends Float32Array | Int32Array>(src: T, row: number, idx: Int32Array, start: number): T {
  if (start >= 0) return src.subarray(start * row, (start + idx.length) * row) as T;
  const out = new (src.constructor as { new (n: number): T })(idx.length * row);
  if (row === 1) {
    for (let i = 0; i < idx.length; i++) out[i] = src[idx[i]!]!;
  } else {
    for (let i = 0; i < idx.length; i++) {
      const o = idx[i]! * row;
      out.set(src.subarray(o, o + row), i * row);
    }
  }
  return out;
}

/**
 * Gathers one batch of a split. Contiguous index runs (every batch of an unshuffled epoch) give `subarray` views that
 * share memory with the split; anything else is copied.
 */
export function gatherBatch(split: SplitData, indexes: Int32Array): Batch {
  const start = contiguousStart(indexes);
  const features: Record<string, ArrayData> = {};
  for (const [name, a] of Object.entries(split.features)) {
    features[name] = { data: takeRows(a.data, rowSize(a.shape), indexes, start), shape: [indexes.length, ...a.shape.slice(1)] };
  }
  const lengths: Record<string, Int32Array> = {};
  for (const [name, l] of Object.entries(split.lengths)) lengths[name] = takeRows(l, 1, indexes, start);
  const labels: Record<string, Float32Array> = {};
  for (const [name, l] of Object.entries(split.labels)) labels[name] = takeRows(l, 1, indexes, start);
  return { indexes, size: indexes.length, features, lengths, labels };
}

/**
 * The rows [start, end) of a batch as a batch of its own (views of its arrays, no copies): one micro-batch of
 * `train.micro_batches`, with the sample indexes of those rows.
 */
export function sliceBatch(batch: Batch, start: number, end: number): Batch {
  const rows = (a: Int32Array | Float32Array, row: number) => a.subarray(start * row, end * row);
  const features: Record<string, ArrayData> = {};
  for (const [name, a] of Object.entries(batch.features)) features[name] = { data: rows(a.data, rowSize(a.shape)), shape: [end - start, ...a.shape.slice(1)] };
  const lengths: Record<string, Int32Array> = {};
  for (const [name, l] of Object.entries(batch.lengths)) lengths[name] = l.subarray(start, end);
  const labels: Record<string, Float32Array> = {};
  for (const [name, l] of Object.entries(batch.labels)) labels[name] = l.subarray(start, end);
  return { indexes: batch.indexes.subarray(start, end), size: end - start, features, lengths, labels };
}

/** [start, end) of `chunks` near-equal parts of `size` rows (the larger ones first; never an empty one). */
export function chunkRanges(size: number, chunks: number): [number, number][] {
  const k = Math.max(1, Math.min(size, Math.floor(chunks)));
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < k; i++) {
    const end = start + Math.floor(size / k) + (i < size % k ? 1 : 0);
    out.push([start, end]);
    start = end;
  }
  return out;
}

/** train.micro_batches as a chunk count: the spec's count, or 1 for 'auto' (which the memory plan resolves). */
export function microBatchCount(m: number | 'auto'): number {
  return m === 'auto' ? 1 : Math.max(1, Math.floor(m));
}

/** A batch as its `chunks` micro-batches (chunkRanges' rows, sliceBatch's views); the batch itself when one chunk. */
export function splitBatch(batch: Batch, chunks: number): Batch[] {
  const ranges = chunkRanges(batch.size, chunks);
  return ranges.length === 1 ? [batch] : ranges.map(([from, to]) => sliceBatch(batch, from, to));
}

/** Lazily yields the batches of one epoch (the last partial batch is kept, as torch's drop_last=False). */
export function* iterateBatches(split: SplitData, opts: BatchOptions): Generator<Batch> {
  yield* batchesInOrder(split, epochOrder(split.n, opts.shuffle, opts.seed, opts.epoch ?? 0), opts.batchSize);
}

/** The batches of `batchSize` samples of one pass in `order` (the last partial batch is kept). */
export function* batchesInOrder(split: SplitData, order: Int32Array, batchSize: number): Generator<Batch> {
  const bs = Math.floor(batchSize);
  if (!(bs >= 1)) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  for (let s = 0; s < split.n; s += bs) yield gatherBatch(split, order.subarray(s, Math.min(split.n, s + bs)));
}

/** All batches of one epoch; see `iterateBatches` for the lazy form (less memory for shuffled large splits). */
export function makeBatches(split: SplitData, opts: BatchOptions): Batch[] {
  return [...iterateBatches(split, opts)];
}

/** Number of batches per epoch. */
export function batchCount(n: number, batchSize: number): number {
  return Math.ceil(n / Math.max(1, Math.floor(batchSize)));
}
