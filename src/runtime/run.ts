// Orchestrates `mmsa run`: compiled spec -> backend -> data -> for each seed a fresh lowering + the executor, with the
// run directory written as events arrive -> aggregate over seeds. Phase 7 (execute); loaded lazily (imports tfjs).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompileResult } from '../compiler/compile.js';
import type { Ir } from '../compiler/ir/types.js';
import { MmsaError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { setupBackend, type BackendInfo, type BackendName } from './backend.js';
import type { NativeMode } from './native.js';
import { loadDataset } from './data/load-dataset.js';
import type { LoadedDataset } from './data/types.js';
import { makeEvent, type AggregateCell, type EventBody, type RunErrorEvent, type RunEvent, type SeedResult } from './events.js';
import { lowerPipeline } from './lower/lower-pipeline.js';
import type { LoweredPipeline } from './lower/types.js';
import { aggregateSeeds } from './metrics/index.js';
import { findCompletedRun, readManifest, runDirPath, RunDir, specHash, summaryPaths, writeSummary, type DatasetIdentity, type LockFile, type RunManifest } from './run-dir.js';
import { judgeRun } from './run-liveness.js';
import { writeCheckpoint } from './train/checkpoint.js';
import type { Batcher } from './train/evaluate.js';
import { runSchedule } from './train/executor.js';
import { prepareComponents } from './lower/prepare.js';

export interface RunOptions {
  /** Seeds to run (default: the spec's `seeds`). */
  seeds?: number[];
  /** Epoch cap override (part of the spec hash: it changes the experiment). */
  maxEpochs?: number;
  backend?: BackendName;
  /** wasm only: mmsa's native kernels (default MMSA_NATIVE, else 'auto'). Recorded in the manifest's backendDetails. */
  native?: NativeMode;
  /** Threads of the native kernels; results do not depend on it. */
  threads?: number;
  /** Root of run directories (default ./runs, resolved by the caller). */
  outRoot: string;
  dataRoot?: string;
  /** Retrain even when a completed run with the same spec hash and seed exists. */
  force?: boolean;
  signal?: AbortSignal;
  /** argv for the manifest. */
  command?: string[];
  /** Test seam: dataset loader and batcher. */
  loadData?: (ir: Ir) => Promise<LoadedDataset>;
  lower?: (ir: Ir, opts: { seed: number; trainSize: number; outDir?: string }) => LoweredPipeline;
  batches?: Batcher;
}

/** What run.start shows: the backend, and the native kernels when they back it ("wasm + native avx512 x2"). */
export function backendLabel(b: BackendInfo): string {
  const n = b.details.native;
  return n?.active ? `${b.name} + native ${n.isa ?? '?'} x${n.threads ?? 1}` : b.name;
}

export type RunStatusOutcome = 'completed' | 'interrupted' | 'failed';

export interface RunOutcome {
  status: RunStatusOutcome;
  specHash: string;
  runDirs: string[];
  results: SeedResult[];
  aggregate?: Record<string, AggregateCell>;
  summaryPath?: string;
  error?: { code: string; message: string; hint?: string };
}

let versionCache: string | undefined;

export function mmsaVersion(): string {
  if (versionCache) return versionCache;
  try {
    versionCache = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    versionCache = '0.0.0';
  }
  return versionCache;
}

export function datasetIdentity(ir: Ir): DatasetIdentity {
  const d = ir.dataset;
  return {
    name: d.name,
    source: d.source,
    ...(d.path ? { path: d.path } : {}),
    ...(d.sha256 ? { sha256: d.sha256 } : {}),
    ...(d.synthetic ? { synthetic: d.synthetic } : {}),
  };
}

/** The spec a run actually trains: the normalized spec with command-line overrides applied. */
export function effectiveSpec(spec: unknown, o: { maxEpochs?: number }): Record<string, unknown> {
  const s = JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
  if (o.maxEpochs !== undefined) {
    const train = (s['train'] ?? {}) as Record<string, unknown>;
    s['train'] = { ...train, max_epochs: o.maxEpochs };
  }
  return s;
}

/** A seed's manifest before it runs: versions, backend, identity of the spec, the seed and the data it reads. */
export function manifestOf(ir: Ir, backend: BackendInfo, hash: string, seed: number, data: LoadedDataset | undefined, command: string[]): Omit<RunManifest, 'status' | 'finishedAt' | 'startedAt'> {
  const p = data?.provenance;
  return {
    mmsaVersion: mmsaVersion(),
    nodeVersion: process.version,
    backend: backend.name,
    backendDetails: { version: backend.version, ...backend.details },
    pipeline: ir.pipeline,
    specHash: hash,
    seed,
    dataset: {
      ...datasetIdentity(ir),
      ...(p?.path ? { path: p.path } : {}),
      ...(p?.sha256 ? { sha256: p.sha256 } : {}),
      ...(p?.synthetic ? { synthetic: p.synthetic } : {}),
    },
    command,
  };
}

/** The spec hash ignores the seed list: a seed's run directory is the same whoever else runs beside it. */
export function hashOf(spec: Record<string, unknown>, ir: Ir): string {
  const { seeds: _seeds, ...rest } = spec;
  return specHash(rest, datasetIdentity(ir), mmsaVersion());
}

export type { LockFile };

/**
 * Runs every seed and yields every event; the run directories are complete and consistent whenever an event is
 * yielded. Errors become a `run.error` event (and a 'failed' manifest); the return value tells the outcome.
 */
export async function* runPipeline(compiled: CompileResult, opts: RunOptions): AsyncGenerator<RunEvent, RunOutcome> {
  const baseIr = compiled.ir;
  if (!baseIr || !compiled.spec) throw new Error('runPipeline needs a compile result with an IR (check diagnostics first)');
  const ir: Ir = opts.maxEpochs !== undefined ? { ...baseIr, schedule: { ...baseIr.schedule, maxEpochs: opts.maxEpochs } } : baseIr;
  const spec = effectiveSpec(compiled.spec, opts);
  const hash = hashOf(spec, ir);
  const seeds = opts.seeds && opts.seeds.length > 0 ? opts.seeds : ir.schedule.seeds;
  const outcome: RunOutcome = { status: 'completed', specHash: hash, runDirs: [], results: [] };
  const ev = <E extends RunEvent>(body: EventBody<E>) => makeEvent<E>(body);
  const fail = (e: unknown, seed?: number): RunErrorEvent => {
    const err = e instanceof MmsaError ? e : undefined;
    const message = e instanceof Error ? e.message : String(e);
    outcome.status = 'failed';
    outcome.error = { code: err?.code ?? 'MSA6799', message, ...(err?.hint ? { hint: err.hint } : {}) };
    return ev<RunErrorEvent>({
      kind: 'run.error',
      runId: seed !== undefined ? `${hash}-${seed}` : `${hash}-summary`,
      message,
      code: outcome.error.code,
      ...(err?.hint ? { hint: err.hint } : {}),
      ...(seed !== undefined ? { seed } : {}),
    });
  };

  let backend: BackendInfo;
  try {
    backend = await setupBackend(opts.backend ?? 'wasm', {
      ...(opts.native ? { native: opts.native } : {}),
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    });
  } catch (e) {
    yield fail(e);
    return outcome;
  }

  let data: LoadedDataset | undefined;
  const lock: LockFile = {
    mmsaVersion: mmsaVersion(),
    specHash: hash,
    file: compiled.file,
    spec,
    defaulted: compiled.defaulted ?? [],
    overrides: { ...(opts.maxEpochs !== undefined ? { maxEpochs: opts.maxEpochs } : {}), ...(opts.seeds ? { seeds: opts.seeds } : {}) },
  };

  for (const [seedIndex, seed] of seeds.entries()) {
    if (opts.signal?.aborted) {
      outcome.status = 'interrupted';
      return outcome;
    }
    const runId = `${hash}-${seed}`;
    const dirPath = runDirPath(opts.outRoot, ir.pipeline, hash, seed);
    const done = opts.force ? undefined : findCompletedRun(dirPath);
    if (done) {
      outcome.runDirs.push(dirPath);
      outcome.results.push(done.results);
      yield ev({ kind: 'run.end', runId, scope: 'seed', status: 'completed', seed, seedIndex, result: done.results, epochs: done.results.epochs, bestEpoch: done.results.bestEpoch, reused: true, runDir: dirPath, seconds: 0 });
      continue;
    }
    // A directory still marked running is either being trained right now (never replace it, not even with --force)
    // or left by a process that died (trained again from scratch, which is how a dead run is recovered).
    const previous = readManifest(dirPath);
    const judged = previous?.status === 'running' ? judgeRun(previous) : undefined;
    if (judged?.state === 'running') {
      yield fail(
        new MmsaError('MSA6743', `${dirPath} is being trained right now (${judged.why})`, {
          hint: `follow it with \`mmsa watch ${dirPath}\`, or stop that process first; a second run of the same spec and seed would overwrite it`,
          details: { path: dirPath, ...(judged.owner ? { owner: judged.owner } : {}) },
        }),
        seed,
      );
      return outcome;
    }
    const recovered = judged?.state === 'dead' ? `the previous run in ${dirPath} died (${judged.why}); training it again from the start` : undefined;
    if (!data) {
      try {
        data = opts.loadData ? await opts.loadData(ir) : await loadDataset(ir, opts.dataRoot ? { dataRoot: opts.dataRoot } : {});
        // Lowering is synchronous and offline: components prepare what it needs (BERT downloads its weights) now,
        // after the data is known to be there.
        // What a component fetched (BERT: the commit a branch resolved to, which `mmsa predict` loads later).
        for (const [id, record] of await prepareComponents(ir)) lock.pretrained = { ...lock.pretrained, [id]: record };
      } catch (e) {
        yield fail(e, seed);
        return outcome;
      }
    }
    let dir: RunDir;
    try {
      dir = RunDir.create({
        outRoot: opts.outRoot,
        pipeline: ir.pipeline,
        hash,
        seed,
        lock,
        manifest: manifestOf(ir, backend, hash, seed, data, opts.command ?? []),
      });
    } catch (e) {
      yield fail(e, seed);
      return outcome;
    }
    outcome.runDirs.push(dir.path);
    let pipeline: LoweredPipeline | undefined;
    let finished = false;
    try {
      const lower = opts.lower ?? lowerPipeline;
      pipeline = lower(ir, { seed, trainSize: data.train.n, outDir: dir.path });
      const it = runSchedule(ir, pipeline, data, {
        runId,
        seed,
        seedIndex,
        seedCount: seeds.length,
        backend: backendLabel(backend),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.batches ? { batches: opts.batches } : {}),
        saveCheckpoint: (d) => writeCheckpoint(dir.checkpointDir, d),
        runDir: dir.path,
      });
      for await (const ev0 of it) {
        const e = recovered && ev0.kind === 'run.start' ? { ...ev0, recovered } : ev0;
        dir.appendEvent(e);
        if (e.kind === 'epoch.end') dir.recordEpoch(e);
        if (e.kind === 'run.end' && e.scope === 'seed') {
          if (e.status === 'completed' && e.result) {
            dir.writeResults(ir.pipeline, e.result);
            dir.finish('completed');
            outcome.results.push(e.result);
          } else {
            dir.finish('interrupted');
            outcome.status = 'interrupted';
          }
          finished = true;
        }
        yield e;
      }
    } catch (e) {
      const errEvent = fail(e, seed);
      // On a full or read-only disk these writes fail as well; the manifest write falls back to an in-place
      // overwrite, and readers still see a dead owner if even that fails.
      try {
        dir.appendEvent(errEvent);
      } catch {
        /* the error is reported through the event and the outcome */
      }
      try {
        dir.finish('failed', { error: { code: errEvent.code, message: errEvent.message } });
      } catch {
        dir.close();
      }
      finished = true;
      yield errEvent;
    } finally {
      if (!finished) {
        try {
          dir.finish(opts.signal?.aborted ? 'interrupted' : 'failed');
        } catch {
          dir.close();
        }
      }
      if (pipeline) {
        pipeline.optimizer.dispose();
        pipeline.model.dispose();
      }
    }
    if (outcome.status !== 'completed') return outcome;
  }

  if (outcome.results.length > 0) {
    const agg = aggregateSeeds(outcome.results.map((r) => r.test));
    outcome.aggregate = agg;
    const paths = summaryPaths(opts.outRoot, ir.pipeline, hash);
    try {
      writeSummary(paths, { pipeline: ir.pipeline, specHash: hash, seeds: outcome.results.map((r) => r.seed), results: outcome.results, aggregate: agg });
    } catch (e) {
      yield fail(e);
      return outcome;
    }
    outcome.summaryPath = paths.json;
    yield ev({
      kind: 'run.end',
      runId: `${hash}-summary`,
      scope: 'summary',
      status: 'completed',
      pipeline: ir.pipeline,
      seeds: outcome.results.map((r) => r.seed),
      results: outcome.results,
      aggregate: agg,
      summaryPath: paths.json,
    });
  }
  return outcome;
}
