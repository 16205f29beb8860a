// `mmsa run FILE... --queue redis://...`: every seed of every spec becomes a queue job (keyed by its content hash),
// progress is reported as a local run's, and each spec's summary is written here when its seeds are back. Phase 7.

import { resolve } from 'node:path';
import { compileFileAsync } from '../compiler/compile.js';
import { hasErrors } from '../compiler/diagnostics/diagnostic.js';
import { formatDiagnostics } from '../compiler/diagnostics/format.js';
import { SourceHost } from '../compiler/source/source-file.js';
import type { JsonValue } from '../compiler/spec/spec-tree.js';
import type { RunEvent } from '../runtime/events.js';
import type { NativeMode } from '../runtime/native.js';
import { jobKey, localCompat, type RunJob } from '../tune/run-job.js';
import { createQueueRunner } from './queue-runner.js';

export interface QueueRunOptions {
  /** Spec files, resolved (shipped names, -m/-d) by the caller. */
  files: string[];
  /** `--set KEY=VALUE` overrides, applied to every spec (part of each job's spec, so of its hash). */
  set?: string[];
  url: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  outRoot: string;
  dataRoot?: string;
  seeds?: number[];
  maxEpochs?: number;
  native?: NativeMode;
  threads?: number;
  backend?: string;
  onEvent(e: RunEvent): void;
  err(s: string): void;
  signal: AbortSignal;
}

interface Submission {
  file: string;
  pipeline: string;
  hash: string;
  jobs: RunJob[];
}

/**
 * Compiles every file first (all diagnostics at once, nothing submitted if one fails), then puts every seed of every
 * spec on the queue together, so the workers share them all; each spec's summary is written when its seeds are back.
 */
export async function runOnQueue(o: QueueRunOptions): Promise<'completed' | 'failed' | 'interrupted'> {
  const { hashOf, effectiveSpec } = await import('../runtime/run.js');
  const { aggregateSeeds } = await import('../runtime/metrics/index.js');
  const { summaryPaths, writeSummary } = await import('../runtime/run-dir.js');
  const compat = await localCompat(o.native);
  const submissions: Submission[] = [];
  let broken = false;
  for (const file of o.files) {
    const host = new SourceHost();
    const path = resolve(o.cwd, file);
    const compiled = await compileFileAsync(path, { env: o.env, host, ...(o.dataRoot ? { dataRoot: o.dataRoot } : {}), ...(o.set?.length ? { set: o.set } : {}) });
    const text = formatDiagnostics(compiled.diagnostics, host, { cwd: o.cwd, color: false });
    if (text) o.err(text);
    if (hasErrors(compiled.diagnostics) || !compiled.ir || !compiled.spec) {
      broken = true;
      continue;
    }
    // --max-epochs is part of the experiment: it goes into the job's spec (and so into its hash), as in a local run.
    const spec = effectiveSpec(compiled.spec, o.maxEpochs !== undefined ? { maxEpochs: o.maxEpochs } : {});
    const hash = hashOf(spec, compiled.ir);
    const pipeline = compiled.ir.pipeline;
    const jobs = (o.seeds ?? compiled.ir.schedule.seeds).map((seed): RunJob => ({
      key: jobKey(pipeline, hash, seed),
      pipeline,
      specHash: hash,
      seed,
      spec: spec as JsonValue,
      file: path,
      ...(o.backend ? { backend: o.backend } : {}),
      ...(o.native ? { native: o.native } : {}),
      ...(o.threads !== undefined ? { threads: o.threads } : {}),
      outRoot: o.outRoot,
      ...(o.dataRoot ? { dataRoot: o.dataRoot } : {}),
      compat,
      command: ['mmsa', 'run', file, '--seeds', String(seed), ...(o.maxEpochs !== undefined ? ['--max-epochs', String(o.maxEpochs)] : []), ...(o.set ?? []).flatMap((x) => ['--set', x])],
    }));
    submissions.push({ file, pipeline, hash, jobs });
  }
  if (broken) return 'failed';
  const runner = await createQueueRunner({ url: o.url, outRoot: o.outRoot, inFlight: Number.MAX_SAFE_INTEGER });
  o.signal.addEventListener('abort', () => runner.abortAll());
  try {
    const outcomes = await Promise.all(
      submissions.map(async (sub): Promise<'completed' | 'failed' | 'interrupted'> => {
        const results = await Promise.all(sub.jobs.map((job) => runner.run(job, o.onEvent)));
        const bad = results.find((r) => r.status !== 'completed' || !r.result);
        if (bad) {
          if (bad.error) o.err(`${sub.file}: ${bad.error.code}: ${bad.error.message}\n`);
          return bad.status === 'interrupted' ? 'interrupted' : 'failed';
        }
        const seedResults = results.map((r) => r.result!);
        const aggregate = aggregateSeeds(seedResults.map((r) => r.test));
        const paths = summaryPaths(o.outRoot, sub.pipeline, sub.hash);
        writeSummary(paths, { pipeline: sub.pipeline, specHash: sub.hash, seeds: seedResults.map((r) => r.seed), results: seedResults, aggregate });
        o.onEvent({ v: 1, t: Date.now(), kind: 'run.end', runId: `${sub.hash}-summary`, scope: 'summary', status: 'completed', pipeline: sub.pipeline, seeds: seedResults.map((r) => r.seed), results: seedResults, aggregate, summaryPath: paths.json });
        return 'completed';
      }),
    );
    if (outcomes.includes('interrupted')) {
      o.err('detached: the jobs stay on the queue; `mmsa status --queue ...` follows them, rerunning this command collects them\n');
      return 'interrupted';
    }
    return outcomes.includes('failed') ? 'failed' : 'completed';
  } finally {
    await runner.close();
  }
}
