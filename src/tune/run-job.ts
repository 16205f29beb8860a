// One seed of one spec as a unit of work (a tuning trial's seed, or a seed of `mmsa run --queue`): plain JSON that a
// local worker process or a queue worker receives, keyed by the run's content hash, and its execution. Phase 7.

import { basename, dirname, extname, join } from 'node:path';
import { formatDiagnostics } from '../compiler/diagnostics/format.js';
import { hasErrors } from '../compiler/diagnostics/diagnostic.js';
import type { JsonValue } from '../compiler/spec/spec-tree.js';
import type { RunEvent, SeedResult } from '../runtime/events.js';
import type { RunManifest } from '../runtime/run-dir.js';
import type { NativeMode } from '../runtime/native.js';
import { compileSpecValue } from './trial-spec.js';

/** What a worker must match to run a job: results depend on both (the native kernels change the last bits). */
export interface Compat {
  mmsaVersion: string;
  /** `<version>:<isa>` of the native kernels the run would use, or `off`. */
  native: string;
}

export interface RunJob {
  /** `<pipeline>/<spec-hash>-<seed>`: the run directory's content address; the queue's job id. */
  key: string;
  pipeline: string;
  specHash: string;
  seed: number;
  /** The normalized spec of the run (a trial: with its setting, no `tune`, eval.splits [valid]). */
  spec: JsonValue;
  /** The spec file it came from (relative dataset paths resolve beside it). */
  file: string;
  backend?: string;
  native?: NativeMode;
  threads?: number;
  /** Root of run directories. A queue worker may put the run elsewhere (its cache) and send the files back. */
  outRoot: string;
  dataRoot?: string;
  compat: Compat;
  /** argv recorded in the manifest. */
  command: string[];
}

export interface RunJobResult {
  key: string;
  status: 'completed' | 'failed' | 'interrupted';
  result?: SeedResult;
  runDir: string;
  manifest?: RunManifest;
  reused: boolean;
  seconds: number;
  error?: { code: string; message: string; hint?: string };
}

export function jobKey(pipeline: string, specHash: string, seed: number): string {
  return `${pipeline}/${specHash}-${seed}`;
}

/** The native build this process would run with in `mode` (loads the library once; no tfjs). */
export async function localCompat(mode: NativeMode | undefined): Promise<Compat> {
  const [{ mmsaVersion }, { nativeKernelsFor, resolveNativeMode }] = await Promise.all([import('../runtime/run-start.js'), import('../runtime/native.js')]);
  const k = nativeKernelsFor(resolveNativeMode(mode));
  return { mmsaVersion: mmsaVersion(), native: k.status.loaded ? `${k.status.version ?? '?'}:${k.status.isa ?? '?'}` : 'off' };
}

/** Why a job cannot run here, or undefined when this process matches it. */
export function compatProblem(job: Compat, here: Compat): string | undefined {
  const why: string[] = [];
  if (job.mmsaVersion !== here.mmsaVersion) why.push(`the job needs mmsa ${job.mmsaVersion}, this worker runs ${here.mmsaVersion}`);
  if (job.native !== here.native) why.push(`the job's native kernels are ${job.native}, this worker's are ${here.native} (results would differ in the last bits)`);
  return why.length ? `${why.join('; ')}; install the submitter's mmsa version on this worker (npm ci builds the same kernels on the same CPU)` : undefined;
}

/** Trains (or reuses) the job's run directory under `outRoot`, passing every event on. */
export async function executeRunJob(job: RunJob, opts: { signal?: AbortSignal; onEvent?: (e: RunEvent) => void; outRoot?: string; env?: NodeJS.ProcessEnv }): Promise<RunJobResult> {
  const started = Date.now();
  const outRoot = opts.outRoot ?? job.outRoot;
  const { runDirPath, readManifest } = await import('../runtime/run-dir.js');
  const runDir = runDirPath(outRoot, job.pipeline, job.specHash, job.seed);
  const fail = (code: string, message: string, hint?: string): RunJobResult => ({ key: job.key, status: 'failed', runDir, reused: false, seconds: (Date.now() - started) / 1000, error: { code, message, ...(hint ? { hint } : {}) } });
  const compiled = compileSpecValue(job.spec, join(dirname(job.file), `${basename(job.file, extname(job.file))}.job.yaml`), {
    env: opts.env ?? process.env,
    ...(job.dataRoot ? { dataRoot: job.dataRoot } : {}),
  });
  if (hasErrors(compiled.diagnostics) || !compiled.ir) {
    return fail('MSA6750', `the spec of ${job.key} does not compile here:\n${formatDiagnostics(compiled.diagnostics, compiled.host, { cwd: process.cwd(), color: false })}`, 'the worker reads the dataset from its own --data-root; check that it has the data');
  }
  const { runPipeline, hashOf, effectiveSpec } = await import('../runtime/run.js');
  const hash = hashOf(effectiveSpec(compiled.spec, {}), compiled.ir);
  if (hash !== job.specHash) {
    return fail('MSA6751', `${job.key}: this worker computes spec hash ${hash} for the job's spec`, 'the dataset differs here (another file or checksum), or the mmsa versions differ');
  }
  const it = runPipeline(compiled, {
    outRoot,
    seeds: [job.seed],
    ...(job.backend ? { backend: job.backend as never } : {}),
    ...(job.native ? { native: job.native } : {}),
    ...(job.threads !== undefined ? { threads: job.threads } : {}),
    ...(job.dataRoot ? { dataRoot: job.dataRoot } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    summary: false,
    command: job.command,
  });
  let reused = false;
  let r = await it.next();
  while (!r.done) {
    const e = r.value;
    if (e.kind === 'run.end' && e.scope === 'seed' && e.reused) reused = true;
    opts.onEvent?.(e);
    r = await it.next();
  }
  const outcome = r.value;
  const manifest = readManifest(runDir);
  return {
    key: job.key,
    status: outcome.status,
    ...(outcome.results[0] ? { result: outcome.results[0] } : {}),
    runDir,
    ...(manifest ? { manifest } : {}),
    reused,
    seconds: (Date.now() - started) / 1000,
    ...(outcome.error ? { error: outcome.error } : {}),
  };
}
