// A search directory (`runs/<pipeline>/tune-<hash>/`) as the report reads it: the search's description from
// tune.json, the trials from trials.jsonl (newer while a session runs), the best trial and the test of best.yaml.
// Phase 8 (report); no tfjs.

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MmsaError } from '../errors.js';
import type { AggregateCell } from '../runtime/events.js';
import { readTrials, type TrialRecord } from '../tune/search.js';
import type { Distribution } from '../tune/space.js';

export interface TuneData {
  dir: string;
  pipeline: string;
  status: string;
  strategy: string;
  objective: { metric: string; key: string; mode: 'min' | 'max' };
  params: { name: string; dist: Distribution; paths: string[] }[];
  trials: TrialRecord[];
  best?: TrialRecord;
  test?: { aggregate: Record<string, AggregateCell>; seeds: unknown[] };
}

export function isTuneDirectory(dir: string): boolean {
  return existsSync(join(dir, 'tune.json')) || existsSync(join(dir, 'trials.jsonl'));
}

export function loadTune(dir: string): TuneData {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(readFileSync(join(dir, 'tune.json'), 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new MmsaError('MSA6710', `${dir}: tune.json cannot be read (${(e as Error).message})`, {
      hint: 'rerun the `mmsa tune` command of this search: it resumes (finished trials are kept) and writes tune.json',
    });
  }
  const logged = readTrials(dir);
  const trials = logged.length > 0 ? logged : ((body['trials'] as TrialRecord[] | undefined) ?? []);
  const objective = body['objective'] as TuneData['objective'];
  const better = (a: number, b: number) => (objective.mode === 'min' ? a < b : a > b);
  let best: TrialRecord | undefined;
  for (const t of trials) if (t.status === 'completed' && typeof t.objective === 'number' && Number.isFinite(t.objective) && (!best || better(t.objective, best.objective!))) best = t;
  return {
    dir,
    pipeline: basename(dirname(dir)),
    status: String(body['status'] ?? '?'),
    strategy: String(body['strategy'] ?? '?'),
    objective,
    params: (body['params'] as TuneData['params'] | undefined) ?? [],
    trials,
    ...(best ? { best } : {}),
    ...(body['test'] ? { test: body['test'] as TuneData['test'] } : {}),
  };
}
