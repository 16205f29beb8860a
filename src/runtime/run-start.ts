// The start of `mmsa run`, free of TensorFlow.js: what a run is (its IR with overrides, spec hash and seeds) and the
// pipeline.start event, yielded before the runtime module (and tfjs with it) is loaded, so a reporter shows its
// header at once instead of a blank screen for the second or more that loading takes. Phase 7 (execute).

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import type { CompileResult } from '../compiler/compile.js';
import type { Ir } from '../compiler/ir/types.js';
import { packageRoot } from '../paths.js';
import { makeEvent, type PipelineStartEvent, type RunEvent } from './events.js';
import { specHash, type DatasetIdentity } from './run-dir.js';
import type { PipelineRunOptions, RunOutcome } from './run-types.js';

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

/**
 * The spec a run's lock file keeps. The lock is compiled later as ONE file beside the run's spec (`lockSpecPath`), so a
 * relative path written in a spec it extends from another directory would resolve against the wrong directory there:
 * the custom dataset's path and manifest, a named dataset's `root` and every encoder path the compiler resolved
 * (BERT's `pretrained`) are kept as this run resolved them, relative to the run's spec file.
 */
export function lockSpecOf(spec: Record<string, unknown>, ir: Ir, file: string): Record<string, unknown> {
  const out = JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
  const dir = dirname(file);
  const fromSpec = (abs: string): string => {
    const r = relative(dir, abs);
    return isAbsolute(r) || r.startsWith('..') ? r : `./${r}`;
  };
  // Absolute and home-relative paths resolve the same from anywhere: kept as written.
  const relativeAsWritten = (v: unknown): v is string => typeof v === 'string' && !isAbsolute(v) && !/^~[\\/]/.test(v);
  const dataset = out['dataset'];
  if (dataset && typeof dataset === 'object' && ir.dataset.source === 'custom') {
    const d = dataset as Record<string, unknown>;
    if (relativeAsWritten(d['path']) && ir.dataset.path) d['path'] = fromSpec(ir.dataset.path);
    if (relativeAsWritten(d['manifest']) && ir.dataset.manifestPath) d['manifest'] = fromSpec(ir.dataset.manifestPath);
  }
  if (dataset && typeof dataset === 'object' && ir.dataset.source === 'manifest') {
    const d = dataset as Record<string, unknown>;
    if (relativeAsWritten(d['root']) && ir.dataset.root) d['root'] = fromSpec(ir.dataset.root);
  }
  const encoders = (out['encoders'] ?? {}) as Record<string, Record<string, unknown>>;
  for (const node of ir.nodes) {
    const written = node.kind === 'encoder' && !node.rewrittenFrom ? encoders[node.name] : undefined;
    if (!written) continue;
    const config = node.config as Record<string, unknown>;
    for (const [key, value] of Object.entries(written)) {
      const resolved = config[key];
      if (relativeAsWritten(value) && typeof resolved === 'string' && resolved !== value && isAbsolute(resolved)) written[key] = fromSpec(resolved);
    }
  }
  return out;
}

/** The spec hash ignores the seed list: a seed's run directory is the same whoever else runs beside it. */
export function hashOf(spec: Record<string, unknown>, ir: Ir): string {
  // Nor the search: `mmsa run` of a spec with a tune section is the same experiment as without it.
  const { seeds: _seeds, tune: _tune, ...rest } = spec;
  return specHash(rest, datasetIdentity(ir), mmsaVersion());
}

/** What a run trains: the IR with the epoch cap override, the effective spec, its hash and the seeds. */
export function runPlan(compiled: CompileResult, opts: Pick<PipelineRunOptions, 'maxEpochs' | 'seeds'>): { ir: Ir; spec: Record<string, unknown>; hash: string; seeds: number[] } {
  const baseIr = compiled.ir;
  if (!baseIr || !compiled.spec) throw new Error('runPipeline needs a compile result with an IR (check diagnostics first)');
  const ir: Ir = opts.maxEpochs !== undefined ? { ...baseIr, schedule: { ...baseIr.schedule, maxEpochs: opts.maxEpochs } } : baseIr;
  const spec = effectiveSpec(compiled.spec, opts);
  const seeds = opts.seeds && opts.seeds.length > 0 ? opts.seeds : ir.schedule.seeds;
  return { ir, spec, hash: hashOf(spec, ir), seeds };
}

export function pipelineStartEvent(compiled: CompileResult, opts: PipelineRunOptions): PipelineStartEvent {
  const { ir, hash, seeds } = runPlan(compiled, opts);
  return makeEvent<PipelineStartEvent>({
    kind: 'pipeline.start',
    runId: `${hash}-summary`,
    pipeline: ir.pipeline,
    dataset: { name: ir.dataset.name, source: ir.dataset.source },
    backend: opts.backend ?? 'wasm',
    seeds,
    epochsMax: ir.schedule.maxEpochs,
    patience: ir.schedule.earlyStop.patience,
  });
}

/** runPipeline (runtime/run.ts), announced first: pipeline.start comes before the runtime is even loaded. */
export async function* startPipeline<O extends PipelineRunOptions>(compiled: CompileResult, opts: O): AsyncGenerator<RunEvent, RunOutcome> {
  yield pipelineStartEvent(compiled, opts);
  const { runPipeline } = await import('./run.js');
  return yield* runPipeline(compiled, { ...opts, announced: true });
}
