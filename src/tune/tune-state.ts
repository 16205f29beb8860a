// Folds tune events into what the tune TUI shows: every trial in flight (seed, epoch, last validation value, step
// progress), counts, the best so far and the last finished trials. Phase 8 (report); no React.

import type { TrialRecord, TuneEvent } from './search.js';
import { formatSetting } from './trial-spec.js';

export interface RunningTrial {
  trial: number;
  label: string;
  /** Per seed in flight: epoch, steps, last validation objective. */
  seeds: Map<number, { epoch: number; step: number; steps: number; valid?: number; epochsMax: number | null }>;
  started: number;
}

export interface TuneViewState {
  pipeline: string;
  strategy: string;
  planned: number | null;
  slots: number;
  objective: string;
  mode: 'min' | 'max';
  tuneDir: string;
  /** Trials finished by earlier sessions of the search (kept, not run again). */
  resumed: number;
  running: Map<number, RunningTrial>;
  finished: TrialRecord[];
  best?: { trial: number; objective: number };
  testing?: { seeds: number[]; done: number };
  end?: Extract<TuneEvent, { kind: 'tune.end' }>;
  started: number;
}

export function initialTuneState(): TuneViewState {
  return { pipeline: '', strategy: '', planned: null, slots: 0, objective: '', mode: 'min', tuneDir: '', resumed: 0, running: new Map(), finished: [], started: Date.now() };
}

export function reduceTune(s: TuneViewState, e: TuneEvent): TuneViewState {
  switch (e.kind) {
    case 'tune.start':
      return { ...s, pipeline: e.pipeline, strategy: e.strategy, planned: e.planned, slots: e.slots, objective: e.objective.key, mode: e.objective.mode, tuneDir: e.tuneDir, resumed: e.resumed, started: e.t };
    case 'trial.start': {
      const running = new Map(s.running);
      running.set(e.trial, { trial: e.trial, label: formatSetting(e.setting), seeds: new Map(), started: e.t });
      return { ...s, running };
    }
    case 'trial.event': {
      const r = s.running.get(e.trial);
      const ev = e.event;
      if (!r) {
        if (e.trial < 0 && ev.kind === 'run.end' && ev.scope === 'seed' && s.testing) return { ...s, testing: { ...s.testing, done: s.testing.done + 1 } };
        return s;
      }
      const cur = r.seeds.get(e.seed) ?? { epoch: 0, step: 0, steps: 0, epochsMax: null };
      let next = cur;
      if (ev.kind === 'run.start') next = { ...cur, epochsMax: ev.epochsMax, steps: ev.stepsPerEpoch };
      else if (ev.kind === 'step.end') next = { ...cur, epoch: ev.epoch, step: ev.step, steps: ev.steps };
      else if (ev.kind === 'epoch.end') next = { ...cur, epoch: ev.epoch, valid: ev.valid.metrics[s.objective] ?? (s.objective === 'Loss' ? ev.valid.loss : undefined) };
      if (next === cur) return s;
      r.seeds.set(e.seed, next);
      return { ...s };
    }
    case 'trial.end': {
      const running = new Map(s.running);
      running.delete(e.record.trial);
      return { ...s, running, finished: [...s.finished, e.record], ...(e.best ? { best: e.best } : {}) };
    }
    case 'test.start':
      return { ...s, testing: { seeds: e.seeds, done: 0 } };
    case 'tune.end':
      return { ...s, end: e };
  }
}
