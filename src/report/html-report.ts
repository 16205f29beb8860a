// `mmsa report`: one self-contained HTML page per set of runs (inline SVG plots and CSS, no scripts, no network)
// and single plots as PNG. Phase 8 (report).

import { describeRunState } from '../runtime/run-liveness.js';
import type { RunData } from './run-data.js';
import { histogramChart, lineChart, scatterChart, type Scene } from './plot/scene.js';
import { escapeXml, sceneToSvg } from './plot/svg.js';
import { keyMetrics } from './tui/state.js';

export const PLOTS = ['loss', 'metrics', 'drift', 'labels', 'scatter'] as const;
export type PlotName = (typeof PLOTS)[number];

const label = (r: RunData) => `${r.manifest?.pipeline ?? 'run'} ${r.manifest?.imported ? '(imported MMSA checkpoint)' : `seed ${r.manifest?.seed ?? '?'}`}`;

export function lossPlot(r: RunData): Scene | undefined {
  if (r.epochs.length === 0) return undefined;
  const best = r.epochs[r.epochs.length - 1]!.select.bestEpoch;
  return lineChart({
    title: `${label(r)}: loss per epoch`,
    xLabel: 'epoch',
    yLabel: 'loss',
    series: [
      { name: 'valid', points: r.epochs.map((e) => [e.epoch, e.valid.loss]) },
      { name: 'train', points: r.epochs.map((e) => [e.epoch, e.trainLoss]) },
    ],
    ...(best > 0 ? { mark: best } : {}),
  });
}

export function metricsPlot(r: RunData): Scene | undefined {
  const first = r.epochs[0];
  if (!first) return undefined;
  const keys = keyMetrics(Object.keys(first.valid.metrics), 5);
  if (keys.length === 0) return undefined;
  return lineChart({
    title: `${label(r)}: validation metrics per epoch`,
    xLabel: 'epoch',
    yLabel: 'value',
    series: keys.map((k) => ({ name: k, points: r.epochs.map((e) => [e.epoch, e.valid.metrics[k] ?? NaN] as [number, number]) })),
  });
}

export function driftPlot(r: RunData): Scene | undefined {
  const rows = r.epochs.flatMap((e) => Object.values(e.taskExtras).map((x) => ({ epoch: e.epoch, drift: x['drift'] as Record<string, number> | undefined })));
  const withDrift = rows.filter((x) => x.drift && typeof x.drift === 'object');
  if (withDrift.length === 0) return undefined;
  const mods = Object.keys(withDrift[0]!.drift!);
  return lineChart({
    title: `${label(r)}: ULGM label drift mean |y_m - y_M|`,
    xLabel: 'epoch',
    yLabel: 'mean abs difference',
    series: mods.map((m) => ({ name: m, points: withDrift.map((x) => [x.epoch, x.drift![m] ?? NaN] as [number, number]) })),
  });
}

/** Epochs shown as label histograms: at most `max`, spread from the first to the last. */
export function histogramEpochs(epochs: number[], max = 4): number[] {
  if (epochs.length <= max) return epochs;
  const out = new Set<number>();
  for (let i = 0; i < max; i++) out.add(epochs[Math.round((i * (epochs.length - 1)) / (max - 1))]!);
  return [...out];
}

export function labelPlots(r: RunData, only?: number): Scene[] {
  const hs = only === undefined ? r.histograms : r.histograms.filter((h) => h.epoch === only);
  if (hs.length === 0) return [];
  const pick = only === undefined ? histogramEpochs(hs.map((h) => h.epoch)) : [only];
  const chosen = hs.filter((h) => pick.includes(h.epoch));
  const yMax = Math.max(1, ...chosen.flatMap((h) => Object.values(h.counts).flat()));
  return chosen.map((h) => {
    const { fusion, ...mods } = h.counts;
    return histogramChart({
      title: `epoch ${h.epoch}: y_m (lines) vs y_M (bars)`,
      lo: h.lo,
      hi: h.hi,
      base: { name: 'y_M', counts: fusion ?? [] },
      others: Object.entries(mods).map(([name, counts]) => ({ name: `y_${name}`, counts })),
      yMax,
    });
  });
}

export function scatterPlot(r: RunData): Scene | undefined {
  const pts = (r.predictions ?? []).filter((p) => p.label !== null).map((p) => [p.label!, p.prediction] as [number, number]);
  if (pts.length === 0) return undefined;
  return scatterChart({ title: `${label(r)}: test predictions vs labels`, xLabel: 'true label', yLabel: 'prediction', points: pts });
}

export function plotScenes(r: RunData, name: PlotName, epoch?: number): Scene[] {
  switch (name) {
    case 'loss':
      return [lossPlot(r)].filter((s): s is Scene => s !== undefined);
    case 'metrics':
      return [metricsPlot(r)].filter((s): s is Scene => s !== undefined);
    case 'drift':
      return [driftPlot(r)].filter((s): s is Scene => s !== undefined);
    case 'labels':
      return labelPlots(r, epoch);
    case 'scatter':
      return [scatterPlot(r)].filter((s): s is Scene => s !== undefined);
  }
}

const fmt = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'nan' : x.toFixed(4));

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function runSection(r: RunData, i: number): string {
  const m = r.manifest;
  const parts: string[] = [`<section id="run-${i}"><h2>${escapeXml(label(r))}</h2>`];
  if (m) {
    parts.push(
      table(
        ['pipeline', 'dataset', 'seed', 'backend', 'status', 'started', 'finished', 'spec hash'],
        [[m.pipeline, `${m.dataset.name} (${m.dataset.source})`, String(m.seed), m.backend, describeRunState(m), m.startedAt, m.finishedAt ?? '', m.specHash]],
      ),
    );
  }
  parts.push(`<p class="dir">${escapeXml(r.dir)}</p>`);
  const imp = m?.imported;
  if (imp) parts.push(`<p class="note">Imported from the MMSA checkpoint ${escapeXml(imp.file)} (torch.save ${imp.format}, ${imp.tensors} tensors, sha256 ${imp.sha256}): weights only, no training history.</p>`);
  if (r.results) {
    const keys = Object.keys(r.results.test);
    parts.push(`<h3>Test results (${imp ? 'imported weights' : `best epoch ${r.results.bestEpoch} of ${r.results.epochs}`})</h3>`);
    parts.push(table(keys, [keys.map((k) => fmt(r.results!.test[k]))]));
  } else {
    parts.push(`<p class="note">${imp ? 'No results.json: imported without evaluation (mmsa predict evaluates it).' : 'No results.json: the run did not finish.'}</p>`);
  }
  const plots: { cls: string; svg: string }[] = [];
  for (const name of ['loss', 'metrics', 'drift', 'scatter'] as const) for (const s of plotScenes(r, name)) plots.push({ cls: `plot-${name}`, svg: sceneToSvg(s) });
  parts.push(`<div class="plots">${plots.map((p) => `<figure class="${p.cls}">${p.svg}</figure>`).join('\n')}</div>`);
  const hists = labelPlots(r);
  if (hists.length > 0) {
    parts.push('<h3>ULGM: generated unimodal labels next to the multimodal labels</h3>');
    parts.push(`<div class="plots">${hists.map((s) => `<figure class="plot-labels">${sceneToSvg(s)}</figure>`).join('\n')}</div>`);
  }
  if (r.epochs.length > 0) {
    const keys = keyMetrics(Object.keys(r.epochs[0]!.valid.metrics), 6);
    parts.push('<h3>Epochs</h3>');
    parts.push(
      table(
        ['epoch', 'train loss', 'valid loss', ...keys, 'best', 'patience left', 'seconds'],
        r.epochs.map((e) => [String(e.epoch), fmt(e.trainLoss), fmt(e.valid.loss), ...keys.map((k) => fmt(e.valid.metrics[k])), e.improved ? '*' : String(e.select.bestEpoch), String(e.patienceLeft), e.seconds.toFixed(2)]),
      ),
    );
  }
  if (r.lock) parts.push(`<details><summary>Resolved spec (spec.lock.json)</summary><pre class="spec">${escapeXml(JSON.stringify(r.lock, null, 2))}</pre></details>`);
  if (m) parts.push(`<details><summary>Run manifest (manifest.json)</summary><pre class="manifest">${escapeXml(JSON.stringify(m, null, 2))}</pre></details>`);
  parts.push('</section>');
  return parts.join('\n');
}

const CSS = `body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}.plots{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}
pre{background:#f8f8f8;padding:1em;overflow:auto;font-size:.8em}.dir{color:#666;font-family:monospace}.note{color:#a60}`;

export function renderHtmlReport(runs: RunData[], o: { title?: string; generatedAt?: string } = {}): string {
  const title = o.title ?? (runs.length === 1 ? `mmsa report: ${label(runs[0]!)}` : `mmsa report: ${runs.length} runs`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<meta name="generator" content="mmsa report">
<style>${CSS}</style></head>
<body><h1>${escapeXml(title)}</h1>
${o.generatedAt ? `<p class="note">generated ${escapeXml(o.generatedAt)}</p>` : ''}
${runs.map((r, i) => runSection(r, i)).join('\n')}
</body></html>
`;
}
