// The search driver of `mmsa tune`: proposes settings (strategy), runs each trial's seeds as content-addressed run
// directories through a runner (local worker processes or a queue), scores them on validation, records every step in
// the tune directory so a rerun resumes, then writes best.yaml and tests the chosen setting once. Phase 7.

import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import type { CompileResult } from '../compiler/compile.js';
import { formatDiagnostics } from '../compiler/diagnostics/format.js';
import { hasErrors } from '../compiler/diagnostics/diagnostic.js';
import type { JsonValue } from '../compiler/spec/spec-tree.js';
import type { AggregateCell, RunEvent, SeedResult } from '../runtime/events.js';
import { canonicalJson, csvCell, ensureDir, findCompletedRun, runDirPath, safeSegment, writeFileAtomic } from '../runtime/run-dir.js';
import type { NativeMode } from '../runtime/native.js';
import { compileTrial, formatSetting } from './trial-spec.js';
import { jobKey, type Compat, type RunJob, type RunJobResult } from './run-job.js';
import { createStrategy, type Observation, type Setting } from './strategies.js';
import { plannedTrials, type TuneConfig } from './tune-config.js';
import { createHash } from 'node:crypto';

/** Runs units of work: the local pool or a queue. */
export interface Runner {
  /** How many units it runs at once (the search keeps this many in flight). */
  readonly slots: number;
  run(job: RunJob, onEvent: (e: RunEvent) => void): Promise<RunJobResult>;
  abortAll(): void;
  close(): Promise<void>;
}

export interface TrialRecord {
  trial: number;
  setting: Setting;
  specHash?: string;
  status: 'running' | 'completed' | 'failed' | 'interrupted';
  /** Mean over the trial's seeds of the objective on validation at the selected epoch. */
  objective?: number;
  /** Per seed: the validation metrics at the selected epoch. */
  seeds?: { seed: number; valid: Record<string, number>; runDir: string; bestEpoch: number; epochs: number }[];
  seconds?: number;
  reused?: boolean;
  error?: string;
}

export type TuneEvent =
  | { kind: 'tune.start'; t: number; tuneDir: string; pipeline: string; strategy: string; planned: number | null; slots: number; objective: TuneConfig['objective']; params: string[]; resumed: number; spentSeconds: number; budgetMinutes?: number }
  | { kind: 'trial.start'; t: number; trial: number; setting: Setting; specHash: string; seeds: number[] }
  | { kind: 'trial.event'; t: number; trial: number; seed: number; event: RunEvent }
  | { kind: 'trial.end'; t: number; record: TrialRecord; best?: { trial: number; objective: number } }
  | { kind: 'test.start'; t: number; trial: number; seeds: number[]; bestYaml: string }
  | { kind: 'tune.end'; t: number; status: 'completed' | 'interrupted' | 'failed'; trials: number; best?: TrialRecord; bestYaml?: string; test?: { seeds: SeedResult[]; aggregate: Record<string, AggregateCell>; runDirs: string[] }; message?: string };

export interface SearchOptions {
  file: string;
  /** The compiled searched spec (its `tune` resolved into `cfg`). */
  compiled: CompileResult;
  cfg: TuneConfig;
  tunePreset?: string;
  env: NodeJS.ProcessEnv;
  dataRoot?: string;
  outRoot: string;
  /** --trials overrides budget.trials. */
  trials?: number;
  runner: Runner;
  compat: Compat;
  backend?: string;
  native?: NativeMode;
  threads?: number;
  signal?: AbortSignal;
  command: string[];
  onEvent(e: TuneEvent): void;
  /** Clock, for tests. */
  now?: () => number;
}

export interface SearchOutcome {
  status: 'completed' | 'interrupted' | 'failed';
  tuneDir: string;
  trials: TrialRecord[];
  best?: TrialRecord;
  bestYaml?: string;
  message?: string;
}

/**
 * Where a search keeps its state: beside the runs of its pipeline, named by the hash of the searched spec. The budget
 * is left out: raising it (or passing --trials) continues the same search rather than starting another.
 */
export function tuneDirOf(outRoot: string, pipeline: string, spec: unknown, mmsaVersion: string): string {
  const s = spec as { tune?: Record<string, unknown> };
  const { budget: _budget, ...tune } = s.tune ?? {};
  const h = createHash('sha256').update(canonicalJson({ spec: { ...s, tune }, mmsa: mmsaVersion })).digest('hex').slice(0, 12);
  return join(outRoot, safeSegment(pipeline), `tune-${h}`);
}

/** Reads trials.jsonl: the latest line of each trial wins (a proposal, then its end). */
export function readTrials(tuneDir: string): TrialRecord[] {
  const p = join(tuneDir, 'trials.jsonl');
  if (!existsSync(p)) return [];
  const byTrial = new Map<number, TrialRecord>();
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as TrialRecord;
      if (typeof r.trial === 'number') byTrial.set(r.trial, r);
    } catch {
      // A line cut by a crash mid-write: the trial is proposed again from the strategy (same seed, same setting).
    }
  }
  return [...byTrial.values()].sort((a, b) => a.trial - b.trial);
}

/** Seconds of wall time earlier sessions of the search spent proposing and running trials (budget.json). */
export function readSpentSeconds(tuneDir: string): number {
  try {
    const v = (JSON.parse(readFileSync(join(tuneDir, 'budget.json'), 'utf8')) as { seconds?: unknown }).seconds;
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
  } catch {
    return 0;
  }
}

/** Lower is better for the strategy. */
function lossOf(cfg: TuneConfig, objective: number): number {
  return cfg.objective.mode === 'min' ? objective : -objective;
}

export function bestTrial(cfg: TuneConfig, trials: readonly TrialRecord[]): TrialRecord | undefined {
  let best: TrialRecord | undefined;
  for (const t of trials) {
    if (t.status !== 'completed' || t.objective === undefined || !Number.isFinite(t.objective)) continue;
    if (!best || lossOf(cfg, t.objective) < lossOf(cfg, best.objective!)) best = t;
  }
  return best;
}

export async function runSearch(o: SearchOptions): Promise<SearchOutcome> {
  const now = o.now ?? Date.now;
  const { mmsaVersion, hashOf, effectiveSpec } = await import('../runtime/run.js');
  const spec = o.compiled.spec!;
  const pipeline = o.compiled.ir!.pipeline;
  const tuneDir = tuneDirOf(o.outRoot, pipeline, spec, mmsaVersion());
  ensureDir(tuneDir, { what: 'the search state', elsewhere: 'pass another --out' });
  const log = join(tuneDir, 'trials.jsonl');
  const record = (r: TrialRecord) => appendFileSync(log, `${JSON.stringify(r)}\n`);
  const previous = readTrials(tuneDir);
  const trials = new Map(previous.map((t) => [t.trial, t] as const));
  const cfg = o.trials !== undefined ? { ...o.cfg, budget: { ...o.cfg.budget, trials: o.trials } } : o.cfg;
  const planned = plannedTrials(cfg);
  const strategy = createStrategy(cfg);
  const started = now();
  // The wall-time budget is the search's, not a session's: a rerun continues the clock where the last one stopped.
  const spentBefore = readSpentSeconds(tuneDir);
  const spent = () => spentBefore + (now() - started) / 1000;
  const saveSpent = () => writeFileAtomic(join(tuneDir, 'budget.json'), `${JSON.stringify({ seconds: Math.round(spent() * 1000) / 1000 })}\n`, { what: 'the search state', elsewhere: 'pass another --out' });
  const deadline = cfg.budget.minutes !== undefined ? started + cfg.budget.minutes * 60_000 - spentBefore * 1000 : Infinity;
  const resumed = previous.filter((t) => t.status === 'completed').length;
  // Described from the start, so `mmsa report` can draw a search whose first session is still running.
  writeTuneJson(tuneDir, cfg, { status: 'running', trials: previous });
  o.onEvent({ kind: 'tune.start', t: now(), tuneDir, pipeline, strategy: cfg.strategy, planned: planned ?? null, slots: o.runner.slots, objective: cfg.objective, params: cfg.params.map((p) => p.name), resumed, spentSeconds: spentBefore, ...(cfg.budget.minutes !== undefined ? { budgetMinutes: cfg.budget.minutes } : {}) });

  // One promise per run directory: two trials with the same setting share it (never trained twice).
  const units = new Map<string, Promise<RunJobResult>>();
  const runUnit = (job: RunJob, trial: number): Promise<RunJobResult> => {
    const existing = units.get(job.key);
    if (existing) return existing;
    const dir = runDirPath(o.outRoot, job.pipeline, job.specHash, job.seed);
    const done = findCompletedRun(dir);
    const p = done
      ? Promise.resolve<RunJobResult>({ key: job.key, status: 'completed', result: done.results, runDir: dir, manifest: done.manifest, reused: true, seconds: 0 })
      : o.runner.run(job, (event) => o.onEvent({ kind: 'trial.event', t: now(), trial, seed: job.seed, event }));
    units.set(job.key, p);
    // A failed or interrupted unit may be tried again by a later trial or a rerun.
    void p.then((r) => {
      if (r.status !== 'completed') units.delete(job.key);
    });
    return p;
  };

  const jobOf = (compiled: CompileResult, hash: string, seed: number, command: string[]): RunJob => ({
    key: jobKey(pipeline, hash, seed),
    pipeline,
    specHash: hash,
    seed,
    spec: effectiveSpec(compiled.spec, {}) as JsonValue,
    file: o.file,
    ...(o.backend ? { backend: o.backend } : {}),
    ...(o.native ? { native: o.native } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    outRoot: o.outRoot,
    ...(o.dataRoot ? { dataRoot: o.dataRoot } : {}),
    compat: o.compat,
    command,
  });

  const compileOpts = { env: o.env, ...(o.dataRoot ? { dataRoot: o.dataRoot } : {}), ...(o.tunePreset ? { tunePreset: o.tunePreset } : {}) };

  const runTrial = async (trial: number, setting: Setting): Promise<TrialRecord> => {
    const t0 = now();
    const compiled = compileTrial(o.file, cfg.params, setting, compileOpts);
    if (hasErrors(compiled.diagnostics) || !compiled.ir) {
      const error = formatDiagnostics(compiled.diagnostics, compiled.host, { cwd: process.cwd(), color: false });
      return { trial, setting, status: 'failed', seconds: 0, error: `the setting does not compile:\n${error}` };
    }
    const hash = hashOf(effectiveSpec(compiled.spec, {}), compiled.ir);
    const head: TrialRecord = { trial, setting, specHash: hash, status: 'running' };
    record(head);
    o.onEvent({ kind: 'trial.start', t: now(), trial, setting, specHash: hash, seeds: cfg.seeds });
    const results = await Promise.all(cfg.seeds.map((seed) => runUnit(jobOf(compiled, hash, seed, [...o.command, `# trial ${trial}`]), trial)));
    const bad = results.find((r) => r.status !== 'completed' || !r.result);
    const seconds = (now() - t0) / 1000;
    if (bad) {
      return { ...head, status: bad.status === 'interrupted' ? 'interrupted' : 'failed', seconds, ...(bad.error ? { error: `${bad.error.code}: ${bad.error.message}` } : {}) };
    }
    const seeds = results.map((r) => ({ seed: r.result!.seed, valid: r.result!.validAtBest, runDir: relative(o.outRoot, r.runDir), bestEpoch: r.result!.bestEpoch, epochs: r.result!.epochs }));
    const values = seeds.map((s) => s.valid[cfg.objective.key]);
    if (values.some((v) => typeof v !== 'number')) {
      return { ...head, status: 'failed', seconds, seeds, error: `the runs report no validation ${cfg.objective.key} (they report ${Object.keys(seeds[0]!.valid).join(', ')})` };
    }
    const objective = (values as number[]).reduce((a, b) => a + b, 0) / values.length;
    return { ...head, status: 'completed', objective, seeds, seconds, reused: results.every((r) => r.reused) };
  };

  const observations = (): Observation[] =>
    [...trials.values()].filter((t) => t.status === 'completed' && t.objective !== undefined).sort((a, b) => a.trial - b.trial).map((t) => ({ setting: t.setting, loss: lossOf(cfg, t.objective!) }));

  const inFlight = new Map<number, Promise<void>>();
  let index = 0;
  let status: SearchOutcome['status'] = 'completed';
  const limit = planned ?? Infinity;
  for (;;) {
    while (inFlight.size < Math.max(1, o.runner.slots) && index < limit && now() < deadline && !o.signal?.aborted) {
      const known = trials.get(index);
      // A finished trial of an earlier session is kept; an unfinished one runs again with its recorded setting.
      if (known && (known.status === 'completed' || known.status === 'failed')) {
        index++;
        continue;
      }
      const setting = known?.setting ?? strategy.propose(index, observations());
      if (!setting) {
        index = limit;
        break;
      }
      const trial = index++;
      const p = runTrial(trial, setting).then((r) => {
        trials.set(trial, r);
        if (r.status !== 'interrupted') record(r);
        saveSpent();
        const best = bestTrial(cfg, [...trials.values()]);
        o.onEvent({ kind: 'trial.end', t: now(), record: r, ...(best ? { best: { trial: best.trial, objective: best.objective! } } : {}) });
        inFlight.delete(trial);
      });
      inFlight.set(trial, p);
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight.values());
  }
  saveSpent();
  if (o.signal?.aborted) status = 'interrupted';
  const all = [...trials.values()].sort((a, b) => a.trial - b.trial);
  writeTrialsCsv(tuneDir, cfg, all);
  const best = bestTrial(cfg, all);
  const outcome: SearchOutcome = { status, tuneDir, trials: all, ...(best ? { best } : {}) };
  if (status !== 'completed' || !best) {
    if (!best && status === 'completed') {
      outcome.status = 'failed';
      outcome.message = 'no trial completed, so there is no best setting';
    }
    writeTuneJson(tuneDir, cfg, outcome);
    o.onEvent({ kind: 'tune.end', t: now(), status: outcome.status, trials: all.length, ...(best ? { best } : {}), ...(outcome.message ? { message: outcome.message } : {}) });
    return outcome;
  }

  // The chosen setting as a complete spec, tested once: its own seeds (the spec's `seeds`), test split included.
  const final = compileTrial(o.file, cfg.params, best.setting, { ...compileOpts, test: true });
  if (hasErrors(final.diagnostics) || !final.ir || !final.spec) {
    outcome.status = 'failed';
    outcome.message = `best.yaml does not compile:\n${formatDiagnostics(final.diagnostics, final.host, { cwd: process.cwd(), color: false })}`;
    writeTuneJson(tuneDir, cfg, outcome);
    o.onEvent({ kind: 'tune.end', t: now(), status: 'failed', trials: all.length, best, message: outcome.message });
    return outcome;
  }
  const bestYaml = join(tuneDir, 'best.yaml');
  const header = [
    `# The best setting of the search in ${relative(process.cwd(), tuneDir) || '.'} (trial ${best.trial}, validation ${cfg.objective.key} ${best.objective}).`,
    `# ${formatSetting(best.setting)}`,
    `# A complete spec (every default filled): \`mmsa run\` it to reproduce the test below.`,
  ].join('\n');
  writeFileAtomic(bestYaml, `${header}\n${stringify(final.spec, { lineWidth: 0 })}`, { what: 'best.yaml', elsewhere: 'pass another --out' });
  outcome.bestYaml = bestYaml;
  const testHash = hashOf(effectiveSpec(final.spec, {}), final.ir);
  const seeds = final.ir.schedule.seeds;
  o.onEvent({ kind: 'test.start', t: now(), trial: best.trial, seeds, bestYaml });
  const tests = await Promise.all(seeds.map((seed) => runUnit(jobOf(final, testHash, seed, ['mmsa', 'run', bestYaml]), -1)));
  const failed = tests.find((r) => r.status !== 'completed' || !r.result);
  if (failed) {
    outcome.status = failed.status === 'interrupted' ? 'interrupted' : 'failed';
    if (failed.error) outcome.message = `testing best.yaml failed: ${failed.error.code}: ${failed.error.message}`;
    writeTuneJson(tuneDir, cfg, outcome);
    o.onEvent({ kind: 'tune.end', t: now(), status: outcome.status, trials: all.length, best, bestYaml, ...(outcome.message ? { message: outcome.message } : {}) });
    return outcome;
  }
  const { aggregateSeeds } = await import('../runtime/metrics/index.js');
  const seedResults = tests.map((r) => r.result!);
  const test = { seeds: seedResults, aggregate: aggregateSeeds(seedResults.map((r) => r.test)), runDirs: tests.map((r) => relative(o.outRoot, r.runDir)) };
  writeTuneJson(tuneDir, cfg, outcome, test);
  o.onEvent({ kind: 'tune.end', t: now(), status: 'completed', trials: all.length, best, bestYaml, test });
  return outcome;
}

/** trials.csv: one row per trial (setting, validation objective, seconds, status), as MMSA's tune CSV but on valid. */
export function writeTrialsCsv(tuneDir: string, cfg: TuneConfig, trials: readonly TrialRecord[]): void {
  const names = cfg.params.map((p) => p.name);
  const head = ['trial', ...names, `valid_${cfg.objective.key}`, 'seconds', 'status', 'reused', 'spec_hash'];
  const rows = trials.map((t) => [String(t.trial), ...names.map((n) => csvCell(typeof t.setting[n] === 'object' ? JSON.stringify(t.setting[n]) : (t.setting[n] as string | number))), t.objective !== undefined ? csvCell(t.objective) : '', t.seconds !== undefined ? t.seconds.toFixed(1) : '', t.status, t.reused ? 'yes' : '', t.specHash ?? ''].join(','));
  writeFileAtomic(join(tuneDir, 'trials.csv'), `${head.join(',')}\n${rows.map((r) => `${r}\n`).join('')}`, { what: 'trials.csv', elsewhere: 'pass another --out' });
}

function writeTuneJson(tuneDir: string, cfg: TuneConfig, o: Omit<SearchOutcome, 'status' | 'tuneDir'> & { status: SearchOutcome['status'] | 'running' }, test?: { seeds: SeedResult[]; aggregate: Record<string, AggregateCell>; runDirs: string[] }): void {
  const body = {
    status: o.status,
    objective: cfg.objective,
    strategy: cfg.strategy,
    params: cfg.params.map((p) => ({ name: p.name, dist: p.dist, paths: p.paths.map((x) => x.text) })),
    seeds: cfg.seeds,
    trials: o.trials,
    ...(o.best ? { best: o.best } : {}),
    ...(o.bestYaml ? { bestYaml: 'best.yaml' } : {}),
    ...(test ? { test } : {}),
    ...(o.message ? { message: o.message } : {}),
  };
  writeFileAtomic(join(tuneDir, 'tune.json'), `${JSON.stringify(body, null, 2)}\n`, { what: 'tune.json', elsewhere: 'pass another --out' });
}
