// `mmsa import`, the run half: a run directory from an MMSA checkpoint's weights (lock file, manifest marked imported,
// mmsa checkpoint, the MMSA name of every tensor) and, when the dataset is there, the valid and test evaluation a
// trained run ends with. Phase 7 (execute); loaded lazily (imports tfjs).

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CompileResult } from '../compiler/compile.js';
import { mapMmsaNames } from '../compiler/ir/mmsa-names.js';
import { MmsaError } from '../errors.js';
import { setupBackend, type BackendName } from './backend.js';
import { loadDataset } from './data/load-dataset.js';
import type { LoadedDataset } from './data/types.js';
import { makeEvent, type EvalEndEvent, type RunEndSeedEvent, type RunStartEvent, type SeedResult } from './events.js';
import { lowerPipeline } from './lower/lower-pipeline.js';
import { lowerModel } from './lower/lower-model.js';
import type { Ir } from '../compiler/ir/types.js';
import type { NativeMode } from './native.js';
import { backendLabel, effectiveSpec, hashOf, lockSpecOf, manifestOf, mmsaVersion } from './run.js';
import { RunDir, safeSegment, writeJsonAtomic, type LockFile } from './run-dir.js';
import { writeCheckpoint } from './train/checkpoint.js';
import { topologyOf } from './train/checkpoint.js';
import { evaluateSplit, writePredictions, type EvalOutcome } from './train/evaluate.js';
import { planEvalMicroBatches } from './memory/plan-memory.js';
import { addExtraTensors, matchMmsaCheckpoint, readMmsaCheckpoint, type ImportMatch, type MmsaCheckpoint } from './weights/import-mmsa.js';

export interface ImportOptions {
  /** The .pth file (resolved by the caller). */
  checkpoint: string;
  /** A torch.save file of tensors MMSA's model keeps but never saves (Graph-MFN's node networks), exported separately. */
  extraTensors?: string;
  /** The run directory to write (default: <outRoot>/<pipeline>/<hash>-imported). */
  outDir?: string;
  outRoot: string;
  dataRoot?: string;
  /** Replace an existing directory. */
  force?: boolean;
  /** Skip the valid/test evaluation (default: evaluate when the dataset can be read). */
  evaluate?: boolean;
  backend?: BackendName;
  native?: NativeMode;
  threads?: number;
  /** argv for the manifest. */
  command?: string[];
}

export interface ImportOutcome {
  runDir: string;
  checkpoint: MmsaCheckpoint;
  /** Tensors in the checkpoint file itself (the extra tensors come on top). */
  checkpointTensors: number;
  extra?: MmsaCheckpoint;
  match: ImportMatch;
  valid?: EvalOutcome;
  test?: EvalOutcome;
  result?: SeedResult;
  /** Why the splits were not evaluated (no data, or --no-eval). */
  notEvaluated?: string;
}

/** Imported weights have no training seed; 0 marks that in the manifest and the run id. */
const IMPORT_SEED = 0;

function isNonEmptyDir(p: string): boolean {
  try {
    return readdirSync(p).length > 0;
  } catch {
    return existsSync(p);
  }
}

/** The initial values (import seed) of the parameters MMSA never saved, added to the imported weights. */
function fillInitialValues(ir: Ir, match: ImportMatch): void {
  const model = lowerModel(ir, { seed: IMPORT_SEED });
  try {
    for (const n of match.unsaved) {
      const v = model.store.get(n.key);
      match.weights.set(n.key, { shape: [...v.shape], values: Float32Array.from(v.dataSync() as Float32Array) });
    }
  } finally {
    model.dispose();
  }
}

/**
 * Reads and matches the checkpoint (nothing is written when it does not fit), writes the run directory, then
 * evaluates valid and test on the imported weights as `mmsa run` ends a seed.
 */
export async function importMmsaCheckpoint(compiled: CompileResult, opts: ImportOptions): Promise<ImportOutcome> {
  const ir = compiled.ir;
  if (!ir || !compiled.spec) throw new Error('importMmsaCheckpoint needs a compile result with an IR (check diagnostics first)');
  const checkpoint = readMmsaCheckpoint(opts.checkpoint);
  const checkpointTensors = checkpoint.tensors.size;
  const extra = opts.extraTensors ? readMmsaCheckpoint(opts.extraTensors) : undefined;
  if (extra) addExtraTensors(checkpoint, extra);
  const modules = compiled.spec.mmsa_modules ?? {};
  const match = matchMmsaCheckpoint(checkpoint, mapMmsaNames(ir, modules, compiled.spec.mmsa_ignore), ir, modules, compiled.file);

  const spec = effectiveSpec(compiled.spec, {});
  // An imported run is its own experiment: the checkpoint is part of its identity, so compare never pools it with
  // trained seeds of the same spec.
  const hash = hashOf({ ...spec, imported: checkpoint.sha256, ...(extra ? { extra: extra.sha256 } : {}) }, ir);
  const path = opts.outDir ?? join(opts.outRoot, safeSegment(ir.pipeline), `${hash}-imported`);
  if (!opts.force && isNonEmptyDir(path)) {
    throw new MmsaError('MSA6831', `${path} exists`, { hint: 'pass --force to replace it, or --out to write the imported run elsewhere', details: { path } });
  }

  let data: LoadedDataset | undefined;
  let notEvaluated: string | undefined = opts.evaluate === false ? 'not asked for (--no-eval)' : undefined;
  if (notEvaluated === undefined) {
    try {
      data = await loadDataset(ir, opts.dataRoot ? { dataRoot: opts.dataRoot } : {});
    } catch (e) {
      if (!(e instanceof MmsaError)) throw e;
      notEvaluated = `the dataset cannot be read (${e.code}: ${e.message.split('\n')[0]})`;
    }
  }
  const backend = await setupBackend(opts.backend ?? 'wasm', { ...(opts.native ? { native: opts.native } : {}), ...(opts.threads !== undefined ? { threads: opts.threads } : {}) });

  const lock: LockFile = { mmsaVersion: mmsaVersion(), specHash: hash, file: compiled.file, spec: lockSpecOf(spec, ir, compiled.file), defaulted: compiled.defaulted ?? [], overrides: {} };
  const dir = RunDir.create({
    path,
    outRoot: opts.outRoot,
    pipeline: ir.pipeline,
    hash,
    seed: IMPORT_SEED,
    lock,
    manifest: {
      ...manifestOf(ir, backend, hash, IMPORT_SEED, data, opts.command ?? []),
      imported: {
        from: 'mmsa',
        file: opts.checkpoint,
        sha256: checkpoint.sha256,
        format: checkpoint.format,
        tensors: checkpointTensors,
        ...(extra ? { extraTensors: { file: opts.extraTensors!, sha256: extra.sha256, tensors: extra.tensors.size } } : {}),
      },
    },
  });
  const runId = `${hash}-imported`;
  const started = Date.now();
  try {
    // What MMSA never saves keeps the initial values an mmsa pipeline gives it (seed 0, the import's), so that the
    // written checkpoint is complete and predict sees the same weights as the evaluation below.
    if (match.unsaved.length > 0) fillInitialValues(ir, match);
    writeCheckpoint(dir.checkpointDir, { pipeline: ir.pipeline, epoch: 0, topology: topologyOf(ir), weights: match.weights, tasks: {} });
    writeJsonAtomic(join(dir.path, 'import.json'), {
      checkpoint: { file: opts.checkpoint, sha256: checkpoint.sha256, format: checkpoint.format, bytes: checkpoint.bytes },
      tensors: match.tensors.map((t) => ({ mmsa: t.mmsa, name: t.key, shape: t.shape })),
      ignored: match.ignored,
      unusedModules: match.unused,
      ...(extra ? { extraTensors: { file: opts.extraTensors, sha256: extra.sha256 } } : {}),
      initialValues: match.unsaved.map((n) => ({ mmsa: n.mmsa, name: n.key, shape: n.shape })),
    });
    const outcome: ImportOutcome = { runDir: dir.path, checkpoint, checkpointTensors, match, ...(extra ? { extra } : {}) };
    if (!data) {
      outcome.notEvaluated = notEvaluated!;
      dir.appendEvent(makeEvent<RunEndSeedEvent>({ kind: 'run.end', runId, scope: 'seed', status: 'completed', seed: IMPORT_SEED, seedIndex: 0, epochs: 0, bestEpoch: 0, runDir: dir.path, seconds: 0 }));
      dir.finish('completed');
      return outcome;
    }
    const pipeline = lowerPipeline(ir, { seed: IMPORT_SEED, trainSize: Math.max(1, data.train.n), outDir: dir.path });
    try {
      pipeline.model.store.loadStateDict(match.weights);
      const store = pipeline.model.store;
      dir.appendEvent(
        makeEvent<RunStartEvent>({
          kind: 'run.start',
          runId,
          pipeline: ir.pipeline,
          dataset: { name: data.name, source: data.provenance.source, ...(data.provenance.path ? { path: data.provenance.path } : {}), ...(data.provenance.sha256 ? { sha256: data.provenance.sha256 } : {}), n: { train: data.train.n, valid: data.valid.n, test: data.test.n } },
          backend: backendLabel(backend),
          seed: IMPORT_SEED,
          seedIndex: 0,
          seedCount: 1,
          epochsMax: 0,
          stepsPerEpoch: 0,
          params: { total: store.numParams(), trainable: store.numParams({ trainableOnly: true }), optimized: 0 },
          runDir: dir.path,
        }),
      );
      // Evaluated in the chunks `mmsa predict` uses for this pipeline (train.micro_batches, or the fewest that fit).
      const microBatches = planEvalMicroBatches(ir, backend.details.tfBackend);
      const valid = evaluateSplit(ir, pipeline, data.valid, { seed: IMPORT_SEED, epoch: 0, microBatches });
      dir.appendEvent(makeEvent<EvalEndEvent>({ kind: 'eval.end', runId, epoch: 0, split: 'valid', loss: valid.loss, metrics: valid.metrics }));
      const test = evaluateSplit(ir, pipeline, data.test, { seed: IMPORT_SEED, epoch: 0, microBatches });
      const predictionsFile = writePredictions(join(dir.path, 'predictions.csv'), data.test, test);
      dir.appendEvent(makeEvent<EvalEndEvent>({ kind: 'eval.end', runId, epoch: 0, split: 'test', loss: test.loss, metrics: test.metrics, ...(predictionsFile ? { predictionsFile } : {}) }));
      const result: SeedResult = { seed: IMPORT_SEED, test: test.metrics, validAtBest: valid.metrics, bestEpoch: 0, epochs: 0 };
      dir.appendEvent(
        makeEvent<RunEndSeedEvent>({ kind: 'run.end', runId, scope: 'seed', status: 'completed', seed: IMPORT_SEED, seedIndex: 0, result, epochs: 0, bestEpoch: 0, runDir: dir.path, seconds: (Date.now() - started) / 1000 }),
      );
      dir.writeResults(ir.pipeline, result);
      dir.finish('completed');
      return { ...outcome, valid, test, result };
    } finally {
      pipeline.optimizer.dispose();
      pipeline.model.dispose();
    }
  } catch (e) {
    dir.finish('failed', { error: { code: e instanceof MmsaError ? e.code : 'MSA6799', message: e instanceof Error ? e.message : String(e) } });
    throw e;
  }
}
