// `mmsa data stats FILE`: what a feature file holds, for deciding how to train on it: split sizes, label
// distributions, sequence-length distributions, NaN/Inf counts, per-dimension feature scale, and whether features look
// unnormalised (with the spec lines that standardise them). Phase 7 tooling (data files).

import { MmsaError } from '../../errors.js';
import { splitsOf } from './load-dataset.js';
import { NDArray, readPickle, type PyValue } from './pickle/read-pickle.js';
import { nonFiniteCounts } from './preprocess.js';
import { featureMoments, looksUnnormalised } from './standardize.js';
import type { SplitName } from './types.js';

const SPLITS: readonly SplitName[] = ['train', 'valid', 'test'];

export interface Distribution {
  n: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Integer labels with few values: one bin per value (lo === hi); otherwise 10 equal-width bins. */
  bins: { lo: number; hi: number; count: number }[];
}

export interface LabelStats {
  key: string;
  splits: Partial<Record<SplitName, Distribution>>;
}

export interface LengthStats {
  min: number;
  median: number;
  p90: number;
  max: number;
  /** Samples of length 0 (the modality is missing for them). */
  zero: number;
}

export interface FeatureStats {
  key: string;
  kind: 'sequence' | 'vector' | 'tokens';
  /** Per-sample shape: [T, D], [D] or [3, L]. */
  shape: number[];
  lengthsKey?: string;
  splits: Partial<Record<SplitName, { n: number; lengths?: LengthStats; nan: number; posInf: number; negInf: number }>>;
  /** Per-dimension scale over the training split's valid frames (float features only). */
  scale?: {
    dims: number;
    mean: number[];
    std: number[];
    min: number[];
    max: number[];
    constantDims: number;
    unnormalised: boolean;
    why: string;
  };
}

export interface DatasetStats {
  file: string;
  splits: Record<SplitName, number>;
  labels: LabelStats[];
  features: FeatureStats[];
  warnings: string[];
  /** Modalities whose features look unnormalised (the keys; in MMSA's layout a modality reads the key of its name). */
  normalize: string[];
}

const NOT_FEATURES = new Set(['id', 'raw_text', 'annotations']);
const isLabelKey = (k: string) => /^(regression|classification)_labels(_.+)?$/.test(k);

function numbers(v: PyValue | undefined): { data: ArrayLike<number>; shape: number[] } | undefined {
  if (!(v instanceof NDArray) || Array.isArray(v.data)) return undefined;
  const d = v.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return { data: Float64Array.from(d, Number), shape: v.shape };
  return { data: d, shape: v.shape };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))]!;
}

export function distributionOf(values: ArrayLike<number>): Distribution {
  const v = Array.from(values).filter((x) => Number.isFinite(x));
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n));
  const min = n ? Math.min(...v) : Number.NaN;
  const max = n ? Math.max(...v) : Number.NaN;
  const distinct = [...new Set(v)].sort((a, b) => a - b);
  let bins: Distribution['bins'];
  if (distinct.length <= 30 && distinct.every((x) => Number.isInteger(x))) {
    bins = distinct.map((x) => ({ lo: x, hi: x, count: v.filter((y) => y === x).length }));
  } else {
    const w = (max - min) / 10 || 1;
    bins = Array.from({ length: 10 }, (_, i) => ({ lo: min + i * w, hi: min + (i + 1) * w, count: 0 }));
    for (const x of v) bins[Math.min(9, Math.floor((x - min) / w))]!.count++;
  }
  return { n, min, max, mean, std, bins };
}

function lengthStats(l: ArrayLike<number>): LengthStats {
  const s = Array.from(l, Number).sort((a, b) => a - b);
  return { min: s[0] ?? 0, median: quantile(s, 0.5), p90: quantile(s, 0.9), max: s[s.length - 1] ?? 0, zero: s.filter((x) => x <= 0).length };
}

/** Reads the whole file and computes its statistics. */
export async function datasetStats(file: string, o: { onProgress?: (done: number, total: number) => void } = {}): Promise<DatasetStats> {
  const top = await readPickle(file, o.onProgress ? { onProgress: o.onProgress } : {});
  const raw = splitsOf(top, file);
  const splits = {} as Record<SplitName, number>;
  const labelKeys = new Set<string>();
  const featureKeys = new Set<string>();
  for (const s of SPLITS) {
    for (const k of raw[s].keys()) {
      const key = String(k);
      if (isLabelKey(key)) labelKeys.add(key);
      else if (!NOT_FEATURES.has(key) && !key.endsWith('_lengths')) featureKeys.add(key);
    }
    const ids = raw[s].get('id');
    const firstArray = [...raw[s].values()].find((v) => v instanceof NDArray) as NDArray | undefined;
    splits[s] = Array.isArray(ids) ? ids.length : firstArray?.shape[0] ?? 0;
  }
  const labels: LabelStats[] = [...labelKeys].map((key) => {
    const out: LabelStats = { key, splits: {} };
    for (const s of SPLITS) {
      const a = numbers(raw[s].get(key));
      if (a) out.splits[s] = distributionOf(a.data);
    }
    return out;
  });
  const warnings: string[] = [];
  const features: FeatureStats[] = [];
  for (const key of featureKeys) {
    const first = SPLITS.map((s) => numbers(raw[s].get(key))).find((a) => a !== undefined);
    if (!first || first.shape.length < 2) continue;
    const per = first.shape.slice(1);
    const tokens = key === 'text_bert' || (per.length === 2 && per[0] === 3 && first.shape.length === 3 && /bert/i.test(key));
    const kind: FeatureStats['kind'] = tokens ? 'tokens' : per.length === 2 ? 'sequence' : 'vector';
    const lengthsKey = SPLITS.some((s) => raw[s].has(`${key}_lengths`)) ? `${key}_lengths` : undefined;
    const f: FeatureStats = { key, kind, shape: per, ...(lengthsKey ? { lengthsKey } : {}), splits: {} };
    for (const s of SPLITS) {
      const a = numbers(raw[s].get(key));
      if (!a) continue;
      const n = a.shape[0]!;
      const nf = tokens ? { nan: 0, posInf: 0, negInf: 0 } : nonFiniteCounts(a.data);
      let lengths: LengthStats | undefined;
      if (tokens) {
        const L = per[1]!;
        lengths = lengthStats(Array.from({ length: n }, (_, i) => {
          let c = 0;
          for (let p = 0; p < L; p++) c += Number(a.data[(i * 3 + 1) * L + p]) > 0 ? 1 : 0;
          return c;
        }));
      } else if (lengthsKey) {
        const l = numbers(raw[s].get(lengthsKey));
        if (l) lengths = lengthStats(l.data);
      }
      f.splits[s] = { n, ...(lengths ? { lengths } : {}), ...nf };
      if (nf.nan + nf.posInf + nf.negInf > 0) warnings.push(`${key} (${s}): ${nf.nan} NaN, ${nf.posInf} +Inf, ${nf.negInf} -Inf values${key === 'audio' && nf.nan + nf.posInf === 0 ? ' (-Inf in audio becomes 0 when loaded, as MMSA does)' : ''}`);
    }
    const train = numbers(raw.train.get(key));
    if (!tokens && train) {
      const n = train.shape[0]!;
      const t = per.length === 2 ? per[0]! : 1;
      const d = per[per.length - 1]!;
      const l = lengthsKey ? numbers(raw.train.get(lengthsKey)) : undefined;
      const m = featureMoments(train.data, n, t, d, l?.data);
      const u = looksUnnormalised(m);
      f.scale = {
        dims: d,
        mean: Array.from(m.mean),
        std: Array.from(m.std),
        min: Array.from(m.min),
        max: Array.from(m.max),
        constantDims: Array.from(m.std).filter((x) => !(x > 1e-12)).length,
        unnormalised: u.flagged,
        why: u.why,
      };
      if (f.scale.constantDims > 0) warnings.push(`${key}: ${f.scale.constantDims} of ${d} dimensions are constant on the training split (they carry no information)`);
    }
    features.push(f);
  }
  const normalize = features.filter((f) => f.scale?.unnormalised).map((f) => f.key);
  if (normalize.length > 0) {
    warnings.push(
      `${normalize.join(', ')} look${normalize.length === 1 ? 's' : ''} unnormalised (${features.filter((f) => f.scale?.unnormalised).map((f) => `${f.key}: ${f.scale!.why}`).join('; ')}); MMSA's maintainers note that unnormalised features keep models from converging`,
    );
  }
  if (splits.train === 0) throw new MmsaError('MSA6027', `${file}: the train split is empty`, { hint: 'a feature file for training has samples in train, valid and test', details: { file } });
  return { file, splits, labels, features, warnings, normalize };
}

const g = (x: number) => (!Number.isFinite(x) ? 'nan' : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : String(Number(x.toFixed(3))));

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => `  ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')}`.trimEnd()).join('\n');
}

/** The spec lines that standardise the flagged modalities (modality names as in MMSA's layout: the key). */
export function normalizeSnippet(keys: string[]): string {
  return ['modalities:', ...keys.map((k) => `  ${k}: {feature: ${k}, preprocess: {normalize: standard}}`)].join('\n');
}

export function formatStats(r: DatasetStats): string {
  const out: string[] = [`file: ${r.file}`, `splits: train ${r.splits.train}, valid ${r.splits.valid}, test ${r.splits.test}`, ''];
  out.push('labels');
  for (const l of r.labels) {
    out.push(table([['key / split', 'n', 'min', 'max', 'mean', 'std'], ...SPLITS.flatMap((s) => {
      const d = l.splits[s];
      return d ? [[`${l.key} ${s}`, String(d.n), g(d.min), g(d.max), g(d.mean), g(d.std)]] : [];
    })]));
    const tr = l.splits.train;
    if (tr) out.push(`    train distribution: ${tr.bins.map((b) => (b.lo === b.hi ? `${g(b.lo)}: ${b.count}` : `[${g(b.lo)}, ${g(b.hi)}): ${b.count}`)).join(', ')}`);
  }
  out.push('', 'features (lengths: min / median / p90 / max; zero = samples without frames)');
  const rows: string[][] = [['key', 'split', 'shape', 'lengths', 'zero', 'NaN', '+Inf', '-Inf']];
  for (const f of r.features) {
    for (const s of SPLITS) {
      const x = f.splits[s];
      if (!x) continue;
      const L = x.lengths;
      rows.push([f.key, s, `${f.kind === 'tokens' ? 'tokens ' : ''}[${f.shape.join(', ')}]`, L ? `${L.min} / ${L.median} / ${L.p90} / ${L.max}` : '-', L ? String(L.zero) : '-', String(x.nan), String(x.posInf), String(x.negInf)]);
    }
  }
  out.push(table(rows));
  out.push('', 'scale per dimension (training split, valid frames)');
  const srows: string[][] = [['key', 'dims', 'mean min..max', 'std min / median / max', 'constant', '']];
  for (const f of r.features) {
    const s = f.scale;
    if (!s) continue;
    const stds = s.std.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    const means = s.mean.filter((x) => Number.isFinite(x));
    srows.push([f.key, String(s.dims), `${g(Math.min(...means))}..${g(Math.max(...means))}`, `${g(stds[0] ?? NaN)} / ${g(quantile(stds, 0.5))} / ${g(stds[stds.length - 1] ?? NaN)}`, String(s.constantDims), s.unnormalised ? 'UNNORMALISED' : 'ok']);
  }
  out.push(table(srows));
  if (r.warnings.length > 0) out.push('', 'warnings', ...r.warnings.map((w) => `  - ${w}`));
  if (r.normalize.length > 0) {
    out.push('', 'Standardise them with statistics of the training split only (applied to every split, recorded in the run):', ...normalizeSnippet(r.normalize).split('\n').map((l) => `  ${l}`));
  }
  return `${out.join('\n')}\n`;
}
