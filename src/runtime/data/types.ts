// Data-layer contracts between dataset loading and the training runtime: loaded splits,
// per-modality arrays after preprocessing, labels, and batches. Phase 7 (execute) input.

export type SplitName = 'train' | 'valid' | 'test';

/** A dense row-major array with its shape; the first axis is the sample axis. */
export interface ArrayData<T extends Float32Array | Int32Array = Float32Array | Int32Array> {
  data: T;
  /** Full shape including N: e.g. [N, T, D] for a sequence, [N, D] for a vector, [N, 3, L] for BERT tokens. */
  shape: number[];
}

export interface SplitData {
  name: SplitName;
  /** Number of samples. */
  n: number;
  /** Sample ids (`video$_$clip`), as in the file (or generated for synthetic data). */
  ids: string[];
  /** Raw text when the file has it (used by `mmsa predict` and BERT tokenisation). */
  rawText?: string[];
  /**
   * Per modality name (the spec's `modalities` keys), after the spec's preprocessing (-inf -> 0, time mean,
   * seq_len truncation/padding, avg_pool alignment): float features as Float32Array, BERT tokens as Int32Array [N, 3, L].
   */
  features: Record<string, ArrayData>;
  /** Per modality name: true lengths (clamped to >= 1 when the spec says so); absent when the modality has none. */
  lengths: Record<string, Int32Array>;
  /** Per label name of the dataset (M, T, A, V, ...): one float per sample (class index for classification). */
  labels: Record<string, Float32Array>;
}

export interface LoadedDataset {
  name: string;
  train: SplitData;
  valid: SplitData;
  test: SplitData;
  /** Where it came from: file path and SHA-256 (when computed), or the synthetic settings. */
  provenance: { source: 'manifest' | 'synthetic' | 'custom'; path?: string; sha256?: string; synthetic?: Record<string, unknown> };
}

/** One mini-batch: sample positions in the split plus views/copies of every array for those samples. */
export interface Batch {
  /** Positions in the split (ULGM keys its label banks by them). */
  indexes: Int32Array;
  size: number;
  features: Record<string, ArrayData>;
  lengths: Record<string, Int32Array>;
  labels: Record<string, Float32Array>;
}
