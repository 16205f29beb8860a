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
  /** ULGM: mean |y_m - y_M| per modality, when the run has a ULGM task. */
  drift?: Record<string, number>;
}

export interface TuiState {
  pipeline: string;
  dataset: string;
  backend: string;
  seed: number | null;
  seedIndex: number;
  seedCount: number;
  epoch: number;
  epochsMax: number | null;
  step: number;
  steps: number;
  /** Smoothed examples per second of recent steps. */
  throughput: number;
  /** Seconds left in the current epoch (null until a step has been timed). */
  eta: number | null;
  loss: number | null;
  /** Live loss parts: per head (M, T, A, V) when the run reports them, else per task. */
  taskLosses: Record<string, number>;
  epochs: EpochRow[];
  /** Latest ULGM drift (per modality). */
  drift: Record<string, number> | null;
  /** Per finished seed: its test metrics. */
  seedResults: { seed: number; test: Record<string, number>; bestEpoch: number; epochs: number; reused: boolean }[];
  summary: { pipeline: string; seeds: number[]; aggregate: Record<string, AggregateCell> } | null;
  errors: { code: string; message: string; hint?: string }[];
  interrupted: boolean;
  done: boolean;
  /** Timestamps (event time) for the ETA: last step's time and the epoch's start. */
  lastStepT: number | null;
  epochStartT: number | null;
  /** Metric columns shown per epoch (the first epoch's keys, Loss excluded). */
  metricKeys: string[];
}

export function initialTuiState(): TuiState {
  return {
    pipeline: '',
    dataset: '',
    backend: '',
    seed: null,
    seedIndex: 0,
    seedCount: 1,
    epoch: 0,
    epochsMax: null,
    step: 0,
    steps: 0,
    throughput: 0,
    eta: null,
    loss: null,
    taskLosses: {},
    epochs: [],
    drift: null,
    seedResults: [],
    summary: null,
    errors: [],
    interrupted: false,
    done: false,
    lastStepT: null,
    epochStartT: null,
    metricKeys: [],
  };
}

/** MMSA's headline metrics first (when present), so a narrow terminal still shows the ones papers report. */
const PREFERRED = ['Has0_acc_2', 'Non0_acc_2', 'Non0_F1_score', 'Mult_acc_7', 'MAE', 'Corr', 'Acc_2', 'F1_score', 'Mult_acc_5', 'Mult_acc_3', 'Acc_3', 'Acc_5'];

export function keyMetrics(keys: string[], max: number): string[] {
  const ks = keys.filter((k) => k !== 'Loss');
  const pref = PREFERRED.filter((k) => ks.includes(k));
  const rest = ks.filter((k) => !pref.includes(k));
  return [...pref, ...rest].slice(0, max);
}

/** Mutates and returns `s` (the reporter folds thousands of step events; copying each time would cost). */
export function reduceTui(s: TuiState, e: RunEvent): TuiState {
  switch (e.kind) {
    case 'run.start':
      s.pipeline = e.pipeline;
      s.dataset = e.dataset.name;
      s.backend = e.backend;
      s.seed = e.seed;
      s.seedIndex = e.seedIndex;
      s.seedCount = e.seedCount;
      s.epochsMax = e.epochsMax;
      s.steps = e.stepsPerEpoch;
      s.epoch = 0;
      s.step = 0;
      s.loss = null;
      s.taskLosses = {};
      s.drift = null;
      s.eta = null;
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
      const d = e.data['drift'];
      if (d && typeof d === 'object') s.drift = d as Record<string, number>;
      break;
    }
    case 'epoch.end': {
      if (s.metricKeys.length === 0) s.metricKeys = Object.keys(e.valid.metrics).filter((k) => k !== 'Loss');
      let drift: Record<string, number> | undefined;
      for (const x of Object.values(e.taskExtras)) {
        const d = x['drift'];
        if (d && typeof d === 'object') drift = d as Record<string, number>;
      }
      if (drift) s.drift = drift;
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
        ...(drift ? { drift } : {}),
      });
      s.step = s.steps;
      s.eta = 0;
      break;
    }
    case 'run.end':
      if (e.scope === 'seed') {
        if (e.status === 'interrupted') s.interrupted = true;
        if (e.result) s.seedResults.push({ seed: e.seed, test: e.result.test, bestEpoch: e.result.bestEpoch, epochs: e.result.epochs, reused: Boolean(e.reused) });
        if (e.seedIndex + 1 >= s.seedCount && e.status === 'interrupted') s.done = true;
      } else {
        s.summary = { pipeline: e.pipeline, seeds: e.seeds, aggregate: e.aggregate };
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
