// Resolves a spec's `dataset` (manifest name, manifest + file, synthetic, or custom pickle) to the dataset facts
// (features with shapes, splits, labels, metrics) every later phase uses. Phase 3 (normalize).

import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { homedir } from 'node:os';
import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { ResolvedDataset, ResolvedFeature } from '../ir/types.js';
import type { SourceFile, SourceHost, Span } from '../source/source-file.js';
import { validateSchema } from '../schema/validate-schema.js';
import { parseYaml } from '../syntax/yaml/parse-yaml.js';
import { interpolateTree, type Env } from './interpolate.js';
import { toValue, type SpecNode } from './spec-tree.js';
import { syntheticLayout, type LikeName, type SyntheticSettings } from './synthetic-layout.js';
import type { DatasetCustom, DatasetManifest, DatasetNamed, DatasetSynthetic, PipelineSpec } from './types.generated.js';

export interface DatasetOptions {
  host: SourceHost;
  datasetsDir: string;
  env: Env;
  /** --data-root */
  dataRoot?: string;
}

/** A dataset name: the `<name>` of pipelines/datasets/<name>.dataset.yaml, never a path. */
export const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export function isDatasetName(s: string): boolean {
  return DATASET_NAME.test(s);
}

/** Suffixes a dataset manifest file has (a spec's `dataset.manifest` must name one: it is parsed and echoed). */
export const MANIFEST_SUFFIXES = ['.dataset.yaml', '.dataset.yml'] as const;

export function isManifestPath(p: string): boolean {
  return MANIFEST_SUFFIXES.some((s) => p.endsWith(s) && p.length > s.length && !p.endsWith(`/${s}`));
}

export function knownDatasets(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.dataset.yaml'))
      .map((f) => basename(f, '.dataset.yaml'))
      .sort();
  } catch {
    return [];
  }
}

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? homedir() + p.slice(1) : p;
}

interface LoadedManifest {
  manifest: DatasetManifest;
  path: string;
}

const manifestCache = new Map<string, LoadedManifest | undefined>();

/** Loads and validates a dataset manifest; problems are reported into `bag` at the manifest's own spans. */
export function loadManifest(path: string, opts: DatasetOptions, bag: DiagnosticBag, at?: Span): LoadedManifest | undefined {
  if (manifestCache.has(path)) return manifestCache.get(path);
  let file: SourceFile;
  try {
    file = opts.host.load(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
    bag.add('MSA1004', at ?? { file: path, start: 0, end: 0 }, { path, reason });
    return undefined;
  }
  const parsed = parseYaml(file);
  bag.pushAll(parsed.diagnostics);
  let result: LoadedManifest | undefined;
  if (parsed.tree) {
    const ds = validateSchema(parsed.tree, 'dataset');
    bag.pushAll(ds);
    if (!ds.some((d) => d.severity === 'error')) result = { manifest: toValue(parsed.tree) as unknown as DatasetManifest, path };
  }
  // Only cache clean results: a broken manifest is reported once per compilation, from the cache-free path.
  if (result) manifestCache.set(path, result);
  return result;
}

function featuresOf(f: DatasetManifest['files'][string]): Record<string, ResolvedFeature> {
  const out: Record<string, ResolvedFeature> = {};
  for (const [name, d] of Object.entries(f.features)) {
    const feat: ResolvedFeature = { key: d.key, shape: d.shape ?? [], dtype: d.dtype ?? 'float' };
    if (d.lengths) feat.lengths = d.lengths;
    out[name] = feat;
  }
  return out;
}

export function resolveDataset(spec: PipelineSpec, tree: SpecNode, specFile: string, opts: DatasetOptions, bag: DiagnosticBag, spanOf: (p: (string | number)[]) => Span): ResolvedDataset | undefined {
  void tree;
  const d = spec.dataset;
  const span = spanOf(['dataset']);
  if (typeof d === 'string') return fromManifest({ name: d }, span, spanOf, specFile, opts, bag, true);
  if ('type' in d && (d as DatasetSynthetic).type === 'synthetic') return fromSynthetic(d as DatasetSynthetic, span);
  if ('path' in d) return fromCustom(d as DatasetCustom, span, specFile, opts, bag, spanOf);
  return fromManifest(d as DatasetNamed, span, spanOf, specFile, opts, bag, false);
}

/**
 * The directory holding a named dataset's folders. A relative `dataset.root` is relative to the spec file that wrote it
 * (as a custom dataset's `path` is), so a spec finds its data from any working directory and through `extends`;
 * `--data-root` and MMSA_DATA_ROOT, given on a command line or in the shell, are relative to the working directory.
 */
function rootFor(named: { root?: string } | undefined, manifestRoot: string | undefined, opts: DatasetOptions, writtenIn: string): string {
  if (named?.root !== undefined) {
    const root = expandHome(named.root);
    return isAbsolute(root) ? resolve(root) : resolve(dirname(writtenIn), root);
  }
  const raw = opts.dataRoot ?? opts.env['MMSA_DATA_ROOT'] ?? manifestRoot ?? '~/MMSA-Standard';
  return resolve(expandHome(raw));
}

/** Dataset facts of one feature file of a manifest (shared by named and custom-with-manifest datasets). */
function fromManifestFile(m: DatasetManifest, fileName: string, manifestPath: string, span: Span): ResolvedDataset {
  const f = m.files[fileName]!;
  const out: ResolvedDataset = {
    name: m.name,
    source: 'manifest',
    sha256: f.sha256 ?? null,
    aligned: f.aligned,
    splits: { ...f.splits },
    features: featuresOf(f),
    labels: { ...f.labels },
    task: m.task,
    metrics: m.metrics,
    manifestPath,
    span,
  };
  if (m.num_classes !== undefined) out.numClasses = m.num_classes;
  if (m.label_range) out.labelRange = [m.label_range[0]!, m.label_range[1]!];
  if (m.language) out.language = m.language;
  if (m.pretrained) out.pretrained = m.pretrained;
  if (m.source) out.sourceHint = m.source;
  return out;
}

function fromManifest(named: DatasetNamed, span: Span, spanOf: (p: (string | number)[]) => Span, specFile: string, opts: DatasetOptions, bag: DiagnosticBag, short: boolean): ResolvedDataset | undefined {
  const nameSpan = short ? span : spanOf(['dataset', 'name']);
  // A name picks a manifest from the datasets folder; a path here would read any file.
  if (!isDatasetName(named.name)) {
    bag.add('MSA2110', nameSpan, { name: named.name });
    return undefined;
  }
  const path = resolve(opts.datasetsDir, `${named.name}.dataset.yaml`);
  if (!existsSync(path)) {
    bag.add('MSA2105', nameSpan, { name: named.name, known: knownDatasets(opts.datasetsDir).join(', ') });
    return undefined;
  }
  const loaded = loadManifest(path, opts, bag);
  if (!loaded) return undefined;
  const m = loaded.manifest;
  const fileName = named.file ?? m.default_file;
  const f = m.files[fileName];
  if (!f) {
    bag.add('MSA2107', short ? span : spanOf(['dataset', 'file']), { dataset: m.name, file: fileName, available: Object.keys(m.files).join(', ') });
    return undefined;
  }
  // The manifest's own root may use ${ENV:-default}.
  let manifestRoot = m.root;
  if (manifestRoot) {
    const t = interpolateTree({ kind: 'scalar', span, value: manifestRoot }, opts.env, bag);
    manifestRoot = t.kind === 'scalar' && typeof t.value === 'string' ? t.value : manifestRoot;
  }
  return {
    ...fromManifestFile(m, fileName, loaded.path, span),
    source: 'manifest',
    file: fileName,
    root: rootFor(named, manifestRoot, opts, (named.root !== undefined && spanOf(['dataset', 'root']).file) || specFile),
    path: f.path,
  };
}

/** Dataset facts of the built-in synthetic data (also used by tests that build datasets without a spec). */
export function fromSynthetic(d: DatasetSynthetic | SyntheticSettings, span: Span): ResolvedDataset {
  const layout = syntheticLayout({
    like: d.like as LikeName,
    aligned: d.aligned,
    n_train: d.n_train,
    n_valid: d.n_valid,
    n_test: d.n_test,
    seed: d.seed,
    noise: d.noise,
    ...(d.seq_lens ? { seq_lens: d.seq_lens } : {}),
    ...(d.dims ? { dims: d.dims } : {}),
  });
  return {
    name: `synthetic-${d.like}`,
    source: 'synthetic',
    aligned: d.aligned,
    splits: { train: d.n_train, valid: d.n_valid, test: d.n_test },
    features: layout.features,
    labels: layout.labels,
    task: layout.facts.task,
    ...(layout.facts.numClasses ? { numClasses: layout.facts.numClasses } : {}),
    labelRange: layout.facts.labelRange,
    metrics: layout.facts.metrics,
    language: layout.facts.language,
    synthetic: { type: 'synthetic', ...d },
    span,
  };
}

function fromCustom(d: DatasetCustom, span: Span, specFile: string, opts: DatasetOptions, bag: DiagnosticBag, spanOf: (p: (string | number)[]) => Span): ResolvedDataset | undefined {
  // A relative path is relative to the file that wrote it (a spec this one extends may sit in another directory),
  // as BERT's `pretrained` is; specFile only when the span has no file (a spec compiled from a value).
  const dirOf = (key: string): string => dirname(spanOf(['dataset', key]).file || specFile);
  const path = isAbsolute(expandHome(d.path)) ? expandHome(d.path) : resolve(dirOf('path'), d.path);
  if (d.manifest) {
    // Only a manifest file is read (and echoed in errors): never /etc/passwd or another arbitrary file.
    if (!isManifestPath(d.manifest)) {
      bag.add('MSA2111', spanOf(['dataset', 'manifest']), { path: d.manifest });
      return undefined;
    }
    const mpath = resolve(dirOf('manifest'), d.manifest);
    if (!existsSync(mpath)) {
      bag.add('MSA1004', span, { path: d.manifest, reason: 'no such file' });
      return undefined;
    }
    const loaded = loadManifest(mpath, opts, bag, span);
    if (!loaded) return undefined;
    const m = loaded.manifest;
    if (!m.files[m.default_file]) {
      bag.add('MSA2107', span, { dataset: m.name, file: m.default_file, available: Object.keys(m.files).join(', ') });
      return undefined;
    }
    return { ...fromManifestFile(m, m.default_file, mpath, span), name: d.name ?? m.name, source: 'custom', path };
  }
  const features: Record<string, ResolvedFeature> = {};
  for (const [name, f] of Object.entries(d.features ?? {})) {
    features[name] = { key: f.key, shape: f.shape ?? [], dtype: f.dtype ?? 'float', ...(f.lengths ? { lengths: f.lengths } : {}) };
  }
  const out: ResolvedDataset = {
    name: d.name ?? basename(path).replace(/\.[^.]*$/, ''),
    source: 'custom',
    path,
    aligned: d.aligned,
    // Split sizes of a custom file are only known once it is read; 0 means "from the file".
    splits: { train: 0, valid: 0, test: 0 },
    features,
    labels: d.labels ?? { M: 'regression_labels' },
    task: d.task,
    metrics: d.metrics ?? (d.task === 'classification' ? 'classification' : 'regression'),
    span,
  };
  if (d.num_classes !== undefined) out.numClasses = d.num_classes;
  if (d.label_range) out.labelRange = [d.label_range[0]!, d.label_range[1]!];
  if (d.language) out.language = d.language;
  return out;
}
