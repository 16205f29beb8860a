// Run events: the versioned union the executor and the run orchestration emit, and the only thing reporters read.
// Phase 7 (execute) produces them, phase 8 (report) consumes them; no React/Ink here.

/** Bump when a field changes meaning or disappears (adding optional fields keeps v1). */
export const EVENT_VERSION = 1 as const;

interface EventBase {
  v: typeof EVENT_VERSION;
  /** `<spec-hash>-<seed>` for one seed's run, `<spec-hash>-summary` for the aggregate. */
  runId: string;
  /** Milliseconds since the epoch. */
  t: number;
}

export interface ParamCounts {
  total: number;
  trainable: number;
  /** Variables in the optimizer's trainable groups. */
  optimized: number;
}

export interface RunStartEvent extends EventBase {
  kind: 'run.start';
  pipeline: string;
  dataset: { name: string; source: string; path?: string; sha256?: string; n: { train: number; valid: number; test: number } };
  backend: string;
  seed: number;
  /** 0-based position of the seed in the run's seed list. */
  seedIndex: number;
  seedCount: number;
  /** Epoch cap (null: early stopping only, as MMSA). */
  epochsMax: number | null;
  stepsPerEpoch: number;
  params: ParamCounts;
  /** Run directory of this seed (absent when the executor runs without one). */
  runDir?: string;
  /** Set when this run replaces one that died in the same directory: what was found (owner, last heartbeat). */
  recovered?: string;
}

/**
 * First event of `mmsa run`, before the backend and the data are ready: what runs, so a reporter has a header at once
 * (also when every seed is reused from an earlier run). runId `<spec-hash>-summary`.
 */
export interface PipelineStartEvent extends EventBase {
  kind: 'pipeline.start';
  pipeline: string;
  dataset: { name: string; source: string };
  /** The backend asked for (run.start names what was set up, e.g. with the native kernels). */
  backend: string;
  seeds: number[];
  epochsMax: number | null;
  patience: number;
}

/**
 * Reading the feature file (or generating synthetic data), before the first seed that trains: at the start, every
 * ~1% or 200 ms of progress, and at the end (`done`). runId `<spec-hash>-<seed>` of that seed.
 */
export interface DataLoadEvent extends EventBase {
  kind: 'data.load';
  /** The feature file, or `<synthetic NAME>`. */
  file: string;
  /** Bytes read so far and the file's size (0 and 0 for synthetic data). */
  bytes: number;
  totalBytes: number;
  done: boolean;
  seconds: number;
}

export interface EpochStartEvent extends EventBase {
  kind: 'epoch.start';
  epoch: number;
}

export interface StepEndEvent extends EventBase {
  kind: 'step.end';
  epoch: number;
  /** 1-based batch number within the epoch. */
  step: number;
  /** Batches per epoch. */
  steps: number;
  /** Total training loss of the batch (sum of the task losses). */
  loss: number;
  /** Per task name: its (weighted) loss. */
  taskLosses: Record<string, number>;
  /** Per head name: the part of the loss that trains it (M, T, A, V for Self-MM). */
  headLosses?: Record<string, number>;
  /** True when this batch ended with an optimizer update (false while accumulating). */
  optimizerStep: boolean;
  /** Learning rate of the first trainable group. */
  lr?: number;
  examplesPerSec: number;
}

export interface EvalEndEvent extends EventBase {
  kind: 'eval.end';
  epoch: number;
  split: 'train' | 'valid' | 'test';
  /** Mean of per-batch mean eval losses, rounded to 4 decimals (MMSA's `Loss`). */
  loss: number;
  metrics: Record<string, number>;
  /** Test split only, with a run directory: the file holding id, prediction and label per sample (predictions.csv). */
  predictionsFile?: string;
}

export interface EpochEndEvent extends EventBase {
  kind: 'epoch.end';
  epoch: number;
  /** Mean over the epoch's batches of the training loss. */
  trainLoss: number;
  taskLosses: Record<string, number>;
  /** Per head name: mean over the epoch's batches of its loss part. */
  headLosses?: Record<string, number>;
  valid: { loss: number; metrics: Record<string, number> };
  /** Selection metric key ('Loss' or a metric key), its value this epoch, the best so far and where. */
  select: { metric: string; value: number; best: number; bestEpoch: number };
  improved: boolean;
  /** Epochs left before early stopping triggers. */
  patienceLeft: number;
  optimizerSteps: number;
  seconds: number;
  /** Per task: what its onEpochEnd hook reported (e.g. ULGM label drift). */
  taskExtras: Record<string, Record<string, unknown>>;
  /** With a learning-rate scheduler: every optimizer group's learning rate for the next epoch. */
  lr?: Record<string, number>;
  /** Memory at the epoch's end (added by the run): see MemoryUsage. */
  memory?: MemoryUsage;
}

/** What a run reports about its memory: the tensor backend's allocation and the process's peak resident set. */
export interface MemoryUsage {
  /** Bytes the tensor backend holds: the wasm heap's size (its high-water mark), else the live tensors' bytes. */
  backendBytes: number;
  /** The process's peak resident set so far. */
  peakRssBytes: number;
}

export interface TaskUpdateEvent extends EventBase {
  kind: 'task.update';
  epoch: number;
  task: string;
  /** The task's type (its report views draw `data`); absent in events written before it was recorded. */
  type?: string;
  data: Record<string, unknown>;
}

export interface CheckpointSavedEvent extends EventBase {
  kind: 'checkpoint.saved';
  epoch: number;
  path: string;
  bytes: number;
}

export interface SeedResult {
  seed: number;
  /** Test metrics (MMSA's keys, then `Loss`), rounded to 4 decimals. */
  test: Record<string, number>;
  /** Selection-split metrics at the best epoch. */
  validAtBest: Record<string, number>;
  bestEpoch: number;
  epochs: number;
}

export interface AggregateCell {
  mean: number;
  std: number;
  /** The table cell: MMSA's (round(mean*100, 2), round(std*100, 2)) when `scale` is 100, else rounded to 4 decimals. */
  cell: [number, number];
  /** 100 for MMSA's metric sets (its tables are x100), 1 for others (custom datasets); absent in older runs: 100. */
  scale?: 100 | 1;
}

export interface RunEndSeedEvent extends EventBase {
  kind: 'run.end';
  scope: 'seed';
  status: 'completed' | 'interrupted';
  seed: number;
  seedIndex: number;
  /** Absent when interrupted before the test evaluation. */
  result?: SeedResult;
  /** Epochs finished (also when interrupted). */
  epochs: number;
  bestEpoch: number;
  /** True when a completed run directory was reused instead of training. */
  reused?: boolean;
  runDir?: string;
  seconds: number;
}

export interface RunEndSummaryEvent extends EventBase {
  kind: 'run.end';
  scope: 'summary';
  status: 'completed' | 'interrupted';
  pipeline: string;
  seeds: number[];
  results: SeedResult[];
  /** Per metric key: mean and population std over the seeds. */
  aggregate: Record<string, AggregateCell>;
  summaryPath?: string;
}

export interface RunErrorEvent extends EventBase {
  kind: 'run.error';
  message: string;
  code: string;
  hint?: string;
  seed?: number;
}

export type RunEndEvent = RunEndSeedEvent | RunEndSummaryEvent;

export type RunEvent =
  | PipelineStartEvent
  | DataLoadEvent
  | RunStartEvent
  | EpochStartEvent
  | StepEndEvent
  | EvalEndEvent
  | EpochEndEvent
  | TaskUpdateEvent
  | CheckpointSavedEvent
  | RunEndSeedEvent
  | RunEndSummaryEvent
  | RunErrorEvent;

export type RunEventKind = RunEvent['kind'];

/** The fields a producer fills in; `v` and `t` are added by `makeEvent`. */
export type EventBody<E extends RunEvent = RunEvent> = E extends RunEvent ? Omit<E, 'v' | 't'> : never;

export function makeEvent<E extends RunEvent>(body: EventBody<E>, now: () => number = Date.now): E {
  return { v: EVENT_VERSION, t: now(), ...body } as unknown as E;
}

const KINDS: ReadonlySet<string> = new Set<RunEventKind>([
  'pipeline.start', 'data.load', 'run.start', 'epoch.start', 'step.end', 'eval.end', 'epoch.end', 'task.update', 'checkpoint.saved', 'run.end', 'run.error',
]);

/** Structural check of a parsed NDJSON line (version, envelope and kind), for readers of events.ndjson. */
export function isRunEvent(x: unknown): x is RunEvent {
  if (!x || typeof x !== 'object') return false;
  const e = x as Record<string, unknown>;
  return e['v'] === EVENT_VERSION && typeof e['runId'] === 'string' && typeof e['t'] === 'number' && typeof e['kind'] === 'string' && KINDS.has(e['kind']);
}

/** JSON of one event for NDJSON: non-finite numbers become null (JSON has no NaN). */
export function serializeEvent(e: RunEvent): string {
  return JSON.stringify(e, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}
