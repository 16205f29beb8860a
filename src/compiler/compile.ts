// The compiler driver: runs phases 0-5 on a spec file (load, parse, extends/normalize, schema, check, ir) and
// collects every diagnostic. `mmsa check`, `plan`, `compile` and `run` all start here.

import { basename, extname } from 'node:path';
import { datasetsDir, presetsDir } from '../paths.js';
import { getComponent } from './components/catalog.js';
import { checkSpec } from './check/check-spec.js';
import { DiagnosticBag, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics/diagnostic.js';
import { buildIr, defaultMode } from './ir/build-ir.js';
import type { Ir, ResolvedDataset } from './ir/types.js';
import { validateSchema } from './schema/validate-schema.js';
import { SourceHost, type Span } from './source/source-file.js';
import { loadWithExtends } from './spec/extends.js';
import { fillDefaults } from './spec/fill-defaults.js';
import { interpolateTree, type Env } from './spec/interpolate.js';
import { resolveDataset } from './spec/resolve-dataset.js';
import { fromValue, getEntry, spanAt, toValue, type JsonValue, type SpecMap, type SpecNode, type SpecPath } from './spec/spec-tree.js';
import type { PipelineSpec } from './spec/types.generated.js';
import { parseSpecFile } from './syntax/parse-file.js';

export type Phase = 'parse' | 'schema' | 'check' | 'ir';

export interface CompileOptions {
  env?: Env;
  /** --data-root */
  dataRoot?: string;
  host?: SourceHost;
  /** Last phase to run (default: ir). */
  until?: Phase;
  presetsDir?: string;
  datasetsDir?: string;
}

export interface CompileResult {
  file: string;
  host: SourceHost;
  diagnostics: Diagnostic[];
  /** The merged, normalized spanned tree (when phases 0-3 succeeded). */
  tree?: SpecNode;
  spec?: PipelineSpec;
  /** Dotted paths whose values came from defaults. */
  defaulted?: string[];
  dataset?: ResolvedDataset;
  ir?: Ir;
  /** Every file read (the entry first, then what it extends). */
  files: string[];
}

export function compileFile(file: string, opts: CompileOptions = {}): CompileResult {
  const host = opts.host ?? new SourceHost();
  const env = opts.env ?? process.env;
  const bag = new DiagnosticBag();
  const until = opts.until ?? 'ir';
  const result: CompileResult = { file, host, diagnostics: [], files: [] };
  const finish = () => {
    result.diagnostics = sortDiagnostics(bag.items);
    return result;
  };

  // Phases 0-1 plus the extends merge of phase 3: errors inside an extended file point into that file.
  const loaded = loadWithExtends(file, { host, parseFile: (p) => parseSpecFile(p, host), presetsDir: opts.presetsDir ?? presetsDir() }, bag);
  result.files = loaded.files;
  if (!loaded.tree || bag.hasErrors) return finish();
  let tree = loaded.tree;
  if (tree.kind !== 'map') {
    bag.add('MSA1006', tree.span, { actual: tree.kind === 'seq' ? 'a list' : `a ${tree.value === null ? 'null' : typeof tree.value}` });
    return finish();
  }
  if (until === 'parse') return finish();

  tree = interpolateTree(tree, env, bag);
  // Phase 2 on the merged spec.
  bag.push(...validateSchema(tree, 'pipeline'));
  if (bag.hasErrors) return finish();

  // Phase 3: defaults from the schemas, then defaults that depend on the dataset.
  const filled = fillDefaults(tree);
  tree = filled.tree;
  const defaulted = filled.defaulted;
  const spanOf = (path: SpecPath, o?: { key?: boolean }): Span => spanAt(tree, path, o);
  let spec = toValue(tree) as unknown as PipelineSpec;
  const dataset = resolveDataset(spec, tree, file, { host, datasetsDir: opts.datasetsDir ?? datasetsDir(), env, ...(opts.dataRoot ? { dataRoot: opts.dataRoot } : {}) }, bag, (p) => spanOf(p));
  tree = applySemanticDefaults(tree, spec, dataset, file, defaulted);
  spec = toValue(tree) as unknown as PipelineSpec;
  result.tree = tree;
  result.spec = spec;
  result.defaulted = defaulted;
  if (dataset) result.dataset = dataset;
  if (bag.hasErrors || until === 'schema') return finish();

  // Phase 4.
  const finalTree = tree;
  checkSpec({
    spec,
    tree: finalTree,
    dataset,
    spanOf: (path, o) => spanAt(finalTree, path, o),
    report: (code, span, args, extras) => {
      bag.add(code, span, args, extras);
    },
  });
  if (bag.hasErrors || until === 'check' || !dataset) return finish();

  // Phase 5.
  const ir = buildIr({ spec, dataset, file, spanOf: (path, o) => spanAt(finalTree, path, o), bag });
  if (ir && !hasErrors(bag.items)) result.ir = ir;
  return finish();
}

/** Sets `path` to `value` unless present; records the path as defaulted. */
function setDefault(tree: SpecNode, path: string[], value: JsonValue, defaulted: string[]): SpecNode {
  if (tree.kind !== 'map' || path.length === 0) return tree;
  const [head, ...rest] = path as [string, ...string[]];
  const e = getEntry(tree, head);
  const at: Span = { ...tree.span, end: tree.span.start };
  if (rest.length === 0) {
    if (e) return tree;
    defaulted.push(path.join('.'));
    return { ...tree, entries: [...tree.entries, { key: head, keySpan: at, value: fromValue(value, at) }] } satisfies SpecMap;
  }
  if (!e) return tree;
  return { ...tree, entries: tree.entries.map((x) => (x === e ? { ...x, value: setDefault(x.value, rest, value, defaulted) } : x)) } satisfies SpecMap;
}

function setDefaultAt(tree: SpecNode, prefix: string[], path: string[], value: JsonValue, defaulted: string[]): SpecNode {
  const before = defaulted.length;
  const out = setDefault(tree, [...prefix, ...path], value, defaulted);
  // Record the full dotted path (setDefault records the path it was given).
  if (defaulted.length > before) defaulted[defaulted.length - 1] = [...prefix, ...path].join('.');
  return out;
}

function applySemanticDefaults(tree: SpecNode, spec: PipelineSpec, dataset: ResolvedDataset | undefined, file: string, defaulted: string[]): SpecNode {
  let t = tree;
  if (!spec.name) {
    t = replaceScalar(t, ['name'], basename(file, extname(file)));
  }
  for (const [name, m] of Object.entries(spec.modalities)) {
    const feat = dataset?.features[m.feature];
    if (m.lengths === undefined) t = setDefaultAt(t, ['modalities', name], ['lengths'], feat?.lengths ?? null, defaulted);
    if (m.aligned === undefined && dataset) t = setDefaultAt(t, ['modalities', name], ['aligned'], m.align === 'avg_pool' ? true : dataset.aligned, defaulted);
    if (m.preprocess.neg_inf_to_zero === undefined) t = setDefaultAt(t, ['modalities', name, 'preprocess'], ['neg_inf_to_zero'], m.feature === 'audio', defaulted);
  }
  for (const [name, e] of Object.entries(spec.encoders)) {
    if ((e.type === 'lstm' || e.type === 'gru') && e.packed === undefined) {
      const mod = spec.modalities[e.modality ?? name];
      const lengths = mod ? (mod.lengths !== undefined ? mod.lengths : dataset?.features[mod.feature]?.lengths ?? null) : null;
      t = setDefaultAt(t, ['encoders', name], ['packed'], Boolean(lengths) && !mod?.preprocess.time_mean && mod?.align !== 'avg_pool', defaulted);
    }
  }
  if (spec.eval.metrics === undefined && dataset) t = setDefaultAt(t, ['eval'], ['metrics'], dataset.metrics as JsonValue, defaulted);
  if (spec.eval.head === undefined) {
    const first = Object.values(spec.tasks).find((x) => x.type !== 'ulgm') as { head?: string } | undefined;
    const head = first?.head ?? Object.keys(spec.heads)[0];
    if (head) t = setDefaultAt(t, ['eval'], ['head'], head, defaulted);
  }
  // Model selection follows early stopping unless the spec says otherwise.
  const es = spec.train.early_stop;
  if (defaulted.includes('train.select')) {
    t = replaceScalar(t, ['train', 'select', 'metric'], es.metric);
    t = replaceScalar(t, ['train', 'select', 'split'], es.split);
    t = replaceScalar(t, ['train', 'select', 'min_delta'], es.min_delta);
    if (es.mode) t = setDefaultAt(t, ['train', 'select'], ['mode'], es.mode, defaulted);
  }
  if (es.mode === undefined) t = setDefaultAt(t, ['train', 'early_stop'], ['mode'], defaultMode(es.metric), defaulted);
  const sel = toValue(t) as unknown as PipelineSpec;
  if (sel.train.select.mode === undefined) t = setDefaultAt(t, ['train', 'select'], ['mode'], defaultMode(sel.train.select.metric), defaulted);
  void getComponent;
  return t;
}

function replaceScalar(tree: SpecNode, path: string[], value: JsonValue): SpecNode {
  if (tree.kind !== 'map' || path.length === 0) return tree;
  const [head, ...rest] = path as [string, ...string[]];
  const e = getEntry(tree, head);
  if (!e) {
    const at: Span = { ...tree.span, end: tree.span.start };
    return rest.length === 0 ? { ...tree, entries: [...tree.entries, { key: head, keySpan: at, value: fromValue(value, at) }] } : tree;
  }
  const value2 = rest.length === 0 ? fromValue(value, e.value.span) : replaceScalar(e.value, rest, value);
  return { ...tree, entries: tree.entries.map((x) => (x === e ? { ...x, value: value2 } : x)) };
}
