// The metric catalog: every metric's name, result key, kind, which direction is better, and the named sets (MMSA's
// per-dataset sets, generic ones). Ground floor shared by the compiler (name checks, defaults), runtime and reports.

import { didYouMean } from './did-you-mean.js';

export type MetricKind = 'regression' | 'classification';
/** Which way a metric improves: `min` for errors and losses, `max` for accuracies, F1 and correlations. */
export type Better = 'min' | 'max';

export interface MetricInfo {
  /** What users write in a metric list (`sims/MAE`, `accuracy`). */
  name: string;
  /** Key in the results (`MAE`; the SIMS variants share MMSA's keys with the MOSI ones). */
  key: string;
  kind: MetricKind;
  better: Better;
  description: string;
}

function metric(name: string, kind: MetricKind, better: Better, description: string, key = name): MetricInfo {
  return { name, key, kind, better, description };
}

/** In MMSA's key order within each family (utils/metricsTop.py). */
export const METRIC_CATALOG: readonly MetricInfo[] = [
  // MOSI / MOSEI (__eval_mosei_regression); MAE and Corr are also the generic ones.
  metric('Has0_acc_2', 'regression', 'max', 'accuracy of (pred >= 0) vs (truth >= 0), zeros kept'),
  metric('Has0_F1_score', 'regression', 'max', 'weighted F1 of (pred >= 0) vs (truth >= 0)'),
  metric('Non0_acc_2', 'regression', 'max', 'accuracy of (pred > 0) vs (truth > 0) where truth != 0 (NaN if none)'),
  metric('Non0_F1_score', 'regression', 'max', 'weighted F1 of (pred > 0) vs (truth > 0) where truth != 0 (0 if none)'),
  metric('Mult_acc_5', 'regression', 'max', 'clip to [-2, 2], round half to even, fraction equal'),
  metric('Mult_acc_7', 'regression', 'max', 'clip to [-3, 3], round half to even, fraction equal'),
  metric('MAE', 'regression', 'min', 'mean absolute error on unclipped values (float32, as numpy)'),
  metric('Corr', 'regression', 'max', 'Pearson correlation on unclipped values (NaN if a vector is constant)'),
  // SIMS / SIMSv2 (__eval_sims_regression): everything on values clipped to [-1, 1].
  metric('sims/Mult_acc_2', 'regression', 'max', 'SIMS 2 classes: (-1.01, 0], (0, 1.01]', 'Mult_acc_2'),
  metric('sims/Mult_acc_3', 'regression', 'max', 'SIMS 3 classes, edges -0.1 / 0.1', 'Mult_acc_3'),
  metric('sims/Mult_acc_5', 'regression', 'max', 'SIMS 5 classes, edges -0.7 / -0.1 / 0.1 / 0.7', 'Mult_acc_5'),
  metric('sims/F1_score', 'regression', 'max', 'weighted F1 of the SIMS 2-class indices', 'F1_score'),
  metric('sims/MAE', 'regression', 'min', 'MAE on values clipped to [-1, 1]', 'MAE'),
  metric('sims/Corr', 'regression', 'max', 'Pearson correlation on values clipped to [-1, 1]', 'Corr'),
  // Extra regression metrics for custom datasets.
  metric('RMSE', 'regression', 'min', 'root mean squared error'),
  metric('CCC', 'regression', 'max', "Lin's concordance correlation coefficient (population variances)"),
  // Classification (pred = class indices, or logits with numClasses).
  metric('accuracy', 'classification', 'max', 'fraction of correct class predictions'),
  metric('macro_F1', 'classification', 'max', 'unweighted mean of per-class F1 (sklearn macro)'),
  metric('weighted_F1', 'classification', 'max', 'support-weighted mean of per-class F1 (sklearn weighted)'),
  metric('Acc_2', 'classification', 'max', 'binary accuracy, positive iff value >= threshold (default 0.5)'),
  metric('F1', 'classification', 'max', 'F1 of the positive class, positive iff value >= threshold (default 0.5)'),
  // Ranks scores, not classes: the logit margin of a 2-class head (or the value of a 1-output head) against labels
  // positive iff >= threshold; ties count one half, as sklearn's roc_auc_score (NaN when a split has one class only).
  metric('AUROC', 'classification', 'max', 'area under the ROC curve of the positive-class score (sklearn roc_auc_score, ties half)'),
];

const MOSI_SET = ['Has0_acc_2', 'Has0_F1_score', 'Non0_acc_2', 'Non0_F1_score', 'Mult_acc_5', 'Mult_acc_7', 'MAE', 'Corr'] as const;
const SIMS_SET = ['sims/Mult_acc_2', 'sims/Mult_acc_3', 'sims/Mult_acc_5', 'sims/F1_score', 'sims/MAE', 'sims/Corr'] as const;

/** The reference's metric set per dataset family, in MMSA's key order, and generic sets for custom datasets. */
export const METRIC_SETS = {
  mosi: MOSI_SET,
  mosei: MOSI_SET,
  sims: SIMS_SET,
  simsv2: SIMS_SET,
  regression: ['MAE', 'RMSE', 'Corr', 'CCC'],
  classification: ['accuracy', 'macro_F1', 'weighted_F1'],
  // Depression severity (PHQ-8 0-24 as AVEC 2019): CCC is AVEC's headline metric, MAE and RMSE its errors; Pearson's
  // r is the `Corr` metric (the same computation as MMSA's, so one name and one key).
  depression: ['CCC', 'MAE', 'RMSE', 'Corr'],
  // Two classes (UR-FUNNY, MUStARD): the F1s of the class predictions and AUROC of the positive-class score.
  binary: ['accuracy', 'weighted_F1', 'macro_F1', 'AUROC'],
  multiclass: ['accuracy', 'macro_F1', 'weighted_F1'],
} as const satisfies Record<string, readonly string[]>;

export type MetricSetName = keyof typeof METRIC_SETS;

/** The set names in catalog order (schemas list them as the values `eval.metrics` may name). */
export const METRIC_SET_NAMES = Object.keys(METRIC_SETS) as MetricSetName[];

/**
 * The label range MMSA's per-dataset sets assume (their bins and clipping); the generic sets assume none. The sets are
 * named after the datasets whose labels they score.
 */
export const METRIC_SET_SCALE: Readonly<Partial<Record<MetricSetName, [number, number]>>> = {
  mosi: [-3, 3],
  mosei: [-3, 3],
  sims: [-1, 1],
  simsv2: [-1, 1],
};

/** The validation loss, which every evaluation reports besides its metrics. */
export const LOSS_KEY = 'Loss';

const BY_NAME = new Map(METRIC_CATALOG.map((m) => [m.name, m]));

export function metricInfo(name: string): MetricInfo | undefined {
  return BY_NAME.get(name);
}

export function isMetricSetName(s: string): s is MetricSetName {
  return Object.prototype.hasOwnProperty.call(METRIC_SETS, s);
}

/** The metrics of a set name or a list of names; unknown names are left out (see unknownMetrics). */
export function metricsOf(metrics: string | readonly string[]): MetricInfo[] {
  const names = typeof metrics === 'string' ? (isMetricSetName(metrics) ? METRIC_SETS[metrics] : []) : metrics;
  return names.flatMap((n) => BY_NAME.get(n) ?? []);
}

/** The result keys an evaluation reports for a metric set or list (without `Loss`), in order. */
export function resultKeys(metrics: string | readonly string[]): string[] {
  return [...new Set(metricsOf(metrics).map((m) => m.key))];
}

/**
 * Which way a result key (or metric name) improves: `Loss` and errors are minimised. Case does not matter (`loss`,
 * `mae`), as selection reads keys case-insensitively; undefined for a key the catalog does not know.
 */
export function metricDirection(key: string): Better | undefined {
  const k = key.toLowerCase();
  if (k === LOSS_KEY.toLowerCase()) return 'min';
  const m = METRIC_CATALOG.find((x) => x.key.toLowerCase() === k || x.name.toLowerCase() === k);
  return m?.better;
}

/** Correlations (Corr, CCC) run from -1: selecting by them starts below any value, not at MMSA's 0. */
const SIGNED = new Set(['Corr', 'sims/Corr', 'CCC']);

/** Whether a result key (or metric name) can be negative, so a maximising selection must start from -Infinity. */
export function metricCanBeNegative(key: string): boolean {
  const k = key.toLowerCase();
  return METRIC_CATALOG.some((m) => SIGNED.has(m.name) && (m.key.toLowerCase() === k || m.name.toLowerCase() === k));
}

/** Every name a metric list may use, and the closest one to a typo. */
export function suggestMetric(name: string): string | undefined {
  return didYouMean(name, METRIC_CATALOG.map((m) => m.name));
}
