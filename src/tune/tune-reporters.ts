// Reporters of `mmsa tune`: plain lines (one per trial start and end, the trials table and the test at the end),
// NDJSON (every tune event, run events nested in trial.event), and the Ink TUI (tui/TuneView). Phase 8 (report).

import type { AggregateCell } from '../runtime/events.js';
import { serializeEvent } from '../runtime/events.js';
import type { TrialRecord, TuneEvent } from './search.js';
import { formatSetting, formatValue, shortName } from './trial-spec.js';

export interface TuneReporter {
  onEvent(e: TuneEvent): void;
  close?(): void;
}

const fmt = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : Number(x.toPrecision(5)).toString());

/** The trials table: one row per trial (setting, validation objective, seconds, status), best marked. */
export function formatTrialsTable(trials: readonly TrialRecord[], objective: string, best?: number): string {
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.setting)))];
  const head = ['trial', ...names.map(shortName), `valid ${objective}`, 'seconds', 'status'];
  const rows = trials.map((t) => [
    `${t.trial === best ? '*' : ' '}${t.trial}`,
    ...names.map((n) => (t.setting[n] === undefined ? '' : formatValue(t.setting[n]!))),
    fmt(t.objective),
    t.seconds !== undefined ? t.seconds.toFixed(1) : '',
    `${t.status}${t.reused ? ' (reused)' : ''}`,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

export function formatAggregate(agg: Record<string, AggregateCell>): string {
  return Object.entries(agg)
    .map(([k, c]) => `${k} ${c.mean.toFixed(4)} +- ${c.std.toFixed(4)}`)
    .join('  ');
}

/** `objective` names the metric for a reporter that joins after `tune.start` (the TUI's closing lines). */
export function createPlainTuneReporter(o: { out: (s: string) => void; err: (s: string) => void; objective?: string }): TuneReporter {
  let objective = o.objective ?? '';
  return {
    onEvent(e) {
      switch (e.kind) {
        case 'tune.start':
          objective = e.objective.key;
          o.out(`tune ${e.pipeline}: ${e.strategy}, ${e.planned ?? 'time-bounded'} trials, ${e.slots} at a time; ${e.objective.mode === 'min' ? 'minimise' : 'maximise'} valid ${e.objective.key}\n  state in ${e.tuneDir}${e.resumed ? ` (resuming: ${e.resumed} trials done)` : ''}\n`);
          if (e.budgetMinutes !== undefined && e.spentSeconds > 0) o.out(`  wall-time budget: ${(e.spentSeconds / 60).toFixed(1)} of ${e.budgetMinutes} min used by earlier sessions\n`);
          break;
        case 'trial.start':
          o.out(`trial ${e.trial} started: ${formatSetting(e.setting)}\n`);
          break;
        case 'trial.event':
          if (e.event.kind === 'run.error') o.err(`trial ${e.trial} seed ${e.seed}: ${e.event.code} ${e.event.message}\n`);
          break;
        case 'trial.end': {
          const r = e.record;
          const best = e.best ? ` (best: trial ${e.best.trial}, ${fmt(e.best.objective)})` : '';
          if (r.status === 'completed') o.out(`trial ${r.trial} done: valid ${objective} ${fmt(r.objective)} in ${(r.seconds ?? 0).toFixed(1)} s${r.reused ? ', reused' : ''}${best}\n`);
          else o.out(`trial ${r.trial} ${r.status}${r.error ? `: ${r.error}` : ''}\n`);
          break;
        }
        case 'test.start':
          o.out(`testing the best setting (trial ${e.trial}) once on the test split, seeds ${e.seeds.join(', ')}: ${e.bestYaml}\n`);
          break;
        case 'tune.end':
          o.out(`\n${e.status === 'completed' ? 'search done' : `search ${e.status}`}: ${e.trials} trials\n`);
          if (e.best) o.out(`best: trial ${e.best.trial}, valid ${objective} ${fmt(e.best.objective)}: ${formatSetting(e.best.setting)}\n`);
          if (e.test) o.out(`test (once, ${e.test.seeds.length} seed(s)): ${formatAggregate(e.test.aggregate)}\n`);
          if (e.message) o.err(`${e.message}\n`);
          break;
      }
    },
  };
}

export function createNdjsonTuneReporter(o: { out: (s: string) => void }): TuneReporter {
  return {
    onEvent(e) {
      if (e.kind === 'trial.event') o.out(`{"kind":"trial.event","t":${e.t},"trial":${e.trial},"seed":${e.seed},"event":${serializeEvent(e.event)}}\n`);
      else o.out(`${JSON.stringify(e, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`);
    },
  };
}
