// The compiler driver: runs phases 0-5 on a spec file (load, parse, extends/normalize, schema, check, ir) and
// collects every diagnostic. `mmsa check`, `plan`, `compile` and `run` all start here.

import { resolve } from 'node:path';
import { datasetsDir, presetsDir } from '../paths.js';
import { checkSpec } from './check/check-spec.js';
import { capDiagnostics, DiagnosticBag, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics/diagnostic.js';
import { buildIr } from './ir/build-ir.js';
import type { Ir, ResolvedDataset } from './ir/types.js';
import { validateSchema } from './schema/validate-schema.js';
import { SourceHost, type Span } from './source/source-file.js';
import { loadWithExtends } from './spec/extends.js';
import { fillDefaults } from './spec/fill-defaults.js';
import { interpolateTree, type Env } from './spec/interpolate.js';
import { applyOverrides } from './spec/overrides.js';
import { resolveDataset } from './spec/resolve-dataset.js';
import { applySemanticDefaults } from './spec/normalize-spec.js';
import { spanAt, toValue, type SpecNode, type SpecPath } from './spec/spec-tree.js';
import type { PipelineSpec } from './spec/types.generated.js';
import { DslFrontEndNotLoaded, loadDslFrontEnd, parseSpecFile } from './syntax/parse-file.js';
import { mergeTunePreset } from '../tune/tune-preset.js';

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
  /** A tuning preset to merge under `tune:` (`mmsa tune --preset mmsa`). */
  tunePreset?: string;
  /** Changes the merged tree before interpolation and schema (a tuning trial's settings). */
  transform?: (tree: SpecNode, bag: DiagnosticBag) => SpecNode;
  /**
   * `--set KEY=VALUE` overrides (`train.batch_size=32`), merged over the spec after `extends`; checked like the spec,
   * with locations in a "command line" source. Check their shape first with parseOverride (a malformed one throws).
   */
  set?: readonly string[];
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

export function compileFile(file0: string, opts: CompileOptions = {}): CompileResult {
  // Absolute from the start, so extends cycles and error locations name each file once.
  const file = resolve(file0);
  const host = opts.host ?? new SourceHost();
  const env = opts.env ?? process.env;
  const bag = new DiagnosticBag();
  const until = opts.until ?? 'ir';
  const result: CompileResult = { file, host, diagnostics: [], files: [] };
  const finish = () => {
    result.diagnostics = capDiagnostics(sortDiagnostics(bag.items));
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

  const presets = opts.presetsDir ?? presetsDir();
  tree = mergeTunePreset(tree, { files: loaded.files, presetsDir: presets, parseFile: (p) => parseSpecFile(p, host), ...(opts.tunePreset ? { preset: opts.tunePreset } : {}) }, bag);
  tree = applyOverrides(tree, opts.set ?? [], host, bag);
  // A trial's settings come last: they win over the spec, its presets and --set.
  if (opts.transform) tree = opts.transform(tree, bag);
  if (bag.hasErrors) return finish();
  tree = interpolateTree(tree, env, bag);
  // Phase 2 on the merged spec.
  bag.pushAll(validateSchema(tree, 'pipeline'));
  if (bag.hasErrors) return finish();

  // Phase 3: defaults from the schemas, then defaults that depend on the dataset.
  const filled = fillDefaults(tree);
  tree = filled.tree;
  const defaulted = filled.defaulted;
  const spanOf = (path: SpecPath, o?: { key?: boolean }): Span => spanAt(tree, path, o);
  let spec = toValue(tree) as unknown as PipelineSpec;
  const dataset = resolveDataset(spec, tree, file, { host, datasetsDir: opts.datasetsDir ?? datasetsDir(), env, ...(opts.dataRoot ? { dataRoot: opts.dataRoot } : {}) }, bag, (p) => spanOf(p));
  tree = applySemanticDefaults(tree, dataset, file, defaulted);
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


/**
 * compileFile for callers that can wait: loads the .mmsa front end first when the file, or anything it extends, is
 * .mmsa (the CLI uses this, so YAML specs never pay for the DSL parser).
 */
export async function compileFileAsync(file: string, opts: CompileOptions = {}): Promise<CompileResult> {
  try {
    return compileFile(file, opts);
  } catch (e) {
    if (!(e instanceof DslFrontEndNotLoaded)) throw e;
  }
  await loadDslFrontEnd();
  return compileFile(file, opts);
}
