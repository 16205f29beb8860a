// IR types: the typed graph of a pipeline (nodes with tensor types and parameters, tasks, groups, schedule).
// Produced by phase 5 (ir / shape inference), printed by `mmsa plan`, lowered by phase 6.

import type { Span } from '../source/source-file.js';

/** A dimension: a fixed size, or the symbolic batch size. */
export type Dim = number | 'B';

export interface TensorType {
  /**
   * vector: [B, D]; sequence: [B, T, D]; tokens: [B, 3, L] (BERT ids, mask, segments);
   * logits: [B, C] class scores; value: [B, 1] one regression output.
   */
  kind: 'vector' | 'sequence' | 'tokens' | 'logits' | 'value';
  shape: Dim[];
  dtype: 'float32' | 'int32';
  /** For sequences: whether time steps are aligned to the text tokens. */
  aligned?: boolean;
  /** For sequences: the feature holding each sample's true length, if any. */
  lengths?: string;
}

/** The feature (last) size of a type. */
export function featureDim(t: TensorType): number {
  const d = t.shape[t.shape.length - 1];
  return typeof d === 'number' ? d : 0;
}

export function formatType(t: TensorType): string {
  const shape = `[${t.shape.join(', ')}]`;
  const extra: string[] = [];
  if (t.kind === 'sequence') {
    extra.push(t.aligned ? 'aligned' : 'unaligned');
    if (t.lengths) extra.push(`lengths ${t.lengths}`);
  }
  return `${t.kind} ${shape}${t.dtype === 'int32' ? ' int32' : ''}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

export interface ParamDecl {
  /** Name local to the node, PyTorch state_dict style: `lstm.weight_ih_l0`, `layers.0.weight`, `text_factor`. */
  name: string;
  shape: number[];
  /** false for buffers and constants (BatchNorm running stats, TFN's output range). */
  trainable: boolean;
  /** A buffer is state, not a parameter: it is never in a parameter group. */
  buffer?: boolean;
}

export function paramSize(p: ParamDecl): number {
  return p.shape.reduce((a, b) => a * b, 1);
}

export type NodeKind = 'input' | 'encoder' | 'fusion' | 'head';

/** A node's normalized params: the component's spec entry with every default filled (a modality for inputs). */
export type NodeConfig = Record<string, unknown>;

export interface IrNode<C = NodeConfig> {
  /** Unique path: `modalities.text`, `encoders.audio`, `fusion`, `heads.M`. Parameter names start with it. */
  id: string;
  kind: NodeKind;
  /** The user's name (modality/encoder/head key, or 'fusion'). */
  name: string;
  /** Component type (`lstm`, `concat`, ...); for inputs the dataset feature name. */
  type: string;
  /** Node ids this node reads, in order. */
  inputs: string[];
  output: TensorType;
  params: ParamDecl[];
  /** One-line description of the configured component for `mmsa plan`. */
  summary: string;
  /** Normalized component params, typed by the component (the lowering reads them as they are). */
  config: C;
  span: Span;
  /** Named outputs, read as `<node id>:<name>` (a head's first hidden activation `hidden0`, ULGM's feature). */
  features?: Record<string, TensorType>;
  /** When a rewrite replaced the component the spec names (frozen BERT read as precomputed features): that one. */
  rewrittenFrom?: { type: string; config: NodeConfig };
}

export interface ScheduleHook {
  /** When it runs: once before epoch 1, after every training step, at each epoch end. */
  when: 'before_training' | 'step' | 'epoch_end';
  /** First epoch the hook is active (1-based). */
  fromEpoch: number;
  description: string;
}

export interface IrTask<C = NodeConfig> {
  name: string;
  type: string;
  /** Heads whose outputs the loss reads. */
  heads: string[];
  /** Label names the task reads. */
  targets: string[];
  weight: number;
  /** Counts in the validation Loss. */
  validLoss: boolean;
  summary: string;
  hooks: ScheduleHook[];
  /** Node outputs the task reads by reference (`encoders.sp:private_text`), as `<node id>` or `<node id>:<name>`. */
  inputs?: string[];
  config: C;
  span: Span;
}

export interface IrParamGroup {
  name: string;
  lr: number;
  weightDecay: number;
  trainable: boolean;
  /** Full parameter names (`encoders.audio.lstm.weight_ih_l0`) that get `weightDecay`. */
  params: string[];
  /** Full parameter names of the group that get weight decay 0 (`no_decay` patterns). */
  noDecayParams: string[];
  span: Span;
}

export interface ResolvedFeature {
  key: string;
  /** Per-sample shape (without N). */
  shape: number[];
  dtype: 'float' | 'int' | 'str';
  lengths?: string;
}

export interface ResolvedDataset {
  /** Manifest or synthetic or custom dataset name. */
  name: string;
  source: 'manifest' | 'synthetic' | 'custom';
  /** Feature-file setting of a manifest (`aligned_50`). */
  file?: string;
  /** Data root and relative path (manifest), or absolute path (custom); none for synthetic data. */
  root?: string;
  path?: string;
  sha256?: string | null;
  aligned: boolean;
  splits: { train: number; valid: number; test: number };
  features: Record<string, ResolvedFeature>;
  /** Label name (M, T, A, V, ...) -> key in the file. */
  labels: Record<string, string>;
  task: 'regression' | 'classification';
  numClasses?: number;
  labelRange?: [number, number];
  /** Metric set name or list of metric names. */
  metrics: string | string[];
  language?: string;
  pretrained?: string;
  /** Where to get the data (shown when files are missing). */
  sourceHint?: string;
  /** Manifest file, when the dataset comes from one. */
  manifestPath?: string;
  /** Synthetic generator settings. */
  synthetic?: Record<string, unknown>;
  span: Span;
}

/** A learning-rate scheduler with PyTorch's semantics, stepped after every epoch. */
export type IrScheduler =
  | {
      type: 'plateau';
      /** Watched value ('loss' or a metric key) on `split`, as model selection reads it. */
      metric: string;
      split: string;
      mode: 'min' | 'max';
      factor: number;
      patience: number;
      threshold: number;
      thresholdMode: 'rel' | 'abs';
      cooldown: number;
      minLr: number;
      eps: number;
    }
  | { type: 'step'; stepSize: number; gamma: number }
  | { type: 'cosine'; tMax: number; etaMin: number; warmup: number };

/** Optimizer steps with their own parameter groups and losses; stages run in order each epoch. */
export interface IrStage {
  name: string;
  /** Optimizer group names (IrParamGroup.name) the stage updates. */
  groups: string[];
  /** Task names whose losses it minimises. */
  tasks: string[];
  /** batch: a step per batch after the batch stages before it; epoch: its own pass over the training data. */
  every: 'batch' | 'epoch';
  scheduler: IrScheduler | null;
  /** Share of the pass's batches it trains on (batch i of n while i / n < fraction); absent: every batch. */
  fraction?: number;
  /** 'all': gradients of every trainable parameter, all counted by a norm clip, only the stage's groups step. */
  grads?: 'all';
}

export interface TrainingSchedule {
  batchSize: number;
  evalBatchSize: number;
  gradAccumSteps: number;
  gradAccumMode: 'reference' | 'corrected' | 'step_every_batch';
  /**
   * Chunks each training batch is split into along the samples (forward and backward per chunk, one optimizer step per
   * batch); 'auto': 1 unless the memory plan needs more.
   */
  microBatches: number | 'auto';
  /** Initial-weight stream (train.init_rng; absent = 'mmsa'). */
  initRng?: 'mmsa' | 'torch';
  /** Loader-order stream (train.shuffle_rng; absent = 'mmsa'); 'torch' continues the init stream as DataLoader does. */
  shuffleRng?: 'mmsa' | 'torch';
  /** Weight matrices (>= 2 dims) of these groups drawn again after lowering (train.reinit). */
  reinit?: { init: 'xavier_normal'; groups: string[] };
  maxEpochs: number | null;
  optimizer: { type: 'adam' | 'adamw'; betas: [number, number]; eps: number };
  /** `when`: after every backward on the accumulated gradients (MMSA), or once before each optimizer step. */
  clip: { type: 'value' | 'norm'; max: number; when: 'backward' | 'step' } | null;
  earlyStop: { metric: string; split: string; mode: 'min' | 'max'; patience: number; minDelta: number };
  select: { metric: string; split: string; mode: 'min' | 'max'; minDelta: number };
  shuffleEval: boolean;
  evalHead: string;
  metrics: string | string[];
  evalSplits: string[];
  seeds: number[];
  /** Stages of each epoch; without `train.stages` one stage of every group and task, a step per batch. */
  stages: IrStage[];
  /** Whether the spec wrote `train.stages` (the plan shows stages only then). */
  stagesDeclared: boolean;
}

export interface Ir {
  pipeline: string;
  file: string;
  dataset: ResolvedDataset;
  nodes: IrNode[];
  tasks: IrTask[];
  groups: IrParamGroup[];
  schedule: TrainingSchedule;
  totalParams: number;
  trainableParams: number;
}
