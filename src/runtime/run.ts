// Orchestrates `mmsa run`: compiled spec -> backend -> data -> for each seed a fresh lowering + the executor, with the
// run directory written as events arrive -> aggregate over seeds. Phase 7 (execute); loaded lazily (imports tfjs).

import type { CompileResult } from '../compiler/compile.js';
import type { Ir } from '../compiler/ir/types.js';
import { MmsaError } from '../errors.js';
import { sampleMemory, setupBackend, type BackendInfo } from './backend.js';
import { checkMemoryPlan, memoryLimits, planMemory, type MemoryPlan } from './memory/plan-memory.js';
import { defaultBertActivations, setDefaultBertActivations } from './nn/bert/model.js';
import type { ActivationMode } from './nn/bert/layer.js';
import type { PipelineRunOptions, RunOutcome } from './run-types.js';
import { datasetIdentity, lockSpecOf, mmsaVersion, pipelineStartEvent, runPlan } from './run-start.js';
import { loadDatasetWithEvents } from './data/load-events.js';
import type { LoadedDataset } from './data/types.js';
import { makeEvent, type EventBody, type RunErrorEvent, type RunEvent } from './events.js';
import { lowerPipeline } from './lower/lower-pipeline.js';
import type { LoweredPipeline } from './lower/types.js';
import { aggregateSeeds } from './metrics/index.js';
import { completedSeedResults, findCompletedRun, readManifest, runDirPath, RunDir, summaryPaths, writeSummary, type LockFile, type RunManifest } from './run-dir.js';
import { judgeRun } from './run-liveness.js';
import { acquireRunLock, beingTrained, type RunLock } from './run-lock.js';
import { writeCheckpoint } from './train/checkpoint.js';
import type { Batcher } from './train/evaluate.js';
import { runSchedule } from './train/executor.js';
import { prepareComponents } from './lower/prepare.js';

/** The public options plus test seams (dataset loader, lowering, batcher). */
export interface RunOptions extends PipelineRunOptions {
  /** pipeline.start was yielded already (startPipeline announces the run before loading this module). */
  announced?: boolean;
  /** What BERT layers keep for the backward pass (default 'auto': the memory plan decides). */
  activations?: ActivationMode | 'auto';
  loadData?: (ir: Ir) => Promise<LoadedDataset>;
  lower?: (ir: Ir, opts: { seed: number; trainSize: number; outDir?: string }) => LoweredPipeline;
  batches?: Batcher;
}

/** What run.start shows: the backend, and the native kernels when they back it ("wasm + native avx512 x2"). */
export function backendLabel(b: BackendInfo): string {
  const n = b.details.native;
  return n?.active ? `${b.name} + native ${n.isa ?? '?'} x${n.threads ?? 1}` : b.name;
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
      ...(p?.normalization ? { normalization: p.normalization } : {}),
    },
    command,
  };
}

export type { LockFile };
export { datasetIdentity, effectiveSpec, hashOf, lockSpecOf, mmsaVersion } from './run-start.js';
export type { BackendName, NativeMode, PipelineRunOptions, RunOutcome, RunStatusOutcome } from './run-types.js';

/**
 * Runs every seed and yields every event; the run directories are complete and consistent whenever an event is
 * yielded. Errors become a `run.error` event (and a 'failed' manifest); the return value tells the outcome.
 */
export async function* runPipeline(compiled: CompileResult, opts: RunOptions): AsyncGenerator<RunEvent, RunOutcome> {
  const locks: RunLock[] = [];
  try {
    return yield* runSeeds(compiled, opts, locks);
  } finally {
    // However the seeds end (finished, failed, or the consumer stopped iterating): the start locks go.
    for (const l of locks.splice(0)) l.release();
  }
}

/** runPipeline's body; `locks` holds the start lock of the seed in progress. */
async function* runSeeds(compiled: CompileResult, opts: RunOptions, locks: RunLock[]): AsyncGenerator<RunEvent, RunOutcome> {
  const { ir, spec, hash, seeds } = runPlan(compiled, opts);
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

  if (!opts.announced) yield pipelineStartEvent(compiled, opts);
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

  // Before any data or weight is loaded: a model that cannot fit stops here with what to change, not mid-epoch.
  let memory: MemoryPlan;
  try {
    memory = planMemory(ir, memoryLimits(backend.details.tfBackend), { activations: opts.activations ?? 'auto' });
    checkMemoryPlan(ir, memory, compiled.host);
  } catch (e) {
    yield fail(e);
    return outcome;
  }
  const memoryRecord = describeMemoryPlan(memory);

  let data: LoadedDataset | undefined;
  const lock: LockFile = {
    mmsaVersion: mmsaVersion(),
    specHash: hash,
    file: compiled.file,
    spec: lockSpecOf(spec, ir, compiled.file),
    defaulted: compiled.defaulted ?? [],
    overrides: {
      ...(opts.maxEpochs !== undefined ? { maxEpochs: opts.maxEpochs } : {}),
      ...(opts.seeds ? { seeds: opts.seeds } : {}),
      ...(opts.set?.length ? { set: opts.set } : {}),
    },
  };

  for (const [seedIndex, seed] of seeds.entries()) {
    for (const l of locks.splice(0)) l.release();
    if (opts.signal?.aborted) {
      outcome.status = 'interrupted';
      return outcome;
    }
    const runId = `${hash}-${seed}`;
    const dirPath = runDirPath(opts.outRoot, ir.pipeline, hash, seed);
    const completed = () => (opts.force ? undefined : findCompletedRun(dirPath));
    const reuse = (done: NonNullable<ReturnType<typeof findCompletedRun>>) => {
      outcome.runDirs.push(dirPath);
      outcome.results.push(done.results);
      return ev({ kind: 'run.end', runId, scope: 'seed', status: 'completed', seed, seedIndex, result: done.results, epochs: done.results.epochs, bestEpoch: done.results.bestEpoch, reused: true, runDir: dirPath, seconds: 0 });
    };
    const done = completed();
    if (done) {
      yield reuse(done);
      continue;
    }
    // Held from before the data loads until the seed ends: a second run of the same spec and seed started at the
    // same moment stops here (MSA6743) instead of training into the same directory. A completed run is reused above
    // without it (so it can be read from a read-only place), and looked for again once the lock is held.
    try {
      locks.push(acquireRunLock(dirPath, { what: 'the run directory', elsewhere: 'write the runs elsewhere with --out DIR' }));
    } catch (e) {
      yield fail(e, seed);
      return outcome;
    }
    const doneMeanwhile = completed();
    if (doneMeanwhile) {
      yield reuse(doneMeanwhile);
      continue;
    }
    // A directory still marked running is either being trained right now (never replace it, not even with --force)
    // or left by a process that died (trained again from scratch, which is how a dead run is recovered).
    const previous = readManifest(dirPath);
    const judged = previous?.status === 'running' ? judgeRun(previous) : undefined;
    if (judged?.state === 'running') {
      yield fail(beingTrained(dirPath, judged.why, judged.owner), seed);
      return outcome;
    }
    const recovered = judged?.state === 'dead' ? `the previous run in ${dirPath} died (${judged.why}); training it again from the start` : undefined;
    if (!data) {
      try {
        data = opts.loadData ? await opts.loadData(ir) : yield* loadDatasetWithEvents(ir, runId, opts.dataRoot ? { dataRoot: opts.dataRoot } : {});
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
        manifest: { ...manifestOf(ir, backend, hash, seed, data, opts.command ?? []), memory: memoryRecord },
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
      // BERT encoders created by this lowering keep what the plan chose (both modes give the same bits).
      const previousMode = defaultBertActivations();
      setDefaultBertActivations(memory.activations);
      try {
        pipeline = lower(ir, { seed, trainSize: data.train.n, outDir: dir.path });
      } finally {
        setDefaultBertActivations(previousMode);
      }
      const it = runSchedule(ir, pipeline, data, {
        runId,
        seed,
        seedIndex,
        seedCount: seeds.length,
        backend: backendLabel(backend),
        microBatches: memory.microBatches,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.batches ? { batches: opts.batches } : {}),
        saveCheckpoint: (d) => writeCheckpoint(dir.checkpointDir, d),
        runDir: dir.path,
      });
      for await (const ev0 of it) {
        const e = recovered && ev0.kind === 'run.start' ? { ...ev0, recovered } : ev0;
        if (e.kind === 'epoch.end') e.memory = sampleMemory();
        dir.appendEvent(e);
        if (e.kind === 'epoch.end') dir.recordEpoch(e);
        if (e.kind === 'run.end' && e.scope === 'seed') {
          if (e.status === 'completed' && e.result) {
            dir.writeResults(ir.pipeline, e.result);
            dir.finish('completed', { memory: { ...memoryRecord, measured: sampleMemory() } });
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
        dir.finish('failed', { error: { code: errEvent.code, message: errEvent.message }, memory: { ...memoryRecord, measured: sampleMemory() } });
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

  if (outcome.results.length > 0 && opts.summary !== false) {
    // The summary covers every completed seed of this spec, also those of earlier `mmsa run --seeds` calls, so it
    // agrees with `mmsa compare` whatever order the seeds were run in.
    const all = completedSeedResults(opts.outRoot, ir.pipeline, hash);
    const results = all.length >= outcome.results.length ? all : outcome.results;
    const agg = aggregateSeeds(results.map((r) => r.test));
    outcome.aggregate = agg;
    const paths = summaryPaths(opts.outRoot, ir.pipeline, hash);
    try {
      writeSummary(paths, { pipeline: ir.pipeline, specHash: hash, seeds: results.map((r) => r.seed), results, aggregate: agg });
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
      seeds: results.map((r) => r.seed),
      results,
      aggregate: agg,
      summaryPath: paths.json,
    });
  }
  return outcome;
}

/** The plan as the manifest records it: the design (where each kind of state lives), the estimate and the budget. */
export function describeMemoryPlan(p: MemoryPlan): Record<string, unknown> {
  return {
    design: { bertActivations: p.activations, microBatches: p.microBatches, optimizerState: p.optimizerState, gradientSums: p.gradientSums },
    parameters: p.parameters,
    estimate: p.estimate,
    budget: p.budget,
  };
}
