// ULGM's report views: the label drift (mean |y_m - y_M| per modality and epoch) and the label histograms (generated
// y_m against y_M) that its onEpochEnd hook reports, as plots for `mmsa report` and as the terminal UI's drift line.
// Phase 8 (report).

import { defineView, type ComponentPlot } from '../../../report/component-view.js';
import { HEIGHT, WIDTH, histogramEpochs, lineLayer, runLabel, top, type Spec } from '../../../report/plot/vega-specs.js';
import type { RunData } from '../../../report/run-data.js';
import { bar } from '../../../report/tui/state.js';

/** One epoch of ULGM's label banks, binned over [lo, hi] (`labelHistogram` in state.ts writes them). */
export interface LabelHistogram {
  epoch: number;
  task: string;
  lo: number;
  hi: number;
  counts: Record<string, number[]>;
}

const isDrift = (d: unknown): d is Record<string, number> => Boolean(d) && typeof d === 'object';

/** The label histograms of a run, in event order (one per ULGM task and epoch). */
export function labelHistograms(r: RunData): LabelHistogram[] {
  const out: LabelHistogram[] = [];
  for (const e of r.events) {
    if (e.kind !== 'task.update') continue;
    const h = e.data['histogram'] as { lo?: unknown; hi?: unknown; counts?: unknown } | undefined;
    if (h && typeof h.lo === 'number' && typeof h.hi === 'number' && h.counts && typeof h.counts === 'object') {
      out.push({ epoch: e.epoch, task: e.task, lo: h.lo, hi: h.hi, counts: h.counts as Record<string, number[]> });
    }
  }
  return out;
}

/** Label drift: mean |y_m - y_M| per modality and epoch. */
export function driftSpec(r: RunData): Spec | undefined {
  const rows = r.epochs.flatMap((e) =>
    Object.values(e.taskExtras).flatMap((x) => {
      const d = x['drift'];
      return isDrift(d) ? Object.entries(d).map(([m, v]) => ({ epoch: e.epoch, value: v, modality: m })) : [];
    }),
  );
  if (rows.length === 0) return undefined;
  return top({
    title: `${runLabel(r)}: ULGM label drift, mean |y_m - y_M|`,
    width: WIDTH,
    height: HEIGHT,
    ...lineLayer(rows, { y: 'mean absolute difference', color: 'modality' }),
  });
}

/** One epoch of ULGM's label banks: y_M as bars, each generated y_m as a line over the same bins. */
export function labelSpec(h: LabelHistogram, yMax?: number): Spec {
  const { fusion, ...mods } = h.counts;
  const n = (fusion ?? Object.values(mods)[0] ?? []).length;
  const w = (h.hi - h.lo) / Math.max(1, n);
  const bars = (fusion ?? []).map((c, i) => ({ lo: h.lo + i * w, hi: h.lo + (i + 1) * w, count: c }));
  const lines = Object.entries(mods).flatMap(([m, cs]) => cs.map((c, i) => ({ x: h.lo + (i + 0.5) * w, count: c, label: `y_${m}` })));
  const y = { field: 'count', type: 'quantitative', title: 'samples', ...(yMax ? { scale: { domain: [0, yMax] } } : {}) };
  return top({
    title: `epoch ${h.epoch}: generated y_m (lines) against y_M (grey bars)`,
    width: WIDTH * 0.8,
    height: HEIGHT * 0.8,
    layer: [
      { data: { values: bars }, mark: { type: 'rect', color: '#c8c8c8' }, encoding: { x: { field: 'lo', type: 'quantitative', title: 'label' }, x2: { field: 'hi' }, y } },
      { data: { values: lines }, mark: { type: 'line', interpolate: 'step', strokeWidth: 2 }, encoding: { x: { field: 'x', type: 'quantitative' }, y, color: { field: 'label', type: 'nominal', title: null } } },
    ],
  });
}

/** The histograms of one epoch, or of up to four epochs spread over the run, on one y scale so they compare. */
export function labelSpecs(r: RunData, only?: number): Spec[] {
  const all = labelHistograms(r);
  const hs = only === undefined ? all : all.filter((h) => h.epoch === only);
  if (hs.length === 0) return [];
  const pick = only === undefined ? histogramEpochs(hs.map((h) => h.epoch)) : [only];
  const chosen = hs.filter((h) => pick.includes(h.epoch));
  const yMax = Math.max(1, ...chosen.flatMap((h) => Object.values(h.counts).flat()));
  return chosen.map((h) => labelSpec(h, yMax));
}

/** The drift line: a bar per modality when `width` has room for them, else the values alone. */
export function driftText(drift: Record<string, number>, scale = 1, width = Infinity): string {
  const value = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'nan');
  const entries = Object.entries(drift);
  const withBars = `ULGM drift |y_m - y_M|  ${entries.map(([m, v]) => `${m} ${value(v)} [${bar(v, scale, 8)}]`).join('  ')}`;
  return withBars.length <= width ? withBars : `ULGM drift |y_m - y_M|  ${entries.map(([m, v]) => `${m} ${value(v)}`).join('  ')}`;
}

const drift: ComponentPlot = {
  name: 'drift',
  specs: (r) => {
    const s = driftSpec(r);
    return s ? [s] : [];
  },
  missing: () => 'its ULGM task reported no label drift in events.ndjson (drift is reported after each epoch)',
};

const labels: ComponentPlot = {
  name: 'labels',
  specs: labelSpecs,
  section: 'ULGM: generated unimodal labels next to the multimodal labels',
  epoch: {
    what: 'the ULGM label histogram',
    last: (r) => labelHistograms(r).at(-1)?.epoch,
  },
  missing: (_r, epoch) => (epoch !== undefined ? `it has no ULGM label histogram for epoch ${epoch}` : 'it has no ULGM label histograms (Self-MM runs made by this version record them)'),
};

export default defineView({
  plots: [drift, labels],
  tuiLine: (data, width) => {
    const d = data['drift'];
    return isDrift(d) && Object.keys(d).length > 0 ? driftText(d, 1, width) : null;
  },
});
