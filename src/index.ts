// Public API of the mmsa package. Importing it never loads TensorFlow.js: the compiler, metrics, ULGM maths and the
// pickle reader are plain TypeScript; training entry points load tfjs lazily when called.

export { compileFile, type CompileOptions, type CompileResult, type Phase } from './compiler/compile.js';
export { formatDiagnostic, formatDiagnostics, toJsonDiagnostics, type JsonDiagnostic } from './compiler/diagnostics/format.js';
export { hasErrors, sortDiagnostics, type Diagnostic, type Severity } from './compiler/diagnostics/diagnostic.js';
export { MESSAGES, type MessageCode } from './core/messages.js';
export { SourceFile, SourceHost, type Span } from './compiler/source/source-file.js';
export { printPlan } from './compiler/ir/print-plan.js';
export type { Ir, IrNode, IrTask, IrParamGroup, ResolvedDataset, TensorType, TrainingSchedule } from './compiler/ir/types.js';
export type { PipelineSpec, RawPipelineSpec, DatasetManifest } from './compiler/spec/types.generated.js';
export { CATALOG, getComponent } from './components/catalog.js';
export { defineComponent, type ComponentDef } from './components/component.js';
export { rootSchema } from './compiler/schema/schemas.js';
export { MmsaError } from './errors.js';

export * from './runtime/metrics/index.js';
export { UlgmState, type UlgmOptions, type UlgmSnapshot, type FeatureRows, type EmptyClass } from './components/tasks/ulgm/state.js';
export { readPickle, parsePickleBytes, NDArray, Skipped, DType, isPyTuple, PICKLE_ERROR_CODES, formatKeyPath } from './runtime/data/pickle/read-pickle.js';
export type { ReadPickleOptions, PyValue, NDTypedArray, NDDtypeName, KeyPath } from './runtime/data/pickle/read-pickle.js';
export { loadDataset, type LoadDatasetOptions } from './runtime/data/load-dataset.js';
export { makeBatches } from './runtime/data/batching.js';
export type { LoadedDataset, SplitData, Batch } from './runtime/data/types.js';
export { tokenize } from './runtime/bert/tokenize.js';
export type { RunEvent } from './runtime/events.js';

type LoadBert = typeof import('./runtime/bert/load-bert.js').loadBert;
/** Loads a BERT (local directory, Hugging Face cache or hub) as an encoder with `cls(ids, mask, types)`; loads tfjs. */
export async function loadBert(...args: Parameters<LoadBert>): ReturnType<LoadBert> {
  return (await import('./runtime/bert/load-bert.js')).loadBert(...args);
}

type RunPipeline = typeof import('./runtime/run.js').runPipeline;
/** Trains and tests a compiled pipeline for every seed, yielding run events; loads tfjs. */
export async function* runPipeline(...args: Parameters<RunPipeline>): ReturnType<RunPipeline> {
  return yield* (await import('./runtime/run.js')).runPipeline(...args);
}
