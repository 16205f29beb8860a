// Classification scores with scikit-learn's semantics (accuracy_score, f1_score weighted / macro / binary),
// used by MMSA's metrics and the custom-dataset metrics, and its roc_auc_score. Phase 7 (execute) helpers.

import { sumFloat64 } from './numeric.js';

/**
 * sklearn `accuracy_score`: fraction of equal labels. Labels are compared as numbers (-0 equals 0, NaN equals
 * nothing). An empty input gives NaN, as sklearn's `np.average` of an empty array does.
 */
export function accuracy(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const n = truth.length;
  let hits = 0;
  for (let i = 0; i < n; i++) if (truth[i] === pred[i]) hits++;
  return hits / n;
}

interface ClassCounts {
  labels: number[];
  tp: number[];
  trueSum: number[];
  predSum: number[];
}

// Label set = sorted union of the classes present in truth and predictions (sklearn's unique_labels).
function countClasses(truth: ArrayLike<number>, pred: ArrayLike<number>): ClassCounts {
  const seen = new Set<number>();
  for (let i = 0; i < truth.length; i++) seen.add(truth[i]! === 0 ? 0 : truth[i]!);
  for (let i = 0; i < pred.length; i++) seen.add(pred[i]! === 0 ? 0 : pred[i]!);
  const labels = [...seen].sort((a, b) => a - b);
  const pos = new Map<number, number>(labels.map((l, i) => [l, i]));
  const tp = labels.map(() => 0);
  const trueSum = labels.map(() => 0);
  const predSum = labels.map(() => 0);
  for (let i = 0; i < truth.length; i++) {
    const t = pos.get(truth[i]!)!;
    const p = pos.get(pred[i]!)!;
    trueSum[t]!++;
    predSum[p]!++;
    if (t === p) tp[t]!++;
  }
  return { labels, tp, trueSum, predSum };
}

// Per-class F1 = 2PR/(P+R) with every 0/0 (precision, recall, F) taken as 0: sklearn's zero_division="warn".
function classF1(tp: number, trueSum: number, predSum: number): number {
  const p = predSum === 0 ? 0 : tp / predSum;
  const r = trueSum === 0 ? 0 : tp / trueSum;
  const denom = p + r;
  return denom === 0 ? 0 : (2 * p * r) / denom;
}

/**
 * sklearn `f1_score(y_true, y_pred, average='weighted')`: per-class F1 weighted by the class's support in y_true.
 * A class that appears only in the predictions weighs 0. If every weight is 0 (in particular an empty input)
 * sklearn returns 0.0, so this does too.
 */
export function weightedF1(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const c = countClasses(truth, pred);
  let wsum = 0;
  for (const w of c.trueSum) wsum += w;
  if (wsum === 0) return 0;
  let acc = 0;
  for (let k = 0; k < c.labels.length; k++) acc += classF1(c.tp[k]!, c.trueSum[k]!, c.predSum[k]!) * c.trueSum[k]!;
  return acc / wsum;
}

/**
 * sklearn `f1_score(average='macro')`: unweighted mean of per-class F1 over the union of classes in truth and
 * predictions (a class only predicted counts with F1 0). Empty input gives NaN (mean of nothing).
 */
export function macroF1(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const c = countClasses(truth, pred);
  let acc = 0;
  for (let k = 0; k < c.labels.length; k++) acc += classF1(c.tp[k]!, c.trueSum[k]!, c.predSum[k]!);
  return acc / c.labels.length;
}

/**
 * sklearn `f1_score(average='binary', pos_label=1)` on 0/1 labels: F1 of the positive class, 0 when it is
 * undefined (no positives predicted and none true).
 */
export function binaryF1(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  let tp = 0;
  let t1 = 0;
  let p1 = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i] === 1;
    const p = pred[i] === 1;
    if (t) t1++;
    if (p) p1++;
    if (t && p) tp++;
  }
  return classF1(tp, t1, p1);
}

/**
 * sklearn `roc_auc_score(y_true, y_score)` for two classes, step by step as sklearn computes it (roc_curve with
 * drop_intermediate, then the trapezoidal area), so ties between scores count one half and the float64 result matches
 * to the last bits. `truth` is 1 for the positive class, 0 otherwise. NaN where sklearn raises: one class only in
 * `truth` (the area is undefined), or a non-finite score.
 */
export function rocAuc(truth: ArrayLike<number>, score: ArrayLike<number>): number {
  const n = truth.length;
  for (let i = 0; i < n; i++) if (!Number.isFinite(score[i]!)) return Number.NaN;
  // Descending scores; within a tie the order does not change the cumulative counts at the tie's end.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b]! - score[a]!);
  // Cumulative true / false positives at the last index of each distinct score (sklearn's _binary_clf_curve).
  let tps: number[] = [];
  let fps: number[] = [];
  let tp = 0;
  for (let k = 0; k < n; k++) {
    tp += truth[order[k]!] === 1 ? 1 : 0;
    if (k === n - 1 || score[order[k + 1]!] !== score[order[k]!]) {
      tps.push(tp);
      fps.push(k + 1 - tp);
    }
  }
  // roc_curve's drop_intermediate: keep the ends and the points where the curve bends, then start it at (0, 0).
  if (tps.length > 2) {
    const keep = tps.map((_, i) => i === 0 || i === tps.length - 1 || fps[i + 1]! - 2 * fps[i]! + fps[i - 1]! !== 0 || tps[i + 1]! - 2 * tps[i]! + tps[i - 1]! !== 0);
    tps = tps.filter((_, i) => keep[i]);
    fps = fps.filter((_, i) => keep[i]);
  }
  tps.unshift(0);
  fps.unshift(0);
  const P = tps[tps.length - 1]!;
  const N = fps[fps.length - 1]!;
  if (P === 0 || N === 0) return Number.NaN;
  const fpr = fps.map((v) => v / N);
  const tpr = tps.map((v) => v / P);
  // np.trapezoid: (dx * (y[1:] + y[:-1]) / 2).sum(), a pairwise sum; fpr never decreases, so the direction is +1.
  const parts = new Float64Array(fpr.length - 1);
  for (let i = 0; i + 1 < fpr.length; i++) parts[i] = ((fpr[i + 1]! - fpr[i]!) * (tpr[i + 1]! + tpr[i]!)) / 2;
  return sumFloat64(parts);
}
