// How each metric of the catalog (core/metrics.ts) is computed: MMSA's regression metrics (bit-compatible with
// utils/metricsTop.py) plus extra metrics for custom datasets; computeMetrics rounds as numpy's round(x, 4). Phase 7.

import { METRIC_CATALOG, METRIC_SETS, metricCanBeNegative, metricDirection, type MetricInfo, type MetricKind, type MetricSetName } from '../../core/metrics.js';
import { MmsaError } from '../../errors.js';
import { accuracy, binaryF1, macroF1, rocAuc, weightedF1 } from './classification.js';
import { argmax, meanFloat32, meanFloat64, numpyRound, pearson, roundHalfEven, toFloat32, type NumericVector } from './numeric.js';

export type { MetricKind };

export interface MetricOptions {
  /** Classification: `pred` holds row-major logits [N, numClasses] and is arg-maxed per row. */
  numClasses?: number;
  /** Binary metrics (`Acc_2`, `F1`): a value is positive iff `>= threshold` (applied to pred and truth). Default 0.5. */
  threshold?: number;
}

export interface MetricDef extends MetricInfo {
  /** `pred` and `truth` are float32 vectors of the same length (logits for classification with numClasses). */
  compute(pred: Float32Array, truth: Float32Array, opts: MetricOptions): number;
}

/** A metric set's name (MMSA's per-dataset sets, generic ones). */
export type DatasetName = MetricSetName;

// ---- MMSA helpers ---------------------------------------------------------------------------------------------

function clip(a: Float32Array, lo: number, hi: number): Float32Array {
  // np.clip on float32 with python-float bounds stays float32; NaN passes through
  return a.map((v) => (v < lo ? lo : v > hi ? hi : v));
}

/** `np.sum(np.round(p) == np.round(t)) / len(t)` after clipping both to [-c, c]. */
function multiclassAcc(pred: Float32Array, truth: Float32Array, c: number): number {
  const p = clip(pred, -c, c);
  const t = clip(truth, -c, c);
  let hits = 0;
  for (let i = 0; i < t.length; i++) if (roundHalfEven(p[i]!) === roundHalfEven(t[i]!)) hits++;
  return hits / t.length;
}

/** `np.mean(np.absolute(p - t))` on float32 arrays: float32 differences, float32 pairwise mean. */
function maeFloat32(pred: Float32Array, truth: Float32Array): number {
  const d = new Float32Array(pred.length);
  for (let i = 0; i < d.length; i++) d[i] = Math.abs(pred[i]! - truth[i]!);
  return meanFloat32(d);
}

function binarize(a: Float32Array, positive: (v: number) => boolean): Float64Array {
  return Float64Array.from(a, (v) => (positive(v) ? 1 : 0));
}

function nonZeroSubset(pred: Float32Array, truth: Float32Array): { p: Float64Array; t: Float64Array } {
  const idx: number[] = [];
  for (let i = 0; i < truth.length; i++) if (truth[i] !== 0) idx.push(i); // -0 counts as zero
  return {
    p: Float64Array.from(idx, (i) => (pred[i]! > 0 ? 1 : 0)),
    t: Float64Array.from(idx, (i) => (truth[i]! > 0 ? 1 : 0)),
  };
}

// SIMS bins are half-open (lo, hi]; numpy compares a float32 array with a Python float edge in float32, so the
// edges are rounded to float32 first (float32(0.1) then falls in the (-0.1, 0.1] bin).
const SIMS_EDGES: Record<2 | 3 | 5, number[]> = {
  2: [-1.01, 0.0, 1.01].map(Math.fround),
  3: [-1.01, -0.1, 0.1, 1.01].map(Math.fround),
  5: [-1.01, -0.7, -0.1, 0.1, 0.7, 1.01].map(Math.fround),
};

function simsClasses(clipped: Float32Array, k: 2 | 3 | 5): Float64Array {
  const edges = SIMS_EDGES[k];
  return Float64Array.from(clipped, (v) => {
    for (let i = 0; i + 1 < edges.length; i++) if (v > edges[i]! && v <= edges[i + 1]!) return i;
    return Number.NaN; // MMSA leaves out-of-bin values (NaN input) unassigned; they never match
  });
}

function simsAcc(pred: Float32Array, truth: Float32Array, k: 2 | 3 | 5): number {
  return accuracy(simsClasses(clip(truth, -1, 1), k), simsClasses(clip(pred, -1, 1), k));
}

// ---- classification input ------------------------------------------------------------------------------------

function classIndices(pred: Float32Array, n: number, opts: MetricOptions): Float64Array {
  const c = opts.numClasses;
  if (c === undefined) return Float64Array.from(pred);
  if (!Number.isInteger(c) || c < 1 || pred.length !== n * c) {
    throw new MmsaError('MSA6602', `classification metric: pred has ${pred.length} values, expected ${n} rows x ${c} classes = ${n * c}`, {
      hint: 'pass logits as a row-major Float32Array of length N*numClasses, or class indices without numClasses',
      details: { predLength: pred.length, n, numClasses: c },
    });
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = argmax(pred, i * c, c);
  return out;
}

/**
 * The positive-class score AUROC ranks: a 2-class head's logit margin (l1 - l0, monotone in its softmax probability,
 * and free of the ties float rounding of a probability would add), or the value of a one-output head.
 */
function positiveScore(pred: Float32Array, n: number, opts: MetricOptions): Float64Array {
  const c = opts.numClasses;
  if (c === undefined) return Float64Array.from(pred);
  if (c !== 2 || pred.length !== n * 2) {
    throw new MmsaError('MSA6602', `AUROC: pred has ${pred.length} values for ${n} labels with ${c} classes; AUROC scores two classes`, {
      hint: 'use AUROC with a 2-class head (the binary set) or a one-output score; score more classes with accuracy and the F1s',
      details: { predLength: pred.length, n, numClasses: c },
    });
  }
  return Float64Array.from({ length: n }, (_, i) => pred[2 * i + 1]! - pred[2 * i]!);
}

function threshold(opts: MetricOptions): number {
  return opts.threshold ?? 0.5;
}

// ---- registry ----------------------------------------------------------------------------------------------------

/** How each catalog metric is computed (names, keys, kinds and directions are in core/metrics.ts). */
const COMPUTE: Record<string, MetricDef['compute']> = {
  'Has0_acc_2': (p, t) => accuracy(binarize(t, (v) => v >= 0), binarize(p, (v) => v >= 0)),
  'Has0_F1_score': (p, t) => weightedF1(binarize(t, (v) => v >= 0), binarize(p, (v) => v >= 0)),
  'Non0_acc_2': (p, t) => {
    const s = nonZeroSubset(p, t);
    return accuracy(s.t, s.p);
  },
  'Non0_F1_score': (p, t) => {
    const s = nonZeroSubset(p, t);
    return weightedF1(s.t, s.p);
  },
  'Mult_acc_5': (p, t) => multiclassAcc(p, t, 2),
  'Mult_acc_7': (p, t) => multiclassAcc(p, t, 3),
  'MAE': (p, t) => maeFloat32(p, t),
  'Corr': (p, t) => pearson(p, t),
  'sims/Mult_acc_2': (p, t) => simsAcc(p, t, 2),
  'sims/Mult_acc_3': (p, t) => simsAcc(p, t, 3),
  'sims/Mult_acc_5': (p, t) => simsAcc(p, t, 5),
  'sims/F1_score': (p, t) => weightedF1(simsClasses(clip(t, -1, 1), 2), simsClasses(clip(p, -1, 1), 2)),
  'sims/MAE': (p, t) => maeFloat32(clip(p, -1, 1), clip(t, -1, 1)),
  'sims/Corr': (p, t) => pearson(clip(p, -1, 1), clip(t, -1, 1)),
  'RMSE': (p, t) => {
    const sq = Float64Array.from(p, (v, i) => (v - t[i]!) ** 2);
    return Math.sqrt(meanFloat64(sq));
  },
  'CCC': (p, t) => {
    const mp = meanFloat64(p);
    const mt = meanFloat64(t);
    let vp = 0;
    let vt = 0;
    let cov = 0;
    for (let i = 0; i < p.length; i++) {
      const dp = p[i]! - mp;
      const dt = t[i]! - mt;
      vp += dp * dp;
      vt += dt * dt;
      cov += dp * dt;
    }
    const n = p.length;
    return (2 * (cov / n)) / (vp / n + vt / n + (mp - mt) ** 2);
  },
  'accuracy': (p, t, o) => accuracy(Float64Array.from(t), classIndices(p, t.length, o)),
  'macro_F1': (p, t, o) => macroF1(Float64Array.from(t), classIndices(p, t.length, o)),
  'weighted_F1': (p, t, o) => weightedF1(Float64Array.from(t), classIndices(p, t.length, o)),
  'Acc_2': (p, t, o) => {
    const th = threshold(o);
    return accuracy(binarize(t, (v) => v >= th), binarize(p, (v) => v >= th));
  },
  'F1': (p, t, o) => {
    const th = threshold(o);
    return binaryF1(binarize(t, (v) => v >= th), binarize(p, (v) => v >= th));
  },
  'AUROC': (p, t, o) => {
    const th = threshold(o);
    return rocAuc(binarize(t, (v) => v >= th), positiveScore(p, t.length, o));
  },
};

const DEFS: MetricDef[] = METRIC_CATALOG.map((m) => {
  const compute = COMPUTE[m.name];
  if (!compute) throw new Error(`metric '${m.name}' is in the catalog but has no computation`);
  return { ...m, compute };
});

export const METRICS: ReadonlyMap<string, MetricDef> = new Map(DEFS.map((d) => [d.name, d]));

/** Output key of a metric. */
export function metricKey(def: MetricDef): string {
  return def.key;
}

export { METRIC_SETS, metricDirection };

export interface KeyEval {
  /** Key of the validation result used for model selection. */
  name: string;
  mode: 'min' | 'max';
}

/** MMSA's KeyEval is "Loss" (minimised) for every dataset in regression mode. */
export function defaultKeyEval(_dataset?: string): KeyEval {
  return { name: 'Loss', mode: 'min' };
}

/**
 * Initial "best" value of the selection (MMSA: 1e8 when minimising, 0 when maximising). MMSA only maximises
 * accuracies and F1s; a correlation (Corr, CCC) may stay below 0 for every epoch, so selecting by one starts at
 * -Infinity, else no epoch would ever be kept.
 */
export function initialBest(mode: KeyEval['mode'], metric?: string): number {
  if (mode === 'min') return 1e8;
  return metric !== undefined && metricCanBeNegative(metric) ? -Infinity : 0;
}

/** MMSA's improvement test: better by at least minDelta (1e-6); equal (rounded) values are not improvements. */
export function isImprovement(mode: KeyEval['mode'], current: number, best: number, minDelta = 1e-6): boolean {
  return mode === 'min' ? current <= best - minDelta : current >= best + minDelta;
}

export interface ComputeMetricsOptions extends MetricOptions {
  /** Decimals of numpy-style rounding; `null` returns raw values. Default 4 (MMSA). */
  decimals?: number | null;
}

function resolveSet(set: DatasetName | readonly string[]): MetricDef[] {
  if (typeof set === 'string') {
    const names = (METRIC_SETS as Record<string, readonly string[] | undefined>)[set];
    if (names === undefined) {
      throw new MmsaError('MSA6601', `unknown metric set '${set}'`, {
        hint: `use one of ${Object.keys(METRIC_SETS).join(', ')}, or a list of metric names`,
      });
    }
    return names.map((n) => METRICS.get(n)!);
  }
  const defs: MetricDef[] = [];
  const keys = new Map<string, string>();
  set.forEach((name, i) => {
    const def = METRICS.get(name);
    if (def === undefined) {
      throw new MmsaError('MSA6601', `unknown metric '${name}' at metrics[${i}]`, {
        hint: `known metrics: ${[...METRICS.keys()].join(', ')}`,
        details: { path: `metrics[${i}]`, name },
      });
    }
    const key = metricKey(def);
    const other = keys.get(key);
    if (other !== undefined) {
      throw new MmsaError('MSA6603', `metrics '${other}' and '${name}' both report the key '${key}'`, {
        hint: 'keep only one of them',
        details: { path: `metrics[${i}]`, key },
      });
    }
    keys.set(key, name);
    defs.push(def);
  });
  return defs;
}

/**
 * Compute a metric set (a dataset name or a list of metric names) on predictions and labels. Inputs are taken as
 * float32, as MMSA flattens its tensors to float32 numpy arrays. Values are rounded as numpy's `round(x, 4)`.
 */
export function computeMetrics(
  set: DatasetName | readonly string[],
  pred: NumericVector,
  truth: NumericVector,
  opts: ComputeMetricsOptions = {},
): Record<string, number> {
  const defs = resolveSet(set);
  const p = toFloat32(pred);
  const t = toFloat32(truth);
  const needsSameLength = defs.some((d) => d.kind === 'regression' || opts.numClasses === undefined);
  if (needsSameLength && p.length !== t.length) {
    throw new MmsaError('MSA6602', `metrics: pred has ${p.length} values but truth has ${t.length}`, {
      hint: 'pass one prediction per label (flatten the M head output)',
      details: { predLength: p.length, truthLength: t.length },
    });
  }
  const decimals = opts.decimals === undefined ? 4 : opts.decimals;
  const out: Record<string, number> = {};
  for (const def of defs) {
    const v = def.compute(p, t, opts);
    out[metricKey(def)] = decimals === null ? v : numpyRound(v, decimals);
  }
  return out;
}
