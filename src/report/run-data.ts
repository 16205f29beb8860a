// Reading a finished (or running) run directory for the report, compare and watch commands: events, results,
// predictions, lock file and manifest, each optional so a partial run still reports what it has. Phase 8 (report).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MmsaError } from '../errors.js';
import { isRunEvent, type EpochEndEvent, type RunEvent, type SeedResult } from '../runtime/events.js';
import type { LockFile, RunManifest } from '../runtime/run-dir.js';
import type { RobustnessFile, RobustnessRecord } from '../runtime/robustness-record.js';

export interface Prediction {
  id: string;
  /** Regression output, or the class index for classification. */
  prediction: number;
  label: number | null;
  /** Classification: softmax probability per class (columns prob_0..prob_{C-1}). */
  probabilities?: number[];
}

export interface RunData {
  dir: string;
  manifest?: RunManifest;
  lock?: LockFile;
  events: RunEvent[];
  epochs: EpochEndEvent[];
  results?: SeedResult;
  predictions?: Prediction[];
  /** Results of `mmsa evaluate --missing/--noise` (robustness.json), when there are any. */
  robustness?: RobustnessRecord[];
  /** Lines of events.ndjson that were not events (a torn last line of a live run, or foreign text). */
  badLines: number;
}

/** Parses events.ndjson text; non-event lines are counted, not fatal (the last line of a live run may be partial). */
export function parseEvents(text: string): { events: RunEvent[]; bad: number } {
  const events: RunEvent[] = [];
  let bad = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const x: unknown = JSON.parse(line);
      if (isRunEvent(x)) events.push(x);
      else bad += 1;
    } catch {
      bad += 1;
    }
  }
  return { events, bad };
}

function readOptionalJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** predictions.csv: `id,prediction,label` and, for classification, `prob_0..prob_{C-1}`. */
export function parsePredictionsCsv(text: string): Prediction[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const probs = (lines[0] ?? '').split(',').filter((h) => /^prob_\d+$/.test(h)).length;
  const out: Prediction[] = [];
  for (const line of lines.slice(1)) {
    // ids may be quoted (they can hold commas); every cell after the id is a number (or empty), so split from the end.
    const cells = line.split(',');
    const tail = cells.splice(cells.length - 2 - probs);
    let id = cells.join(',');
    if (id.startsWith('"') && id.endsWith('"')) id = id.slice(1, -1).replace(/""/g, '"');
    if (tail.length < 2) continue;
    const lab = tail[1]!;
    out.push({ id, prediction: Number(tail[0]), label: lab === '' ? null : Number(lab), ...(probs > 0 ? { probabilities: tail.slice(2).map(Number) } : {}) });
  }
  return out;
}

export function isRunDirectory(dir: string): boolean {
  return existsSync(join(dir, 'manifest.json')) && (existsSync(join(dir, 'events.ndjson')) || existsSync(join(dir, 'results.json')));
}

export function loadRun(dir: string): RunData {
  if (!isRunDirectory(dir)) {
    throw new MmsaError('MSA6710', `${dir} is not a run directory (no manifest.json with events.ndjson or results.json)`, {
      hint: 'pass a directory made by `mmsa run`, e.g. runs/<pipeline>/<hash>-<seed>',
    });
  }
  const evPath = join(dir, 'events.ndjson');
  const { events, bad } = existsSync(evPath) ? parseEvents(readFileSync(evPath, 'utf8')) : { events: [], bad: 0 };
  const epochs = events.filter((e): e is EpochEndEvent => e.kind === 'epoch.end');
  const predPath = join(dir, 'predictions.csv');
  const manifest = readOptionalJson<RunManifest>(join(dir, 'manifest.json'));
  const lock = readOptionalJson<LockFile>(join(dir, 'spec.lock.json'));
  const results = readOptionalJson<SeedResult>(join(dir, 'results.json'));
  const robustness = readOptionalJson<RobustnessFile>(join(dir, 'robustness.json'))?.records;
  return {
    dir,
    ...(manifest ? { manifest } : {}),
    ...(lock ? { lock } : {}),
    events,
    epochs,
    ...(results ? { results } : {}),
    ...(existsSync(predPath) ? { predictions: parsePredictionsCsv(readFileSync(predPath, 'utf8')) } : {}),
    ...(Array.isArray(robustness) && robustness.length > 0 ? { robustness } : {}),
    badLines: bad,
  };
}
