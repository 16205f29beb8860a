// Public API of the mmsa package. Importing it never loads TensorFlow.js: the compiler, metrics, ULGM maths and the
// pickle reader are plain TypeScript; training entry points load tfjs lazily when called. Its typings never reach
// TensorFlow.js's (which do not compile without skipLibCheck); tfjs-typed entry points are in runtime-api.ts.

import type { CompileResult } from './compiler/compile.js';
import { parseDsl } from './compiler/syntax/dsl/parse-dsl.js';
import { useDslFrontEnd } from './compiler/syntax/parse-file.js';
import type { RunEvent } from './runtime/events.js';
import type { PipelineRunOptions, RunOutcome } from './runtime/run-types.js';

// The library's compileFile is synchronous for .mmsa files too (the CLI loads the DSL parser only when needed).
useDslFrontEnd(parseDsl);

export { compileFile, compileFileAsync, type CompileOptions, type CompileResult, type Phase } from './compiler/compile.js';
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
export { readPickle, parsePickleBytes, NDArray, Skipped, DType, isPyTuple, PICKLE_ERROR_CODES, PICKLE_LIMITS, formatKeyPath } from './runtime/data/pickle/read-pickle.js';
export type { ReadPickleOptions, PyValue, NDTypedArray, NDDtypeName, KeyPath, PickleLimits } from './runtime/data/pickle/read-pickle.js';
export { loadDataset, type LoadDatasetOptions } from './runtime/data/load-dataset.js';
export { makeBatches } from './runtime/data/batching.js';
export type { LoadedDataset, SplitData, Batch } from './runtime/data/types.js';
export { tokenize } from './runtime/bert/tokenize.js';

export { packageRoot, pipelinesDir, presetsDir, datasetsDir, schemasDir } from './paths.js';
export { editorSchema, EDITOR_SCHEMAS, type EditorSchemaName } from './compiler/schema/editor-schema.js';
export type { BackendName, NativeMode, PipelineRunOptions, RunOutcome, RunStatusOutcome } from './runtime/run-types.js';
export type * from './runtime/events.js';

/**
 * Trains and tests a compiled pipeline for every seed, yielding run events (see docs/api.md); loads TensorFlow.js on
 * first call. The BERT loader and the backend set-up, whose types are TensorFlow.js's, are in `mmsa/runtime`.
 */
export async function* runPipeline(compiled: CompileResult, opts: PipelineRunOptions): AsyncGenerator<RunEvent, RunOutcome> {
  return yield* (await import('./runtime/run-start.js')).startPipeline(compiled, opts);
}
