// The TUI's view model: a pure fold of RunEvents into what the screen shows, so components render plain data and
// tests can build any screen from a recorded event stream. Phase 8 (report).

import type { AggregateCell, RunEvent } from '../../runtime/events.js';

export interface EpochRow {
  seed: number;
  epoch: number;
  trainLoss: number;
  validLoss: number;
  metrics: Record<string, number>;
  improved: boolean;
  bestEpoch: number;
  patienceLeft: number;
  seconds: number;
  /** Mean loss of each task, and of each head when the run reports them (M, T, A, V for Self-MM). */
  taskLosses: Record<string, number>;
  headLosses: Record<string, number>;
  /** Tasks whose loss was exactly 0 in every earlier epoch of the seed and is not now (Self-MM's ULGM). */
  starts: { task: string; heads: string[]; from: number }[];
}

/** What a task reported at the end of an epoch, for its view's TUI line. */
export interface TaskData {
  type?: string;
  data: Record<string, unknown>;
}

export interface LoadingState {
  file: string;
  bytes: number;
  totalBytes: number;
  seconds: number;
  done: boolean;
}

export interface SeedResultRow {
  seed: number;
  test: Record<string, number>;
  bestEpoch: number;
  epochs: number;
  reused: boolean;
  runDir?: string;
}

export interface TuiState {
  pipeline: string;
  dataset: string;
  backend: string;
  seed: number | null;
  seedIndex: number;
  seedCount: number;
  /** Every seed of the run (from pipeline.start; empty for a replayed seed). */
  seeds: number[];
  epoch: number;
  epochsMax: number | null;
  patience: number | null;
  step: number;
  steps: number;
  /** Smoothed examples per second of recent steps. */
  throughput: number;
  /** Seconds left in the current epoch (null until a step has been timed). */
  eta: number | null;
  /** Training loss of the last step; null before the seed's first step. */
  loss: number | null;
  /** Live loss parts: per head (M, T, A, V) when the run reports them, else per task. */
  taskLosses: Record<string, number>;
  epochs: EpochRow[];
  /**
   * Per task of the current seed: the latest data its epoch-end hook reported (task.update, epoch.end), and its type
   * when the event names it; the task's view draws a line of it (src/report/views.ts).
   */
  taskData: Record<string, TaskData>;
  /** The feature file being read before the first trained seed (null once training starts). */
  loading: LoadingState | null;
  /** Per finished seed: its test metrics and run directory. */
  seedResults: SeedResultRow[];
  summary: { pipeline: string; seeds: number[]; aggregate: Record<string, AggregateCell>; summaryPath?: string } | null;
  errors: { code: string; message: string; hint?: string }[];
  /** Notes about the run (a dead earlier run of a seed that is trained again), shown until the end. */
  notes: string[];
  interrupted: boolean;
  done: boolean;
  /** Event times (ms): the run's first event, the latest event, the seed's last step and the epoch's start. */
  startT: number | null;
  nowT: number | null;
  lastStepT: number | null;
  epochStartT: number | null;
  /** Run directory of the seed in training. */
  runDir: string | null;
  /** Metric columns shown per epoch (the first epoch's keys, Loss excluded). */
  metricKeys: string[];
  /** Per task of the current seed: whether every epoch so far had a loss of exactly 0. */
  silentTasks: Record<string, boolean>;
}

export function initialTuiState(): TuiState {
  return {
    pipeline: '',
    dataset: '',
    backend: '',
    seed: null,
    seedIndex: 0,
    seedCount: 1,
    seeds: [],
    epoch: 0,
    epochsMax: null,
    patience: null,
    step: 0,
    steps: 0,
    throughput: 0,
    eta: null,
    loss: null,
    taskLosses: {},
    epochs: [],
    taskData: {},
    loading: null,
    seedResults: [],
    summary: null,
    errors: [],
    notes: [],
    interrupted: false,
    done: false,
    startT: null,
    nowT: null,
    lastStepT: null,
    epochStartT: null,
    runDir: null,
    metricKeys: [],
    silentTasks: {},
  };
}

/**
 * Metric columns in the order a narrow terminal keeps them: MMSA's binary accuracy, MAE and Corr first (what papers
 * report for regression), then the rest of its headline metrics.
 */
const PREFERRED = ['Has0_acc_2', 'MAE', 'Corr', 'Non0_acc_2', 'Non0_F1_score', 'Mult_acc_7', 'Has0_F1_score', 'Mult_acc_5', 'Acc_2', 'F1_score', 'Mult_acc_3', 'Acc_3', 'Acc_5'];

export function keyMetrics(keys: string[], max: number): string[] {
  const ks = keys.filter((k) => k !== 'Loss');
  const pref = PREFERRED.filter((k) => ks.includes(k));
  const rest = ks.filter((k) => !pref.includes(k));
  return [...pref, ...rest].slice(0, max);
}

/** Tasks of `taskLosses` that were silent (exactly 0) so far and carry weight now. */
function startingTasks(s: TuiState, taskLosses: Record<string, number>, headLosses: Record<string, number>, epoch: number): EpochRow['starts'] {
  const starts: EpochRow['starts'] = [];
  const silentHeads = Object.keys(headLosses).filter((h) => s.epochs.some((r) => r.seed === s.seed && r.headLosses[h] === 0));
  for (const [task, v] of Object.entries(taskLosses)) {
    const wasSilent = s.silentTasks[task];
    if (v === 0) {
      if (wasSilent === undefined) s.silentTasks[task] = true;
      continue;
    }
    if (wasSilent) starts.push({ task, heads: silentHeads.filter((h) => (headLosses[h] ?? 0) !== 0), from: epoch });
    s.silentTasks[task] = false;
  }
  return starts;
}

/** Mutates and returns `s` (the reporter folds thousands of step events; copying each time would cost). */
export function reduceTui(s: TuiState, e: RunEvent): TuiState {
  s.startT ??= e.t;
  s.nowT = e.t;
  switch (e.kind) {
    case 'pipeline.start':
      s.pipeline = e.pipeline;
      s.dataset = e.dataset.name;
      s.backend = e.backend;
      s.seeds = e.seeds;
      s.seedCount = e.seeds.length;
      s.epochsMax = e.epochsMax;
      s.patience = e.patience;
      break;
    case 'data.load':
      s.loading = { file: e.file, bytes: e.bytes, totalBytes: e.totalBytes, seconds: e.seconds, done: e.done };
      break;
    case 'run.start':
      s.pipeline = e.pipeline;
      s.dataset = e.dataset.name;
      s.backend = e.backend;
      s.seed = e.seed;
      s.seedIndex = e.seedIndex;
      s.seedCount = e.seedCount;
      s.epochsMax = e.epochsMax;
      s.steps = e.stepsPerEpoch;
      s.runDir = e.runDir ?? null;
      if (e.recovered) s.notes.push(e.recovered);
      s.loading = null;
      s.epoch = 0;
      s.step = 0;
      s.loss = null;
      s.taskLosses = {};
      s.taskData = {};
      s.eta = null;
      s.silentTasks = {};
      break;
    case 'epoch.start':
      s.epoch = e.epoch;
      s.step = 0;
      s.epochStartT = e.t;
      s.lastStepT = e.t;
      s.eta = null;
      break;
    case 'step.end': {
      s.epoch = e.epoch;
      s.step = e.step;
      s.steps = e.steps;
      s.loss = e.loss;
      // Per-head parts (M, T, A, V) read better than per-task ones when the run reports them.
      s.taskLosses = e.headLosses && Object.keys(e.headLosses).length > 0 ? e.headLosses : e.taskLosses;
      // Exponential smoothing: single steps jitter a lot (GC, eval of other work).
      s.throughput = s.throughput > 0 ? 0.8 * s.throughput + 0.2 * e.examplesPerSec : e.examplesPerSec;
      if (s.epochStartT !== null && e.step > 0) {
        const perStep = (e.t - s.epochStartT) / 1000 / e.step;
        s.eta = Math.max(0, perStep * (e.steps - e.step));
      }
      s.lastStepT = e.t;
      break;
    }
    case 'task.update': {
      const type = e.type ?? s.taskData[e.task]?.type;
      s.taskData[e.task] = { ...(type !== undefined ? { type } : {}), data: e.data };
      break;
    }
    case 'epoch.end': {
      if (s.metricKeys.length === 0) s.metricKeys = Object.keys(e.valid.metrics).filter((k) => k !== 'Loss');
      for (const [task, data] of Object.entries(e.taskExtras)) {
        const type = s.taskData[task]?.type;
        s.taskData[task] = { ...(type !== undefined ? { type } : {}), data };
      }
      const headLosses = e.headLosses ?? {};
      const starts = startingTasks(s, e.taskLosses, headLosses, e.epoch);
      s.epochs.push({
        seed: s.seed ?? 0,
        epoch: e.epoch,
        trainLoss: e.trainLoss,
        validLoss: e.valid.loss,
        metrics: e.valid.metrics,
        improved: e.improved,
        bestEpoch: e.select.bestEpoch,
        patienceLeft: e.patienceLeft,
        seconds: e.seconds,
        taskLosses: e.taskLosses,
        headLosses,
        starts,
      });
      s.step = s.steps;
      s.eta = 0;
      break;
    }
    case 'run.end':
      if (e.scope === 'seed') {
        if (e.status === 'interrupted') s.interrupted = true;
        if (e.result) {
          s.seedResults.push({ seed: e.seed, test: e.result.test, bestEpoch: e.result.bestEpoch, epochs: e.result.epochs, reused: Boolean(e.reused), ...(e.runDir ? { runDir: e.runDir } : {}) });
        }
        if (e.seedIndex + 1 >= s.seedCount && e.status === 'interrupted') s.done = true;
      } else {
        s.summary = { pipeline: e.pipeline, seeds: e.seeds, aggregate: e.aggregate, ...(e.summaryPath ? { summaryPath: e.summaryPath } : {}) };
        s.done = true;
      }
      break;
    case 'run.error':
      s.errors.push({ code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) });
      s.done = true;
      break;
    default:
      break;
  }
  return s;
}

/** Epochs before the seed stops if nothing improves: the early-stop patience, or fewer under an epoch cap. */
export function stopIn(r: Pick<EpochRow, 'epoch' | 'patienceLeft'>, epochsMax: number | null): number {
  return epochsMax === null ? r.patienceLeft : Math.max(0, Math.min(r.patienceLeft, epochsMax - r.epoch));
}

/** Seconds since the run's first event. */
export function elapsedSeconds(s: TuiState): number | null {
  return s.startT === null || s.nowT === null ? null : Math.max(0, (s.nowT - s.startT) / 1000);
}

/**
 * Seconds left in the whole run: the current epoch, the epochs the current seed has left, and the seeds after it at
 * the mean epoch time. With an epoch cap the seed's end is bounded; with early stopping alone (MMSA's protocol) every
 * improvement extends it, so the figure is a lower bound (`atLeast`).
 */
export function runEta(s: TuiState): { seconds: number; atLeast: boolean } | null {
  const trained = s.epochs.filter((r) => r.seconds > 0);
  if (trained.length === 0 || s.seed === null) return null;
  const perEpoch = trained.reduce((a, r) => a + r.seconds, 0) / trained.length;
  const mine = s.epochs.filter((r) => r.seed === s.seed);
  const last = mine[mine.length - 1];
  const completed = last?.epoch ?? 0;
  const left = last ? stopIn(last, s.epochsMax) : (s.epochsMax ?? s.patience ?? 1);
  const inEpoch = s.step > 0 && s.step < s.steps && s.epoch > completed;
  let seconds = inEpoch ? (s.eta ?? perEpoch) + Math.max(0, left - 1) * perEpoch : left * perEpoch;
  // Seeds after this one: as long as the cap, else as long as the finished seeds took (else as this one will).
  const finished = s.seedResults.filter((r) => !r.reused && r.seed !== s.seed);
  const perSeed = s.epochsMax ?? (finished.length ? finished.reduce((a, r) => a + r.epochs, 0) / finished.length : completed + left);
  const after = Math.max(0, s.seedCount - s.seedIndex - 1);
  seconds += after * perSeed * perEpoch;
  return { seconds, atLeast: s.epochsMax === null };
}

export function fmtNum(x: number | null | undefined, d = 4): string {
  return x === null || x === undefined || !Number.isFinite(x) ? 'nan' : x.toFixed(d);
}

export function fmtDuration(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec)) return '--:--';
  const s = Math.round(sec);
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const mm = String(m % 60).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Text bar of `width` cells; plain characters so it reads in any terminal font (component views draw with it too, without Ink). */
export function bar(done: number, total: number, width: number): string {
  // NaN (a diverged value) draws an empty bar of full width, not a bar of no width.
  const f = total > 0 && !Number.isNaN(done) ? Math.min(1, Math.max(0, done / total)) : 0;
  const full = Math.round(f * width);
  return `${'#'.repeat(full)}${'-'.repeat(width - full)}`;
}

/** 350.1 MiB, 12.0 KiB. */
export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}
