// Vega-Lite specs of the report's plots (losses with per-task/per-head parts, validation metrics on their own axes,
// predictions, confusion matrix, seeds overlaid, a search's trials), data inline.
// Phase 8 (report).

import type { TopLevelSpec } from 'vega-lite';
import type { EpochEndEvent } from '../../runtime/events.js';
import type { RunData } from '../run-data.js';
import type { TuneData } from '../tune-data.js';

export type Spec = TopLevelSpec;
export type Row = Record<string, string | number | null>;

export const WIDTH = 420;
export const HEIGHT = 220;
/** Fonts with lower and upper case everywhere: the PNG renderer picks the first one installed. */
export const FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ddd' },
  legend: { orient: 'bottom', direction: 'horizontal', columns: 4, labelLimit: 220, symbolType: 'stroke', symbolStrokeWidth: 3, symbolSize: 250 },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 13, anchor: 'start' },
} as const;

/** Integer epochs on the x axis (no 1.5). */
const EPOCH_X = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { format: 'd', tickMinStep: 1 }, scale: { nice: false } } as const;

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

export function top(spec: Record<string, unknown>): Spec {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CONFIG, ...spec } as unknown as Spec;
}

/** Lower-is-better metrics get their own axis (MAE of 0.7 next to accuracies of 0.8 hides both). */
export function isErrorMetric(key: string): boolean {
  return /^(Loss|MAE|RMSE|MSE)$/i.test(key) || /(^|_)(MAE|RMSE|MSE|loss)$/i.test(key);
}

/** Metrics worth a line, most telling first (MMSA's acc-2, F1, Corr), errors kept apart by the caller. */
const PREFERRED = ['Has0_acc_2', 'Non0_acc_2', 'Mult_acc_2', 'accuracy', 'Has0_F1_score', 'Non0_F1_score', 'F1_score', 'macro_F1', 'Corr', 'CCC', 'Mult_acc_5', 'Mult_acc_7', 'Mult_acc_3', 'MAE', 'RMSE'];

export function keyMetricsOf(keys: string[], max: number): string[] {
  const ks = keys.filter((k) => k !== 'Loss');
  const pref = PREFERRED.filter((k) => ks.includes(k));
  return [...pref, ...ks.filter((k) => !pref.includes(k))].slice(0, max);
}

/**
 * The first epoch at which each task's training loss becomes non-zero after epochs at exactly 0: the task had not
 * started contributing before (Self-MM's ULGM weights are tanh(|y_m - y_M|) = 0 until the generated labels move).
 */
export function taskStarts(epochs: readonly EpochEndEvent[]): { task: string; epoch: number }[] {
  const out: { task: string; epoch: number }[] = [];
  const first = epochs[0];
  if (!first) return out;
  for (const t of Object.keys(first.taskLosses ?? {})) {
    if (first.taskLosses[t] !== 0) continue;
    const e = epochs.find((x) => finite(x.taskLosses?.[t]) && x.taskLosses[t]! > 0);
    if (e) out.push({ task: t, epoch: e.epoch });
  }
  return out;
}

export function lineLayer(rows: Row[], o: { y: string; color: string; dash?: string; colorTitle?: string; sort?: string[] }): Record<string, unknown> {
  return {
    data: { values: rows },
    mark: { type: 'line', point: { size: 30 }, strokeWidth: 2 },
    encoding: {
      x: EPOCH_X,
      y: { field: 'value', type: 'quantitative', title: o.y, scale: { zero: false }, axis: { format: '.4~f' } },
      color: { field: o.color, type: 'nominal', title: o.colorTitle ?? null, ...(o.sort ? { sort: o.sort } : {}) },
      // The dash legend has no colour of its own (colour is another field): without one its symbols are invisible.
      ...(o.dash ? { strokeDash: { field: o.dash, type: 'nominal', title: null, legend: { encode: { symbols: { update: { stroke: { value: '#555' } } } } } } } : {}),
      tooltip: [{ field: 'epoch' }, { field: o.color }, { field: 'value', format: '.4f' }],
    },
  };
}

/**
 * Vertical markers with a label at the top (best epoch, a task starting). Their colours are fixed on the marks, not
 * encoded, so they do not join the series' colour scale (which would drop its legend).
 */
function ruleLayers(marks: { epoch: number; text: string; color: string }[]): Record<string, unknown>[] {
  return marks.flatMap((m, i) => {
    const values = [{ epoch: m.epoch, text: m.text }];
    return [
      { data: { values }, mark: { type: 'rule', strokeDash: [4, 3], color: m.color }, encoding: { x: { field: 'epoch', type: 'quantitative' } } },
      {
        data: { values },
        mark: { type: 'text', align: 'left', dx: 3, baseline: 'top', fontSize: 10, color: m.color, y: 2 + 12 * i },
        encoding: { x: { field: 'epoch', type: 'quantitative' }, text: { field: 'text' } },
      },
    ];
  });
}

export const runLabel = (r: RunData) => `${r.manifest?.pipeline ?? 'run'} ${r.manifest?.imported ? '(imported MMSA checkpoint)' : `seed ${r.manifest?.seed ?? '?'}`}`;

/**
 * Loss per epoch: train and valid totals with the best epoch marked; below, the training loss of every task and every
 * head (what trains M, T, A, V for Self-MM), with a marker where a task starts contributing.
 */
export function lossSpec(r: RunData): Spec | undefined {
  const eps = r.epochs;
  if (eps.length === 0) return undefined;
  const best = eps[eps.length - 1]!.select.bestEpoch;
  const totals: Row[] = eps.flatMap((e) => [
    { epoch: e.epoch, value: e.trainLoss, series: 'train' },
    { epoch: e.epoch, value: e.valid.loss, series: 'valid' },
  ]).filter((x) => finite(x.value));
  const panels: Record<string, unknown>[] = [
    {
      title: 'total loss (train: sum of the task losses; valid: the eval loss)',
      width: WIDTH,
      height: HEIGHT,
      layer: [lineLayer(totals, { y: 'loss', color: 'series', sort: ['train', 'valid'] }), ...ruleLayers(best > 0 ? [{ epoch: best, text: `best epoch ${best}`, color: '#555' }] : [])],
    },
  ];
  const tasks = Object.keys(eps[0]!.taskLosses ?? {});
  const heads = Object.keys(eps[0]!.headLosses ?? {});
  const parts: Row[] = [];
  // Heads repeat single-head tasks (task main = head M): show heads only when some task trains several.
  const showHeads = heads.length > tasks.length;
  if (tasks.length > 1 || showHeads) {
    for (const e of eps) {
      for (const t of tasks) parts.push({ epoch: e.epoch, value: e.taskLosses[t] ?? null, series: `task ${t}`, kind: 'task' });
      if (showHeads) for (const h of heads) parts.push({ epoch: e.epoch, value: e.headLosses?.[h] ?? null, series: `head ${h}`, kind: 'head' });
    }
    const starts = taskStarts(eps).map((s) => ({ epoch: s.epoch, text: `${s.task} starts (epoch ${s.epoch})`, color: '#b35900' }));
    panels.push({
      title: 'training loss by task and by head',
      width: WIDTH,
      height: HEIGHT,
      layer: [lineLayer(parts.filter((x) => finite(x['value'])), { y: 'loss', color: 'series', ...(showHeads ? { dash: 'kind' } : {}) }), ...ruleLayers(starts)],
    });
  }
  return top({ title: `${runLabel(r)}: loss per epoch`, vconcat: panels, resolve: { scale: { color: 'independent', strokeDash: 'independent' } } });
}

function metricPanel(title: string, rows: Row[], y: string): Record<string, unknown> {
  return { title, width: WIDTH * 0.62, height: HEIGHT, layer: [lineLayer(rows, { y, color: 'metric' })] };
}

/** Validation metrics per epoch: accuracy-like metrics and error metrics (MAE, RMSE) on separate axes. */
export function metricsSpec(r: RunData): Spec | undefined {
  const first = r.epochs[0];
  if (!first) return undefined;
  const all = Object.keys(first.valid.metrics).filter((k) => k !== 'Loss');
  const good = keyMetricsOf(all.filter((k) => !isErrorMetric(k)), 7);
  const bad = all.filter(isErrorMetric);
  if (good.length + bad.length === 0) return undefined;
  const rows = (ks: string[]) => r.epochs.flatMap((e) => ks.map((k) => ({ epoch: e.epoch, value: e.valid.metrics[k] ?? null, metric: k }))).filter((x) => finite(x.value));
  const panels = [
    ...(good.length ? [metricPanel('higher is better', rows(good), 'value')] : []),
    ...(bad.length ? [metricPanel('lower is better', rows(bad), 'error')] : []),
  ];
  return top({ title: `${runLabel(r)}: validation metrics per epoch`, hconcat: panels, resolve: { scale: { color: 'independent', y: 'independent' } } });
}

/** Epochs shown by a plot drawn once per epoch (label histograms): at most `max`, spread from the first to the last. */
export function histogramEpochs(epochs: number[], max = 4): number[] {
  if (epochs.length <= max) return epochs;
  const out = new Set<number>();
  for (let i = 0; i < max; i++) out.add(epochs[Math.round((i * (epochs.length - 1)) / (max - 1))]!);
  return [...out];
}

/** Regression: test predictions against labels, with the y = x line. */
export function scatterSpec(r: RunData): Spec | undefined {
  if (r.predictions?.some((p) => p.probabilities)) return undefined;
  const pts = (r.predictions ?? []).filter((p) => p.label !== null).map((p) => ({ label: p.label, prediction: p.prediction }));
  if (pts.length === 0) return undefined;
  const vals = pts.flatMap((p) => [p.label!, p.prediction]);
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  return top({
    title: `${runLabel(r)}: test predictions against labels`,
    width: HEIGHT * 1.4,
    height: HEIGHT * 1.4,
    layer: [
      { data: { values: [{ a: lo, b: lo }, { a: hi, b: hi }] }, mark: { type: 'line', color: '#999', strokeDash: [4, 3] }, encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } } },
      {
        data: { values: pts },
        mark: { type: 'circle', size: 22, opacity: 0.6 },
        encoding: { x: { field: 'label', type: 'quantitative', title: 'true label' }, y: { field: 'prediction', type: 'quantitative', title: 'prediction' } },
      },
    ],
  });
}

/** Counts of (true class, predicted class) over the test predictions of a classification run. */
export function confusionMatrix(r: RunData): { classes: number; counts: number[][] } | undefined {
  const preds = (r.predictions ?? []).filter((p) => p.probabilities && p.label !== null);
  if (preds.length === 0) return undefined;
  const classes = Math.max(preds[0]!.probabilities!.length, ...preds.map((p) => Math.max(p.prediction, p.label!) + 1));
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (const p of preds) counts[p.label!]![p.prediction]! += 1;
  return { classes, counts };
}

export function confusionSpec(r: RunData): Spec | undefined {
  const m = confusionMatrix(r);
  if (!m) return undefined;
  const rows = m.counts.flatMap((row, t) => row.map((c, p) => ({ truth: String(t), predicted: String(p), count: c })));
  const order = Array.from({ length: m.classes }, (_, i) => String(i));
  const size = Math.min(320, 60 * m.classes + 40);
  return top({
    title: `${runLabel(r)}: confusion matrix (test)`,
    width: size,
    height: size,
    data: { values: rows },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', sort: order, title: 'predicted class', axis: { labelAngle: 0 } },
      y: { field: 'truth', type: 'ordinal', sort: order, title: 'true class' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, legend: { orient: 'right', direction: 'vertical' } } } },
      { mark: { type: 'text', fontSize: 13 }, encoding: { text: { field: 'count', type: 'quantitative' }, color: { condition: { test: `datum.count > ${Math.max(...m.counts.flat()) / 2}`, value: 'white' }, value: 'black' } } },
    ],
  });
}

const seedOf = (r: RunData) => String(r.manifest?.seed ?? r.results?.seed ?? '?');

/** Several seeds of one spec: train and valid loss of every seed overlaid (colour = seed, dash = split). */
export function seedLossSpec(runs: RunData[], title: string): Spec | undefined {
  const rows = runs.flatMap((r) =>
    r.epochs.flatMap((e) => [
      { epoch: e.epoch, value: e.trainLoss, seed: seedOf(r), split: 'train' },
      { epoch: e.epoch, value: e.valid.loss, seed: seedOf(r), split: 'valid' },
    ]),
  ).filter((x) => finite(x.value));
  if (rows.length === 0) return undefined;
  return top({ title: `${title}: loss per epoch, every seed`, width: WIDTH, height: HEIGHT, ...lineLayer(rows, { y: 'loss', color: 'seed', dash: 'split', colorTitle: 'seed' }) });
}

/** Several seeds: the key validation metrics per epoch, one small panel each, every seed overlaid. */
export function seedMetricsSpec(runs: RunData[], title: string): Spec | undefined {
  const first = runs.find((r) => r.epochs.length > 0)?.epochs[0];
  if (!first) return undefined;
  const keys = keyMetricsOf(Object.keys(first.valid.metrics), 4);
  if (keys.length === 0) return undefined;
  const panels = keys.map((k) => {
    const rows = runs.flatMap((r) => r.epochs.map((e) => ({ epoch: e.epoch, value: e.valid.metrics[k] ?? null, seed: seedOf(r) }))).filter((x) => finite(x.value));
    return { title: `valid ${k}`, width: WIDTH * 0.45, height: HEIGHT * 0.7, layer: [lineLayer(rows, { y: k, color: 'seed', colorTitle: 'seed' })] };
  });
  return top({ title: `${title}: validation metrics per epoch, every seed`, concat: panels, columns: 2, resolve: { scale: { y: 'independent' } } });
}

// A search (`mmsa tune`): the validation objective per trial, and against each searched parameter.

const settingText = (s: Record<string, unknown>) =>
  Object.entries(s)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(4)) : JSON.stringify(v)}`)
    .join(' ');

function finishedTrials(t: TuneData) {
  return t.trials.filter((x) => x.status === 'completed' && finite(x.objective)).sort((a, b) => a.trial - b.trial);
}

const objectiveTitle = (t: TuneData) => `valid ${t.objective.key} (${t.objective.mode === 'min' ? 'lower' : 'higher'} is better)`;

/** Every finished trial's validation objective in trial order, the best so far as a step line, the best trial ringed. */
export function tuneTrialsSpec(t: TuneData): Spec | undefined {
  const done = finishedTrials(t);
  if (done.length === 0) return undefined;
  let best: number | undefined;
  const rows = done.map((x) => {
    const v = x.objective!;
    best = best === undefined || (t.objective.mode === 'min' ? v < best : v > best) ? v : best;
    return { trial: x.trial, value: v, best, setting: settingText(x.setting), isBest: x.trial === t.best?.trial ? 'best' : '' };
  });
  const x = { field: 'trial', type: 'quantitative', title: 'trial', axis: { format: 'd', tickMinStep: 1 }, scale: { nice: false } } as const;
  const y = { field: 'value', type: 'quantitative', title: objectiveTitle(t), scale: { zero: false }, axis: { format: '.4~f' } } as const;
  return top({
    title: `${t.pipeline}: validation ${t.objective.key} per trial (${t.strategy}, ${done.length} finished)`,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    layer: [
      { mark: { type: 'line', interpolate: 'step-after', color: '#e45756', strokeWidth: 2 }, encoding: { x, y: { ...y, field: 'best' } } },
      { mark: { type: 'circle', size: 45, color: '#4c78a8', opacity: 0.85 }, encoding: { x, y, tooltip: [{ field: 'trial' }, { field: 'value', format: '.4f' }, { field: 'setting' }] } },
      { transform: [{ filter: "datum.isBest === 'best'" }], mark: { type: 'point', size: 220, color: '#e45756', strokeWidth: 2 }, encoding: { x, y } },
    ],
  });
}

/** One panel per searched parameter: each finished trial's objective against the value it drew (the best ringed). */
export function tuneParamsSpec(t: TuneData): Spec | undefined {
  const done = finishedTrials(t);
  if (done.length === 0 || t.params.length === 0) return undefined;
  const panels = t.params.map((p) => {
    const choice = p.dist.kind === 'choice';
    const show = (v: unknown) => (choice ? (typeof v === 'number' ? String(Number(v.toPrecision(4))) : JSON.stringify(v)) : v);
    const rows = done
      .filter((x) => x.setting[p.name] !== undefined)
      .map((x) => ({ x: show(x.setting[p.name]), value: x.objective!, trial: x.trial, isBest: x.trial === t.best?.trial ? 'best' : '' }));
    // A choice is ordinal in the order written (its values may be lists); a range spans its axis, loguniform on a log axis.
    const xEnc = choice
      ? { field: 'x', type: 'ordinal', title: p.name, scale: { domain: p.dist.kind === 'choice' ? [...new Set(p.dist.values.map(show))] : undefined }, axis: { labelAngle: 0, labelLimit: 90 } }
      : { field: 'x', type: 'quantitative', title: p.name, scale: { domain: p.dist.kind === 'choice' ? undefined : [p.dist.low, p.dist.high], nice: false, ...(p.dist.kind === 'loguniform' ? { type: 'log' } : { zero: false }) }, axis: { format: '~g' } };
    const y = { field: 'value', type: 'quantitative', title: `valid ${t.objective.key}`, scale: { zero: false }, axis: { format: '.4~f' } };
    return {
      width: WIDTH * 0.45,
      height: HEIGHT * 0.7,
      data: { values: rows },
      layer: [
        { mark: { type: 'circle', size: 40, color: '#4c78a8', opacity: 0.8 }, encoding: { x: xEnc, y, tooltip: [{ field: 'trial' }, { field: 'x', title: p.name }, { field: 'value', format: '.4f' }] } },
        { transform: [{ filter: "datum.isBest === 'best'" }], mark: { type: 'point', size: 200, color: '#e45756', strokeWidth: 2 }, encoding: { x: xEnc, y } },
      ],
    };
  });
  return top({ title: `${t.pipeline}: ${objectiveTitle(t)} against each parameter`, concat: panels, columns: Math.min(3, panels.length), resolve: { scale: { y: 'shared' } } });
}
