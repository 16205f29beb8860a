// The `mmsa/runtime` entry: TensorFlow.js-typed parts of the runtime (BERT loading, backend set-up). Importing it
// loads TensorFlow.js; its typings include tfjs's own, which need skipLibCheck (they do not compile without it).

export { loadBert, loadBertTokenizer, type IdsInput, type LoadBertOptions, type LoadedBert } from './runtime/bert/load-bert.js';
export { setupBackend, type BackendInfo } from './runtime/backend.js';
export type { BackendName, NativeMode } from './runtime/run-types.js';
