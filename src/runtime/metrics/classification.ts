// Classification scores with scikit-learn's semantics (accuracy_score, f1_score weighted / macro / binary),
// used by MMSA's metrics and the custom-dataset metrics. Phase 7 (execute) helpers.

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
