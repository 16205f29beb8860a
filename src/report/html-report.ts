// `mmsa report`: one self-contained HTML page per set of runs (inline SVG plots drawn by Vega, CSS, no scripts, no
// network): for several seeds of one spec first the aggregate (mean +- std, per-seed table, every seed's curves
// overlaid), then each run. Single plots as PNG. Phase 8 (report).

import { join } from 'node:path';
import { aggregateSeeds, tableScale } from '../runtime/metrics/aggregate.js';
import { describeRunState } from '../runtime/run-liveness.js';
import type { RunData } from './run-data.js';
import {
  confusionMatrix,
  confusionSpec,
  keyMetricsOf,
  lossSpec,
  metricsSpec,
  scatterSpec,
  seedLossSpec,
  seedMetricsSpec,
  taskStarts,
  tuneParamsSpec,
  tuneTrialsSpec,
  type Spec,
} from './plot/vega-specs.js';
import type { TuneData } from './tune-data.js';
import { fmtDuration } from './tui/state.js';
import { describeDistribution } from '../tune/space.js';
import { formatCell, scaledHeader } from './table-scale.js';
import { relativeRobustness, robustnessCurves, robustnessSpecs } from './plot/robustness-spec.js';
import { componentsOfRun, viewPlot, viewPlotsOf } from './views.js';

export { histogramEpochs } from './plot/vega-specs.js';

const label = (r: RunData) => `${r.manifest?.pipeline ?? 'run'} ${r.manifest?.imported ? '(imported MMSA checkpoint)' : `seed ${r.manifest?.seed ?? '?'}`}`;

/**
 * The Vega-Lite specs of one plot of a run (one or none; a component plot drawn per epoch, one per chosen epoch). A
 * component's plot is drawn only when the run has the component.
 */
export function plotSpecs(r: RunData, name: string, epoch?: number): Spec[] {
  const one = (s: Spec | undefined) => (s ? [s] : []);
  switch (name) {
    case 'loss':
      return one(lossSpec(r));
    case 'metrics':
      return one(metricsSpec(r));
    case 'scatter':
      return one(scatterSpec(r));
    case 'confusion':
      return one(confusionSpec(r));
    case 'robustness':
      return robustnessSpecs(r.robustness ?? [], label(r));
  }
  const v = viewPlot(name);
  return v && componentsOfRun(r).has(v.component) ? v.plot.specs(r, epoch) : [];
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const fmt = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'nan' : x.toFixed(4));

function table(head: string[], rows: string[][], cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

async function figure(cls: string, spec: Spec): Promise<string> {
  const { renderSvg } = await import('./plot/render.js');
  return `<figure class="${cls}">${await renderSvg(spec)}</figure>`;
}

async function runSection(r: RunData, i: number): Promise<string> {
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
    parts.push(table(keys, [keys.map((k) => fmt(r.results!.test[k]))], 'results'));
  } else {
    parts.push(`<p class="note">${imp ? 'No results.json: imported without evaluation (mmsa predict evaluates it).' : 'No results.json: the run did not finish.'}</p>`);
  }
  const starts = taskStarts(r.epochs);
  if (starts.length > 0) {
    parts.push(
      `<p class="note">${starts.map((s) => `Task ${escapeXml(s.task)} contributes to the training loss from epoch ${s.epoch} (its loss is 0 before), so the training loss rises there.`).join(' ')}</p>`,
    );
  }
  // Component plots without a section of their own join the run's plots after the training curves.
  const views = viewPlotsOf(r);
  const inline = views.filter((p) => p.section === undefined).map((p) => p.name);
  const figs: string[] = [];
  for (const name of ['loss', 'metrics', ...inline, 'scatter', 'confusion']) for (const s of plotSpecs(r, name)) figs.push(await figure(`plot-${name}`, s));
  parts.push(`<div class="plots">${figs.join('\n')}</div>`);
  const cm = confusionMatrix(r);
  if (cm) {
    parts.push('<h3>Confusion matrix (test; rows: true class, columns: predicted class)</h3>');
    parts.push(table(['true \\ predicted', ...cm.counts.map((_, j) => String(j))], cm.counts.map((row, t) => [String(t), ...row.map(String)]), 'confusion'));
  }
  if (r.robustness) parts.push(await robustnessSection(r));
  for (const p of views.filter((x) => x.section !== undefined)) {
    const specs = p.specs(r);
    if (specs.length === 0) continue;
    parts.push(`<h3>${escapeXml(p.section!)}</h3>`);
    const fs: string[] = [];
    for (const s of specs) fs.push(await figure(`plot-${p.name}`, s));
    parts.push(`<div class="plots">${fs.join('\n')}</div>`);
  }
  if (r.epochs.length > 0) {
    const first = r.epochs[0]!;
    const keys = keyMetricsOf(Object.keys(first.valid.metrics), 6);
    const tasks = Object.keys(first.taskLosses ?? {});
    parts.push('<h3>Epochs</h3>');
    parts.push(
      table(
        ['epoch', 'train loss', ...(tasks.length > 1 ? tasks.map((t) => `task ${t}`) : []), 'valid loss', ...keys, 'best', 'patience left', 'seconds'],
        r.epochs.map((e) => [
          String(e.epoch),
          fmt(e.trainLoss),
          ...(tasks.length > 1 ? tasks.map((t) => fmt(e.taskLosses[t])) : []),
          fmt(e.valid.loss),
          ...keys.map((k) => fmt(e.valid.metrics[k])),
          e.improved ? '*' : String(e.select.bestEpoch),
          String(e.patienceLeft),
          e.seconds.toFixed(2),
        ]),
        'epochs',
      ),
    );
  }
  if (r.lock) parts.push(`<details><summary>Resolved spec (spec.lock.json)</summary><pre class="spec">${escapeXml(JSON.stringify(r.lock, null, 2))}</pre></details>`);
  if (m) parts.push(`<details><summary>Run manifest (manifest.json)</summary><pre class="manifest">${escapeXml(JSON.stringify(m, null, 2))}</pre></details>`);
  parts.push('</section>');
  return parts.join('\n');
}

/** Metric against perturbation rate, and per series MultiBench's relative robustness of the first key metric. */
async function robustnessSection(r: RunData): Promise<string> {
  const parts = ['<h3>Robustness (mmsa evaluate --missing / --noise)</h3>'];
  const curves = robustnessCurves(r.robustness ?? []);
  const metric = keyMetricsOf([...new Set(curves.map((c) => c.metric))], 1)[0];
  const rows = curves
    .filter((c) => c.metric === metric)
    .map((c) => {
      const first = c.points[0];
      const last = c.points[c.points.length - 1];
      return [c.series, `${c.split} of ${c.data.split(/[\\/]/).pop() ?? c.data}`, c.points.map((p) => p.rate).join(', '), fmt(first?.mean), fmt(last?.mean), fmt(relativeRobustness(c.points))];
    });
  if (metric && rows.length > 0) {
    parts.push(table(['series', 'data', 'rates', `${metric} at first rate`, `${metric} at last rate`, `${metric} mean over rates (area / span)`], rows, 'robustness'));
  }
  const figs: string[] = [];
  for (const s of robustnessSpecs(r.robustness ?? [], label(r))) figs.push(await figure('plot-robustness', s));
  parts.push(`<div class="plots">${figs.join('\n')}</div>`);
  return parts.join('\n');
}

/** Runs of one spec (pipeline and spec hash) with more than one finished seed get an aggregate section. */
function seedGroups(runs: RunData[]): { title: string; runs: RunData[] }[] {
  const groups = new Map<string, RunData[]>();
  for (const r of runs) {
    if (!r.manifest) continue;
    const k = `${r.manifest.pipeline}\u0000${r.manifest.specHash}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].filter((g) => g.length > 1).map((g) => ({ title: `${g[0]!.manifest!.pipeline} (${g[0]!.manifest!.specHash})`, runs: g }));
}

async function aggregateSection(g: { title: string; runs: RunData[] }, i: number): Promise<string> {
  const parts: string[] = [`<section id="aggregate-${i}" class="aggregate"><h2>${escapeXml(g.title)}: ${g.runs.length} seeds</h2>`];
  const done = g.runs.filter((r) => r.results);
  if (done.length > 0) {
    const keys = Object.keys(done[0]!.results!.test);
    const scale = tableScale(keys);
    const agg = aggregateSeeds(done.map((r) => r.results!.test), { scale });
    const seeds = done.map((r) => String(r.results!.seed));
    parts.push(`<h3>Test results over ${done.length} seeds (${escapeXml(seeds.join(', '))}): mean +- std${scale === 100 ? ', x100 as MMSA\'s tables' : ''}</h3>`);
    parts.push(table(keys.map((k) => scaledHeader(k, scale)), [keys.map((k) => formatCell(agg[k]!.cell, scale))], 'aggregate-results'));
    parts.push('<h3>Per seed</h3>');
    parts.push(
      table(
        ['seed', 'best epoch', 'epochs', ...keys],
        done.map((r) => [String(r.results!.seed), String(r.results!.bestEpoch), String(r.results!.epochs), ...keys.map((k) => fmt(r.results!.test[k]))]),
        'per-seed',
      ),
    );
  }
  const unfinished = g.runs.length - done.length;
  if (unfinished > 0) parts.push(`<p class="note">${unfinished} run(s) without results (not finished) are left out of the mean.</p>`);
  const figs: string[] = [];
  const loss = seedLossSpec(g.runs, g.title);
  if (loss) figs.push(await figure('plot-seed-loss', loss));
  const metrics = seedMetricsSpec(g.runs, g.title);
  if (metrics) figs.push(await figure('plot-seed-metrics', metrics));
  parts.push(`<div class="plots">${figs.join('\n')}</div></section>`);
  return parts.join('\n');
}

/** A search: what was searched, the best setting and its test, the table of trials and the two plots. */
async function tuneSection(t: TuneData, i: number): Promise<string> {
  const key = t.objective.key;
  const names = [...new Set([...t.params.map((p) => p.name), ...t.trials.flatMap((x) => Object.keys(x.setting))])];
  const done = t.trials.filter((x) => x.status === 'completed').length;
  const parts: string[] = [`<section id="tune-${i}" class="tune"><h2>Search ${escapeXml(t.pipeline)}: ${done} of ${t.trials.length} trials finished (${escapeXml(t.status)})</h2>`];
  parts.push(`<p class="dir">${escapeXml(t.dir)}</p>`);
  parts.push(
    `<p>${escapeXml(t.strategy)} search; every trial is scored on validation (${t.objective.mode === 'min' ? 'minimise' : 'maximise'} ${escapeXml(key)} at the selected epoch, mean over the trial's seeds); the best setting is tested once on the test split.</p>`,
  );
  // What was searched, as `mmsa plan` prints it: strategy, budget and the time used, seeds, one row per parameter.
  const budget = [t.budget.trials !== undefined ? `${t.budget.trials} trials` : '', t.budget.minutes !== undefined ? `${t.budget.minutes} min` : ''].filter(Boolean).join(', ');
  const strategy = t.tpe ? `${t.strategy} (startup ${t.tpe.startup}, candidates ${t.tpe.candidates}, gamma ${t.tpe.gamma})` : t.strategy;
  parts.push(
    table(
      ['strategy', 'budget', 'wall time used', 'seeds per trial'],
      [[strategy, budget || (t.strategy === 'grid' ? 'the grid' : '-'), fmtDuration(t.spentSeconds), t.seeds.join(', ')]],
      'tune-search',
    ),
  );
  parts.push(
    table(
      ['parameter', 'distribution', 'sets'],
      t.params.map((p) => [p.name, describeDistribution(p.dist), p.paths.length > 1 || p.paths[0] !== p.name ? p.paths.join(', ') : '']),
      'tune-space',
    ),
  );
  if (t.best) {
    const setting = Object.entries(t.best.setting).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
    parts.push(`<h3>Best: trial ${t.best.trial}, valid ${escapeXml(key)} ${fmt(t.best.objective)}</h3><p>${setting.map(escapeXml).join('<br>')}</p>`);
    parts.push(t.bestYaml ? `<p>As a complete spec (\`mmsa run\` it to reproduce the test): <span class="dir">${escapeXml(join(t.dir, 'best.yaml'))}</span></p>` : '<p class="note">The best so far: best.yaml is written when the search finishes.</p>');
  }
  if (t.test) {
    const keys = Object.keys(t.test.aggregate);
    parts.push(`<h3>Test of best.yaml (once, ${t.test.seeds.length} seed${t.test.seeds.length === 1 ? '' : 's'}): mean +- std</h3>`);
    parts.push(table(keys, [keys.map((k) => `${fmt(t.test!.aggregate[k]!.mean)} +- ${fmt(t.test!.aggregate[k]!.std)}`)], 'tune-test'));
    if (t.test.runDirs?.length) parts.push(`<p class="dir">${t.test.runDirs.map(escapeXml).join('<br>')}</p>`);
  }
  const figs: string[] = [];
  const trials = tuneTrialsSpec(t);
  if (trials) figs.push(await figure('plot-tune-trials', trials));
  const params = tuneParamsSpec(t);
  if (params) figs.push(await figure('plot-tune-params', params));
  parts.push(`<div class="plots">${figs.join('\n')}</div>`);
  parts.push('<h3>Trials</h3>');
  parts.push(
    table(
      ['trial', ...names, `valid ${key}`, 'seconds', 'status'],
      t.trials.map((x) => [
        `${x.trial === t.best?.trial ? '* ' : ''}${x.trial}`,
        ...names.map((n) => (x.setting[n] === undefined ? '' : typeof x.setting[n] === 'number' ? String(Number((x.setting[n] as number).toPrecision(4))) : JSON.stringify(x.setting[n]))),
        x.objective !== undefined ? fmt(x.objective) : '',
        x.seconds !== undefined ? x.seconds.toFixed(1) : '',
        `${x.status}${x.reused ? ' (reused)' : ''}${x.error ? `: ${x.error.split('\n')[0]}` : ''}`,
      ]),
      'tune-trials',
    ),
  );
  parts.push('</section>');
  return parts.join('\n');
}

const CSS = `body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}.plots{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}figure{margin:0}figure svg{max-width:100%;height:auto}
pre{background:#f8f8f8;padding:1em;overflow:auto;font-size:.8em}.dir{color:#666;font-family:monospace}.note{color:#a60}
section.aggregate{background:#fafcff}`;

export async function renderHtmlReport(runs: RunData[], o: { title?: string; generatedAt?: string; tunes?: TuneData[] } = {}): Promise<string> {
  const groups = seedGroups(runs);
  const tunes = o.tunes ?? [];
  const title =
    o.title ??
    (tunes.length > 0 && runs.length === 0
      ? `mmsa report: search ${tunes.map((t) => t.pipeline).join(', ')}`
      : runs.length === 1 ? `mmsa report: ${label(runs[0]!)}` : groups.length === 1 && groups[0]!.runs.length === runs.length ? `mmsa report: ${groups[0]!.title}, ${runs.length} seeds` : `mmsa report: ${runs.length} runs`);
  const sections: string[] = [];
  for (const [i, t] of tunes.entries()) sections.push(await tuneSection(t, i));
  for (const [i, g] of groups.entries()) sections.push(await aggregateSection(g, i));
  for (const [i, r] of runs.entries()) sections.push(await runSection(r, i));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<meta name="generator" content="mmsa report">
<style>${CSS}</style></head>
<body><h1>${escapeXml(title)}</h1>
${o.generatedAt ? `<p class="note">generated ${escapeXml(o.generatedAt)}</p>` : ''}
${sections.join('\n')}
</body></html>
`;
}
