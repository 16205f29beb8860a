// Loads a pipeline's dataset (manifest file, custom pickle or built-in synthetic data) into preprocessed splits:
// reads only the keys the pipeline needs, checks shapes and split sizes, applies MMSA's preprocessing. Phase 7 (execute).

import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { MmsaError } from '../../errors.js';
import { getComponent } from '../../components/catalog.js';
import type { Ir, IrNode, ResolvedDataset, ResolvedFeature } from '../../compiler/ir/types.js';
import type { Modality } from '../../compiler/spec/types.generated.js';
import { firstNonFinite, lengthProblem, listStructureProblem, nonFiniteName, unravel } from './check-data.js';
import { NDArray, Skipped, readPickle, type PyValue } from './pickle/read-pickle.js';
import { dropFrames, dropTokens, type MissingResult } from './missing.js';
import { avgPoolAlign, fitSeqLen, negInfToZero, prepareLengths, timeMean, toTokens } from './preprocess.js';
import { applyStandard, featureMoments, standardStats, type StandardStats } from './standardize.js';
import { generateSyntheticSplits } from './synthetic.js';
import { readWithReuse } from './file-reuse.js';
import { toTextBert } from '../tokenizer/wordpiece.js';
import type { ArrayData, LoadedDataset, SplitData, SplitName } from './types.js';

export const SPLITS: readonly SplitName[] = ['train', 'valid', 'test'];

export interface LoadDatasetOptions {
  /** Reading progress of the feature file (bytes). */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Overrides the data root the compiler resolved (manifest datasets only). */
  dataRoot?: string;
  /**
   * Loading new data to predict on: only this split must exist, and labels are read when present (unlabelled data
   * is fine). The other splits come back empty.
   */
  predictSplit?: SplitName;
  /**
   * Training-split statistics of the modalities with `normalize: standard` (from the run manifest): used instead of
   * computing them from this file's train split, which new data may not have.
   */
  normalization?: Record<string, StandardStats>;
}

/** A split as read from a file (or generated): file key -> value. */
export type RawSplit = Map<PyValue, PyValue>;

/** One modality to load: the IR input node plus what the loader needs from the dataset facts. */
interface ModalityPlan {
  name: string;
  node: IrNode;
  cfg: Modality;
  feature: ResolvedFeature;
  /** Key of the per-sample lengths in the file, if any. */
  lengthsKey: string | undefined;
}

interface LoadContext {
  file: string;
  ds: ResolvedDataset;
  /** `normalize: standard` statistics per modality: given, or computed from the train split when it is read. */
  norm: Record<string, StandardStats>;
}

function modalityPlans(ir: Ir): ModalityPlan[] {
  const ds = ir.dataset;
  const plans: ModalityPlan[] = [];
  for (const node of ir.nodes) {
    if (node.kind !== 'input') continue;
    const cfg = normalizeModality(node);
    const feature = ds.features[node.type];
    if (!feature) throw new MmsaError('MSA6023', `modality '${node.name}' reads feature '${node.type}', which dataset '${ds.name}' does not declare`, { hint: `declared features: ${Object.keys(ds.features).join(', ')}`, details: { modality: node.name, feature: node.type } });
    // `lengths: null` in the spec means "no lengths"; absent means the dataset's own for the feature.
    const l = cfg.lengths === undefined ? feature.lengths : cfg.lengths ?? undefined;
    const lengthsKey = l === undefined ? undefined : ds.features[l]?.key ?? l;
    plans.push({ name: node.name, node, cfg, feature, lengthsKey });
  }
  return plans;
}

function normalizeModality(node: IrNode): Modality {
  const c = node.config as Partial<Modality>;
  const p = (c.preprocess ?? {}) as Partial<Modality['preprocess']>;
  const m: Modality = {
    feature: c.feature ?? node.type,
    align: c.align ?? 'none',
    preprocess: {
      neg_inf_to_zero: p.neg_inf_to_zero ?? node.type === 'audio',
      time_mean: p.time_mean ?? false,
      seq_len: p.seq_len ?? null,
      clamp_lengths: p.clamp_lengths ?? true,
      normalize: p.normalize ?? 'none',
    },
  };
  if (c.lengths !== undefined) m.lengths = c.lengths;
  if (c.aligned !== undefined) m.aligned = c.aligned;
  if (c.missing) m.missing = { rate: c.missing.rate, seed: c.missing.seed, output: c.missing.output ?? 'masked' };
  return m;
}

function isTokens(f: ResolvedFeature, node: IrNode): boolean {
  return node.output.kind === 'tokens' || (f.dtype === 'int' && f.shape.length === 2 && f.shape[0] === 3);
}

/** Every key of the file the pipeline reads: features, their lengths, labels, ids and raw text. */
export function neededKeys(ir: Ir): string[] {
  const ds = ir.dataset;
  const keys = new Set<string>();
  for (const p of modalityPlans(ir)) {
    keys.add(p.feature.key);
    if (p.lengthsKey) keys.add(p.lengthsKey);
  }
  for (const k of Object.values(ds.labels)) keys.add(k);
  keys.add(ds.features['id']?.key ?? 'id');
  keys.add(ds.features['raw_text']?.key ?? 'raw_text');
  return [...keys];
}

/** Where a manifest/custom dataset's file is expected. */
export function datasetFilePath(ds: ResolvedDataset, dataRoot?: string): string {
  if (!ds.path) throw new MmsaError('MSA6020', `dataset '${ds.name}' has no file path`, { details: { dataset: ds.name } });
  if (ds.source === 'manifest' && !isAbsolute(ds.path)) return resolve(dataRoot ?? ds.root ?? '.', ds.path);
  return resolve(ds.path);
}

function missingFileError(ds: ResolvedDataset, file: string, dataRootOverride: string | undefined): MmsaError {
  const what = ds.source === 'manifest' ? `dataset '${ds.name}'${ds.file ? ` (${ds.file})` : ''}` : `custom dataset '${ds.name}'`;
  const hints: string[] = [];
  if (ds.source === 'manifest') {
    const root = dataRootOverride ?? ds.root ?? '';
    hints.push(`the file is expected at <data root>/${ds.path} with data root ${root}; point --data-root DIR or MMSA_DATA_ROOT (or dataset.root in the spec) at the directory that holds ${ds.path}`);
  } else {
    hints.push('check dataset.path in the spec (relative paths are relative to the spec file)');
  }
  if (ds.sourceHint) hints.push(`get it from: ${ds.sourceHint.trim()}`);
  return new MmsaError('MSA6020', `${what}: feature file not found: ${file}`, { hint: hints.join('\n  help: '), details: { file, dataset: ds.name, root: dataRootOverride ?? ds.root, path: ds.path, source: ds.sourceHint } });
}

/**
 * Loads the dataset of a compiled pipeline. Manifest/custom data: the pickle at `resolve(root, path)` (or the custom
 * path), reading only the keys the pipeline needs; synthetic data: generated in memory, deterministic per seed.
 * Errors are MmsaError MSA6020-MSA6029 naming the file, split, key, expected and found.
 */
export async function loadDataset(ir: Ir, opts: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  const ds = ir.dataset;
  const plans = modalityPlans(ir);
  const keys = neededKeys(ir);
  if (ds.source === 'synthetic') {
    const raw = generateSyntheticSplits(ds, new Set(keys));
    const ctx: LoadContext = { file: `<synthetic ${ds.name}>`, ds, norm: { ...(opts.normalization ?? {}) } };
    const out = buildDataset(ir, plans, raw, ctx);
    return { ...out, provenance: { source: 'synthetic', synthetic: { ...(ds.synthetic ?? {}) }, ...normalizationOf(ctx) } };
  }
  const file = datasetFilePath(ds, opts.dataRoot);
  if (!existsSync(file)) throw missingFileError(ds, file, opts.dataRoot);
  const top = await readWithReuse(file, keys, () => readPickle(file, { keys, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) }));
  const ctx: LoadContext = { file, ds, norm: { ...(opts.normalization ?? {}) } };
  const raw = splitsOf(top, file, opts.predictSplit);
  await tokenizeMissingTokens(ir, plans, raw);
  const out = buildDataset(ir, plans, raw, ctx, opts.predictSplit);
  return { ...out, provenance: { source: ds.source, path: file, ...normalizationOf(ctx) } };
}

function normalizationOf(ctx: LoadContext): { normalization?: Record<string, StandardStats> } {
  return Object.keys(ctx.norm).length > 0 ? { normalization: ctx.norm } : {};
}

/**
 * A file with raw text but no `text_bert` rows (e.g. new data to predict on) is tokenised with the BERT encoder's own
 * tokenizer into the reference's rows (ids, mask, segments), padded to the compiled length.
 */
async function tokenizeMissingTokens(ir: Ir, plans: ModalityPlan[], raw: Record<SplitName, RawSplit>): Promise<void> {
  const rawTextKey = ir.dataset.features['raw_text']?.key ?? 'raw_text';
  for (const p of plans) {
    if (!isTokens(p.feature, p.node)) continue;
    // The encoder reading these token ids names the model whose tokenizer makes them.
    const pretrained = ir.nodes
      .filter((n) => n.kind === 'encoder' && n.inputs.includes(p.node.id))
      .map((n) => getComponent('encoder', n.type)?.tokenizer?.(n.config))
      .find((t) => t !== undefined);
    const lacking = SPLITS.filter((sp) => !raw[sp].has(p.feature.key) && raw[sp].has(rawTextKey));
    if (pretrained === undefined || lacking.length === 0) continue;
    const { loadBertTokenizer } = await import('../bert/tokenize.js');
    const tokenizer = await loadBertTokenizer(pretrained.model, pretrained.revision ? { revision: pretrained.revision } : {});
    const len = p.node.output.shape[2] as number;
    for (const sp of lacking) {
      const texts = toStrings(raw[sp].get(rawTextKey)!);
      if (typeof texts === 'string') continue; // reported as a missing/mistyped key when the split is read
      const rows = tokenizer.encodeBatch(texts, len);
      const { data, shape } = toTextBert(rows);
      raw[sp].set(p.feature.key, new NDArray('float32', '<f4', shape, data));
    }
  }
}

/** The train/valid/test dicts of an MMSA feature file. */
export function splitsOf(top: PyValue, file: string, only?: SplitName): Record<SplitName, RawSplit> {
  if (!(top instanceof Map)) {
    throw new MmsaError('MSA6022', `${file}: not an MMSA feature file: the pickle holds ${describe(top)}, expected a dict {train, valid, test}`, { hint: 'feature files are dicts of splits, each a dict of arrays (as MMSA\'s data_loader.py reads them)', details: { file } });
  }
  const out: Partial<Record<SplitName, RawSplit>> = {};
  for (const s of SPLITS) {
    const v = top.get(s);
    if (v === undefined && only !== undefined && s !== only) {
      out[s] = new Map();
      continue;
    }
    if (v === undefined) {
      const found = [...top.keys()].map((k) => String(k)).join(', ');
      throw new MmsaError('MSA6022', `${file}: split '${s}' is missing (found keys: ${found || 'none'})`, { hint: 'an MMSA feature file has the splits train, valid and test', details: { file, split: s } });
    }
    if (!(v instanceof Map)) throw new MmsaError('MSA6022', `${file}: split '${s}' is ${describe(v)}, expected a dict of arrays`, { details: { file, split: s } });
    out[s] = v;
  }
  return out as Record<SplitName, RawSplit>;
}

function describe(v: PyValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (v instanceof NDArray) return `an array ${v.dtype} [${v.shape.join(', ')}]`;
  if (v instanceof Map) return 'a dict';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v instanceof Skipped) return `a skipped ${v.kind}`;
  return `a ${typeof v}`;
}

function buildDataset(ir: Ir, plans: ModalityPlan[], raw: Record<SplitName, RawSplit>, ctx: LoadContext, only?: SplitName): Omit<LoadedDataset, 'provenance'> {
  const required = new Set(only ? [] : ir.tasks.flatMap((t) => t.targets));
  // Split sizes of the compiled dataset do not bind new data.
  const c: LoadContext = only ? { ...ctx, ds: { ...ctx.ds, splits: { train: 0, valid: 0, test: 0 } } } : ctx;
  const splits = {} as Record<SplitName, SplitData>;
  for (const s of SPLITS) {
    splits[s] = only && s !== only ? { name: s, n: 0, ids: [], features: {}, lengths: {}, labels: {} } : buildSplit(s, raw[s], plans, required, c);
  }
  return { name: ctx.ds.name, ...splits };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading values

interface Numeric {
  data: Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
  shape: number[];
  dtype: string;
}

class SplitReader {
  /** Number of samples, fixed by the first array read (or the manifest). */
  n: number | undefined;
  nFrom: string | undefined;

  constructor(
    readonly split: SplitName,
    readonly raw: RawSplit,
    readonly ctx: LoadContext,
  ) {
    const declared = ctx.ds.splits[split];
    if (declared > 0) {
      this.n = declared;
      this.nFrom = ctx.ds.source === 'manifest' ? 'the manifest' : 'the dataset';
    }
  }

  has(key: string): boolean {
    return this.raw.has(key);
  }

  private where(key: string): string {
    return `${this.ctx.file}: split '${this.split}', key '${key}'`;
  }

  get(key: string, purpose: string): PyValue {
    const v = this.raw.get(key);
    if (v === undefined) {
      const found = [...this.raw.keys()].map(String).sort().join(', ');
      throw new MmsaError('MSA6023', `${this.ctx.file}: split '${this.split}' has no key '${key}' (needed for ${purpose}); found: ${found}`, {
        hint: 'map the dataset feature/label to the key the file uses (dataset.features / dataset.labels in the spec or the manifest)',
        details: { file: this.ctx.file, split: this.split, key, found: found.split(', ') },
      });
    }
    return v;
  }

  mismatch(key: string, expected: string, found: string, hint?: string): MmsaError {
    return new MmsaError('MSA6021', `${this.where(key)}: shape mismatch: expected ${expected}, found ${found}`, {
      hint: hint ?? 'fix the shape in the dataset manifest / spec, or use the file the manifest describes',
      details: { file: this.ctx.file, split: this.split, key, expected, found },
    });
  }

  /** Checks the sample count (first axis) against the manifest and the other keys of the split. */
  checkN(key: string, n: number): void {
    if (this.n === undefined) {
      this.n = n;
      this.nFrom = `key '${key}'`;
      return;
    }
    if (n !== this.n) {
      throw new MmsaError('MSA6021', `${this.where(key)}: split size mismatch: expected ${this.n} samples (from ${this.nFrom}), found ${n}`, {
        hint: this.nFrom === 'the manifest' ? "the file does not match the manifest's split sizes: check the file (mmsa data verify) or fix the manifest" : 'every array of a split must have one entry per sample',
        details: { file: this.ctx.file, split: this.split, key, expected: String(this.n), found: String(n) },
      });
    }
  }

  /** How a sample is named in messages: its index, and its id when the split has ids. */
  sampleName(i: number): string {
    const idKey = this.ctx.ds.features['id']?.key ?? 'id';
    const ids = this.raw.has(idKey) ? toStrings(this.raw.get(idKey)!) : undefined;
    const id = Array.isArray(ids) ? ids[i] : undefined;
    return id === undefined ? `sample ${i}` : `sample ${i} (id ${JSON.stringify(id)})`;
  }

  /**
   * Fails when `data` ([N, ...dims]) holds NaN or +-inf: data like that trains to a NaN loss and reports numbers
   * that mean nothing. `stage` says where the values were checked (after MMSA's own cleaning).
   */
  checkFinite(key: string, purpose: string, data: ArrayLike<number>, dims: readonly number[], stage: string, hint: string): void {
    const at = firstNonFinite(data);
    if (at < 0) return;
    let count = 0;
    for (let i = at; i < data.length; i++) if (data[i]! - data[i]! !== 0) count++;
    this.failNonFinite(key, purpose, data[at]!, at, dims, stage, hint, count);
  }

  /** The MSA6025 error for the non-finite `value` at flat index `at` of an [N, ...dims] array. */
  failNonFinite(key: string, purpose: string, value: number, at: number, dims: readonly number[], stage: string, hint: string, count: number): never {
    const per = dims.reduce((a, b) => a * b, 1);
    const sample = per > 0 ? Math.floor(at / per) : at;
    const pos = unravel(at - sample * per, dims);
    const what = nonFiniteName(value);
    const where = pos.length > 0 ? ` at [${pos.join(', ')}]` : '';
    throw new MmsaError('MSA6025', `${this.where(key)}: ${purpose} holds ${what} in ${this.sampleName(sample)}${where}${stage} (${count} non-finite value${count === 1 ? '' : 's'} in all)`, {
      hint,
      details: { file: this.ctx.file, split: this.split, key, sample, index: at, position: pos, value: what, count },
    });
  }

  numeric(key: string, purpose: string): Numeric {
    const v = this.get(key, purpose);
    const r = toNumeric(v);
    if (typeof r === 'string') {
      throw new MmsaError('MSA6024', `${this.where(key)}: expected a numeric array for ${purpose}, found ${r}`, { details: { file: this.ctx.file, split: this.split, key, found: r } });
    }
    if (r.shape.length === 0) throw this.mismatch(key, '[N, ...]', 'a scalar');
    this.checkN(key, r.shape[0]!);
    return r;
  }

  strings(key: string, purpose: string): string[] {
    const v = this.get(key, purpose);
    const r = toStrings(v);
    if (typeof r === 'string') throw new MmsaError('MSA6024', `${this.where(key)}: expected a list of strings for ${purpose}, found ${r}`, { details: { file: this.ctx.file, split: this.split, key, found: r } });
    this.checkN(key, r.length);
    return r;
  }
}

function fmtShape(s: readonly (number | string)[]): string {
  return `[${s.join(', ')}]`;
}

/**
 * Numeric view of an unpickled value: numpy arrays, (nested) lists of numbers, lists of equal-shaped arrays. Lists
 * that contain themselves, nest too deep or expand far beyond what they store are described, not converted.
 */
export function toNumeric(v: PyValue): Numeric | string {
  if (Array.isArray(v)) {
    const problem = listStructureProblem(v);
    if (problem !== undefined) return problem;
  }
  return numericOf(v);
}

function numericOf(v: PyValue): Numeric | string {
  if (v instanceof NDArray) {
    const d = v.data;
    if (Array.isArray(d)) return `a ${v.dtype} array of strings`;
    if (d instanceof BigInt64Array || d instanceof BigUint64Array) return { data: Float64Array.from(d, (x) => Number(x)), shape: [...v.shape], dtype: v.dtype };
    return { data: d, shape: [...v.shape], dtype: v.dtype };
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return { data: new Float64Array(0), shape: [0], dtype: 'list' };
    const first = v[0];
    if (typeof first === 'number' || typeof first === 'bigint' || typeof first === 'boolean') {
      const out = new Float64Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x === 'number') out[i] = x;
        else if (typeof x === 'bigint' || typeof x === 'boolean') out[i] = Number(x);
        else return `a list mixing numbers and ${describe(x)}`;
      }
      return { data: out, shape: [v.length], dtype: 'list' };
    }
    // A list of per-sample arrays / lists: stack them when they all have the same shape.
    const parts: Numeric[] = [];
    for (const x of v) {
      const p = numericOf(x as PyValue);
      if (typeof p === 'string') return `a list of ${p}`;
      parts.push(p);
    }
    const inner = parts[0]!.shape;
    for (const p of parts) if (fmtShape(p.shape) !== fmtShape(inner)) return `a list of arrays with different shapes (${fmtShape(inner)} and ${fmtShape(p.shape)})`;
    const size = inner.reduce((a, b) => a * b, 1);
    const out = new Float64Array(parts.length * size);
    parts.forEach((p, i) => out.set(p.data, i * size));
    return { data: out, shape: [parts.length, ...inner], dtype: `list of ${parts[0]!.dtype}` };
  }
  if (typeof v === 'number') return { data: Float64Array.of(v), shape: [], dtype: 'scalar' };
  return describe(v);
}

const utf8 = new TextDecoder('utf-8');

export function toStrings(v: PyValue): string[] | string {
  let items: unknown[];
  if (v instanceof NDArray) {
    if (!Array.isArray(v.data)) return `a ${v.dtype} array ${fmtShape(v.shape)}`;
    items = v.data;
  } else if (Array.isArray(v)) items = v;
  else return describe(v);
  const out: string[] = [];
  for (const x of items) {
    if (typeof x === 'string') out.push(x);
    else if (x instanceof Uint8Array) out.push(utf8.decode(x));
    else if (typeof x === 'number' || typeof x === 'bigint') out.push(String(x));
    else if (x === null) out.push('');
    else return `a list holding ${describe(x as PyValue)}`;
  }
  return out;
}

/** A float32 copy when the values will be rescaled in place: two modalities may read the same array of the file. */
function ownFloat32(d: Numeric['data'], rescaled: boolean): Float32Array {
  const f = asFloat32(d);
  return rescaled && f === d ? f.slice() : f;
}

function asFloat32(d: Numeric['data']): Float32Array {
  // The reader hands out fresh arrays, so converting in place later (-inf -> 0) never touches shared memory.
  return d instanceof Float32Array ? d : Float32Array.from(d);
}

// ---------------------------------------------------------------------------------------------------------------
// Per-split assembly

function buildSplit(split: SplitName, raw: RawSplit, plans: ModalityPlan[], requiredLabels: Set<string>, ctx: LoadContext): SplitData {
  const r = new SplitReader(split, raw, ctx);
  const ds = ctx.ds;

  const labels: Record<string, Float32Array> = {};
  for (const [name, key] of Object.entries(ds.labels)) {
    // Labels no task reads (e.g. SIMS's T/A/V in a custom file without them) are loaded only when present.
    if (!r.has(key) && !requiredLabels.has(name)) continue;
    const a = r.numeric(key, `label '${name}'`);
    const n = a.shape[0]!;
    if (a.data.length !== n) throw r.mismatch(key, `[${n}] (one label per sample)`, fmtShape(a.shape));
    const l = asFloat32(a.data);
    r.checkFinite(key, `label '${name}'`, l, [], '', 'every label must be a finite number: fix or drop these samples in the file');
    labels[name] = l;
  }

  const features: Record<string, ArrayData> = {};
  const lengths: Record<string, Int32Array> = {};
  for (const p of plans) {
    const out = loadModality(r, p);
    features[p.name] = out.feature;
    if (out.lengths) lengths[p.name] = out.lengths;
  }

  const idKey = ds.features['id']?.key ?? 'id';
  const textKey = ds.features['raw_text']?.key ?? 'raw_text';
  let ids: string[];
  if (r.has(idKey)) ids = r.strings(idKey, 'sample ids');
  else {
    const n = r.n ?? 0;
    ids = Array.from({ length: n }, (_, i) => `${split}$_$${i}`);
  }
  const out: SplitData = { name: split, n: r.n ?? ids.length, ids, features, lengths, labels };
  if (out.n === 0) {
    throw new MmsaError('MSA6027', `${ctx.file}: split '${split}' has no samples`, {
      hint: 'training needs samples in train, valid and test: a run on an empty split would report metrics of nothing; fill the split or fix the file',
      details: { file: ctx.file, split },
    });
  }
  if (r.has(textKey)) out.rawText = r.strings(textKey, 'raw text');
  return out;
}

function loadModality(r: SplitReader, p: ModalityPlan): { feature: ArrayData; lengths?: Int32Array } {
  const { feature: f, cfg, node } = p;
  const key = f.key;
  const a = r.numeric(key, `modality '${p.name}'`);
  const n = a.shape[0]!;
  const found = a.shape.slice(1);
  const expected = f.shape;
  const pre = cfg.preprocess;

  if (isTokens(f, node)) {
    if (found.length !== 2 || found[0] !== 3 || (expected.length === 2 && found[1] !== expected[1])) {
      throw r.mismatch(key, fmtShape(['N', ...(expected.length ? expected : [3, 'L'])]), fmtShape(a.shape), 'BERT tokens are [N, 3, L] (ids, mask, segments); fix the manifest / spec shape');
    }
    const shape = [n, 3, found[1]!];
    checkOutput(r, p, cfg.missing && cfg.missing.output !== 'masked' ? [n, found[1]!] : shape);
    r.checkFinite(key, `modality '${p.name}'`, a.data, [3, found[1]!], '', 'BERT token rows (ids, mask, segments) must be whole numbers: the file is corrupt');
    const tokens = toTokens(a.data);
    if (cfg.missing) {
      const L = found[1]!;
      const out = dropTokens(tokens, n, L, cfg.missing.rate, cfg.missing.seed);
      return { feature: missingOutput(cfg.missing.output, out, [n, 3, L], [n, L]) };
    }
    return { feature: { data: tokens, shape } };
  }

  if (expected.length > 0 && found.length !== expected.length) throw r.mismatch(key, fmtShape(['N', ...expected]), fmtShape(a.shape));
  if (found.length === 1) {
    if (expected.length === 1 && found[0] !== expected[0]) throw r.mismatch(key, fmtShape(['N', ...expected]), fmtShape(a.shape));
    const data = ownFloat32(a.data, pre.normalize === 'standard');
    if (pre.neg_inf_to_zero) negInfToZero(data);
    if (pre.normalize === 'standard') standardize(r, p, data, n, 1, found[0]!);
    const shape = [n, found[0]!];
    checkOutput(r, p, shape);
    r.checkFinite(key, `modality '${p.name}'`, data, [found[0]!], cleanedNote(pre), nonFiniteHint(pre));
    return { feature: { data, shape } };
  }
  if (found.length !== 2) throw r.mismatch(key, expected.length ? fmtShape(['N', ...expected]) : '[N, T, D]', fmtShape(a.shape));
  const [t, d] = found as [number, number];
  // The time axis only reaches the model through seq_len / time_mean / avg_pool when one of them is set; then the
  // file may differ from the manifest's (uncertain) frame count, as MMSA re-reads it from the file.
  const timeFree = pre.time_mean || pre.seq_len != null || cfg.align === 'avg_pool';
  if (expected.length === 2 && (d !== expected[1] || (!timeFree && t !== expected[0]))) {
    throw r.mismatch(key, fmtShape(['N', ...expected]), fmtShape(a.shape));
  }

  let data = ownFloat32(a.data, pre.normalize === 'standard');
  if (pre.neg_inf_to_zero) negInfToZero(data);

  let lens: Int32Array | undefined;
  if (p.lengthsKey) {
    const l = r.numeric(p.lengthsKey, `the lengths of modality '${p.name}'`);
    if (l.data.length !== n) throw r.mismatch(p.lengthsKey, `[${n}] (one length per sample)`, fmtShape(l.shape));
    checkLengths(r, p.lengthsKey, p.name, key, l.data, t);
    const cap = !pre.time_mean && pre.seq_len != null ? pre.seq_len : undefined;
    lens = prepareLengths(l.data, { max: cap, clamp: pre.clamp_lengths });
    // Statistics and z-scores cover the frames the file marks valid (before clamping: a length-0 sample has none).
    if (pre.normalize === 'standard') standardize(r, p, data, n, t, d, l.data);
  } else if (pre.normalize === 'standard') {
    standardize(r, p, data, n, t, d);
  }

  if (cfg.missing) {
    // MMSA masks the raw padded arrays, before anything else reshapes them (the check phase refuses time_mean,
    // seq_len and avg_pool here), with the mask built from the file's own lengths.
    r.checkFinite(key, `modality '${p.name}'`, data, [t, d], cleanedNote(pre), nonFiniteHint(pre));
    const rawLengths = p.lengthsKey ? r.numeric(p.lengthsKey, `the lengths of modality '${p.name}'`).data : undefined;
    const out = dropFrames(data, n, t, d, cfg.missing.rate, cfg.missing.seed, rawLengths);
    const feature = missingOutput(cfg.missing.output, out, [n, t, d], [n, t]);
    checkOutput(r, p, feature.shape);
    return lens && cfg.missing.output === 'masked' ? { feature, lengths: lens } : { feature };
  }

  let shape: number[];
  if (pre.time_mean) {
    const raw = data;
    data = timeMean(data, n, t, d);
    shape = [n, d];
    // MMSA sets a NaN mean to 0; what is left (+-inf) would reach the model: name its first step in the file.
    const at = firstNonFinite(data);
    if (at >= 0) {
      const s0 = Math.floor(at / d);
      const j = at % d;
      // The mean is +-inf, so the column holds that infinity at some step.
      let k = 0;
      while (k < t - 1 && raw[(s0 * t + k) * d + j] !== data[at]) k++;
      let count = 0;
      for (let i = at; i < data.length; i++) if (data[i]! - data[i]! !== 0) count++;
      r.failNonFinite(key, `modality '${p.name}'`, data[at]!, (s0 * t + k) * d + j, [t, d], `${cleanedNote(pre)}, which survives the time mean (MMSA turns only a NaN mean into 0)`, nonFiniteHint(pre), count);
    }
    if (cfg.align === 'avg_pool') {
      // AlignSubNet on the one-frame mean: the frame repeated to the text length.
      const dst = alignTarget(p);
      data = avgPoolAlign(data, n, 1, d, dst);
      shape = [n, dst, d];
    }
  } else {
    let steps = t;
    if (pre.seq_len != null) {
      data = fitSeqLen(data, n, t, d, pre.seq_len);
      steps = pre.seq_len;
    }
    // Checked before pooling, where positions are still the file's (truncation keeps the first steps).
    r.checkFinite(key, `modality '${p.name}'`, data, [steps, d], cleanedNote(pre), nonFiniteHint(pre));
    if (cfg.align === 'avg_pool') {
      const dst = alignTarget(p);
      data = avgPoolAlign(data, n, steps, d, dst);
      steps = dst;
    }
    shape = [n, steps, d];
  }
  checkOutput(r, p, shape);
  return lens ? { feature: { data, shape }, lengths: lens } : { feature: { data, shape } };
}

/** The array a `missing:` modality gives: the masked copy, the real-position mask or the missing mask. */
function missingOutput(output: string, r: MissingResult<Float32Array | Int32Array>, shape: number[], maskShape: number[]): ArrayData {
  if (output === 'mask') return { data: r.mask, shape: maskShape };
  if (output === 'missing_mask') return { data: r.missingMask, shape: maskShape };
  return { data: r.masked, shape };
}

/**
 * `normalize: standard`: the train split fixes the statistics (or the run manifest gave them); every split is
 * standardised with them. A split other than train read first, without given statistics, is an error.
 */
function standardize(r: SplitReader, p: ModalityPlan, data: Float32Array, n: number, t: number, d: number, lengths?: ArrayLike<number>): void {
  let s = r.ctx.norm[p.name];
  if (!s) {
    if (r.split !== 'train' || n === 0) {
      throw new MmsaError('MSA6050', `modality '${p.name}' has normalize: standard, but no training-split statistics to standardise split '${r.split}' of ${r.ctx.file} with`, {
        hint: 'the run manifest records them for runs made by this version; train the run again, or read a file that has the train split',
        details: { modality: p.name, split: r.split },
      });
    }
    s = standardStats(featureMoments(data, n, t, d, lengths));
    r.ctx.norm[p.name] = s;
  }
  if (s.mean.length !== d) {
    throw new MmsaError('MSA6050', `modality '${p.name}': the recorded standardisation statistics have ${s.mean.length} dims, the data ${d}`, { details: { modality: p.name } });
  }
  applyStandard(data, n, t, d, s, lengths);
}

function cleanedNote(pre: Modality['preprocess']): string {
  return pre.neg_inf_to_zero ? ' after -inf was set to 0' : '';
}

function nonFiniteHint(pre: Modality['preprocess']): string {
  const negInf = pre.neg_inf_to_zero ? '' : '; for -inf padding (as in MOSEI audio) set `preprocess: {neg_inf_to_zero: true}` on the modality, as MMSA does for audio';
  return `features must be finite numbers: NaN or inf trains to a NaN loss. Clean the file (e.g. numpy.nan_to_num) or drop these samples${negInf}`;
}

/** Sequence lengths must be whole numbers no longer than the feature's time axis (they index its steps). */
function checkLengths(r: SplitReader, key: string, modality: string, featureKey: string, data: ArrayLike<number>, t: number): void {
  for (let i = 0; i < data.length; i++) {
    const why = lengthProblem(data[i]!, t);
    if (why === undefined) continue;
    let count = 0;
    for (let j = i; j < data.length; j++) if (lengthProblem(data[j]!, t) !== undefined) count++;
    throw new MmsaError('MSA6028', `${r.ctx.file}: split '${r.split}', key '${key}': the length of ${r.sampleName(i)} ${why} (${count} bad length${count === 1 ? '' : 's'} in all)`, {
      hint: `lengths count the valid steps of '${featureKey}' (modality '${modality}'): whole numbers from 0 to ${t}; the file is corrupt or the lengths belong to another feature`,
      details: { file: r.ctx.file, split: r.split, key, sample: i, value: data[i], steps: t },
    });
  }
}

/** The text length AlignSubNet pools to, as the compiler inferred it for this node's output. */
function alignTarget(p: ModalityPlan): number {
  const s = p.node.output.shape[1];
  if (typeof s !== 'number') throw new MmsaError('MSA6029', `internal: modality '${p.name}' uses avg_pool but its IR type has no time axis`, { details: { modality: p.name } });
  return s;
}

/** The preprocessed array must have the type the compiler inferred (the model was built for it). */
function checkOutput(r: SplitReader, p: ModalityPlan, shape: number[]): void {
  const want = p.node.output.shape;
  const ok = want.length === shape.length && want.every((w, i) => i === 0 || w === 'B' || w === shape[i]);
  if (!ok) {
    throw r.mismatch(p.feature.key, `${fmtShape(want.map((w) => (w === 'B' ? 'N' : w)))} after preprocessing (the type the pipeline was compiled for)`, fmtShape(shape), 'the file does not match the dataset facts the pipeline was compiled with: recompile against this file or fix the manifest');
  }
}
