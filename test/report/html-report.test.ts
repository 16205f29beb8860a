// The HTML report and PNG plots: Vega-Lite specs rendered by Vega (SVG) and resvg (PNG); structure checked here, the
// look in a real browser (headless Chromium through playwright-core, skipped with a reason when Chromium is absent).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { histogramEpochs, plotSpecs, renderHtmlReport } from '../../src/report/html-report.js';
import { renderPng, renderSvg } from '../../src/report/plot/render.js';
import { labelHistograms, labelSpecs } from '../../src/components/tasks/ulgm/view.js';
import { confusionMatrix, isErrorMetric, seedLossSpec, taskStarts } from '../../src/report/plot/vega-specs.js';
import { loadRun, parsePredictionsCsv, type RunData } from '../../src/report/run-data.js';
import type { EpochEndEvent } from '../../src/runtime/events.js';
import { FIXTURE_RUN, tmp } from './helpers.js';

/** The text of the <figure> of class `cls`. */
function figureOf(html: string, cls: string): string {
  const at = html.indexOf(`class="${cls}"`);
  expect(at, cls).toBeGreaterThan(0);
  return html.slice(at, html.indexOf('</figure>', at));
}

/** SVG text labels (Vega writes each as <text ...>label</text>). */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

describe('HTML report of the recorded demo run', async () => {
  const run = loadRun(FIXTURE_RUN);
  const html = await renderHtmlReport([run]);

  it('is self-contained: no scripts, no external URLs except XML namespaces', () => {
    expect(html).not.toMatch(/<script/i);
    const urls = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]);
    expect(urls).toEqual([]);
    expect(html.replace(/xmlns(:\w+)?="http:\/\/www\.w3\.org\/[^"]+"/g, '')).not.toMatch(/https?:\/\//);
  });

  it('has the loss, metric, drift, scatter and label-histogram plots with the run data', () => {
    for (const cls of ['plot-loss', 'plot-metrics', 'plot-drift', 'plot-scatter', 'plot-labels']) expect(html).toContain(`class="${cls}"`);
    const loss = figureOf(html, 'plot-loss');
    // Legends name the series, in their own case (no bitmap font upper-casing).
    expect(texts(loss)).toEqual(expect.arrayContaining(['train', 'valid', 'task main', 'task ulgm', 'best epoch 3', 'ulgm starts (epoch 3)']));
    const scatter = figureOf(html, 'plot-scatter');
    expect(scatter.match(/role-mark[^"]*"[^>]*aria-roledescription="circle/g)?.length ?? (scatter.match(/<path[^>]*transform="translate/g) ?? []).length).toBeGreaterThan(0);
    expect(html.match(/class="plot-labels"/g)).toHaveLength(3);
    expect(texts(html)).toEqual(expect.arrayContaining(['y_vision', 'y_text', 'y_audio']));
    expect(html).toContain('epoch 1: generated y_m (lines) against y_M (grey bars)');
  });

  it('puts MAE on its own axis, apart from the accuracies', () => {
    const metrics = figureOf(html, 'plot-metrics');
    expect(texts(metrics)).toEqual(expect.arrayContaining(['higher is better', 'lower is better', 'MAE', 'Has0_acc_2', 'Corr']));
    expect(isErrorMetric('MAE')).toBe(true);
    expect(isErrorMetric('Has0_acc_2')).toBe(false);
    expect(isErrorMetric('RMSE')).toBe(true);
  });

  it('says when a task starts contributing to the training loss', () => {
    expect(taskStarts(run.epochs)).toEqual([{ task: 'ulgm', epoch: 3 }]);
    expect(html).toContain('Task ulgm contributes to the training loss from epoch 3');
  });

  it('shows the results, the epoch table with task losses, the resolved spec and the manifest', () => {
    expect(html).toContain('Test results (best epoch 3 of 3)');
    expect(html).toContain('<td>0.8906</td>');
    expect(html).toContain('Resolved spec (spec.lock.json)');
    expect(html).toContain('&quot;fusion_head&quot;: &quot;M&quot;');
    expect(html).toContain('Run manifest (manifest.json)');
    expect(html).toContain('<th>task ulgm</th>');
    expect(html).toMatch(/<td>3<\/td><td>1\.6707<\/td><td>0\.3590<\/td><td>1\.3117<\/td><td>0\.3522<\/td>/);
  });

  it('reads predictions and label histograms from the run directory', () => {
    expect(run.predictions).toHaveLength(64);
    const histograms = labelHistograms(run);
    expect(histograms.map((h) => h.epoch)).toEqual([1, 2, 3]);
    const h = histograms[0]!;
    // epoch 1: ULGM has not started (from_epoch 2), so every bank still equals y_M
    expect(h.counts['text']).toEqual(h.counts['fusion']);
    expect(h.counts['fusion']!.reduce((a, b) => a + b, 0)).toBe(256);
    expect(histograms[2]!.counts['audio']).not.toEqual(histograms[2]!.counts['fusion']);
    expect(parsePredictionsCsv('id,prediction,label\n"a,b",1.5,\nc,2,3\n')).toEqual([
      { id: 'a,b', prediction: 1.5, label: null },
      { id: 'c', prediction: 2, label: 3 },
    ]);
    expect(parsePredictionsCsv('id,prediction,label,prob_0,prob_1\n"x,1",1,0,0.25,0.75\n')).toEqual([{ id: 'x,1', prediction: 1, label: 0, probabilities: [0.25, 0.75] }]);
    expect(histogramEpochs([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual([1, 4, 7, 10]);
    expect(labelSpecs(run, 2)).toHaveLength(1);
    expect(plotSpecs(run, 'labels', 99)).toEqual([]);
    expect(plotSpecs(run, 'confusion')).toEqual([]);
  });
});

/** A run with per-head losses and classification predictions, built in memory. */
function classificationRun(): RunData {
  const base = loadRun(FIXTURE_RUN);
  const epochs = base.epochs.map((e, i): EpochEndEvent => ({ ...e, headLosses: { M: 0.5 - i * 0.1, T: i * 0.2, A: i * 0.1, V: i * 0.1 } }));
  const predictions = [
    [0, 0], [0, 0], [0, 1], [1, 1], [1, 1], [1, 1], [1, 0], [2, 2],
  ].map(([label, pred], i) => ({ id: String(i), prediction: pred!, label: label!, probabilities: [0.2, 0.3, 0.5] }));
  return { ...base, epochs, predictions };
}

describe('plots', () => {
  it('loss plot shows every head (M, T, A, V) besides the tasks', async () => {
    const svg = await renderSvg(plotSpecs(classificationRun(), 'loss')[0]!);
    expect(texts(svg)).toEqual(expect.arrayContaining(['head M', 'head T', 'head A', 'head V', 'task main', 'task ulgm']));
  });

  it('classification runs get a confusion matrix (plot and table) instead of a scatter plot', async () => {
    const r = classificationRun();
    expect(confusionMatrix(r)).toEqual({ classes: 3, counts: [[2, 1, 0], [1, 3, 0], [0, 0, 1]] });
    expect(plotSpecs(r, 'scatter')).toEqual([]);
    const html = await renderHtmlReport([r]);
    expect(texts(figureOf(html, 'plot-confusion'))).toEqual(expect.arrayContaining(['predicted class', 'true class', '3', '2']));
    expect(html).toContain('<table class="confusion"><thead><tr><th>true \\ predicted</th><th>0</th><th>1</th><th>2</th></tr></thead><tbody><tr><td>0</td><td>2</td><td>1</td><td>0</td></tr>');
  });

  it('escapes text in the page', async () => {
    const html = await renderHtmlReport([loadRun(FIXTURE_RUN)], { title: 'a <b> & "c"' });
    expect(html).toContain('<title>a &lt;b&gt; &amp; &quot;c&quot;</title>');
  });
});

/** Width, height and the RGB pixel reader of an 8-bit RGBA/RGB non-interlaced PNG (resvg writes RGBA). */
function decodePng(buf: Buffer): { w: number; h: number; px: (x: number, y: number) => number[] } {
  expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let off = 8;
  let w = 0;
  let h = 0;
  let channels = 4;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      w = data.readUInt32BE(0);
      h = data.readUInt32BE(4);
      channels = data[9] === 6 ? 4 : 3;
    }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  // Undo the per-row filters (the five PNG filter types).
  const raw = inflateSync(Buffer.concat(idat));
  const stride = w * channels;
  const out = Buffer.alloc(h * stride);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= channels ? out[y * stride + x - channels]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels]! : 0;
      const p = a + b - c;
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      out[y * stride + x] = (v + pred) & 0xff;
    }
  }
  return { w, h, px: (x, y) => [...out.subarray(y * stride + x * channels, y * stride + x * channels + 3)] };
}

describe('legends', () => {
  it('every legend symbol is drawn: the dashes that tell train from valid (and heads from tasks) have a stroke', async () => {
    const a = loadRun(FIXTURE_RUN);
    const b: RunData = { ...a, manifest: { ...a.manifest!, seed: 1112 } };
    const specs = [seedLossSpec([a, b], 'demo')!, ...plotSpecs(a, 'loss')];
    for (const spec of specs) {
      const svg = await renderSvg(spec);
      // Line symbols of a legend: a short horizontal path around the symbol's origin.
      const symbols = svg.match(/<path transform="translate\([^)]*\)" d="M-[\d.]+,0L[\d.]+,0"[^>]*>/g) ?? [];
      expect(symbols.length).toBeGreaterThan(2);
      for (const p of symbols) expect(p).toMatch(/ stroke="#?\w+"/);
    }
  });
});

describe('PNG', () => {
  it('renders a plot at twice its size with a white background and coloured lines', async () => {
    const run = loadRun(FIXTURE_RUN);
    const spec = plotSpecs(run, 'drift')[0]!;
    const svg = await renderSvg(spec);
    const [, sw, sh] = /<svg[^>]*width="(\d+)" height="(\d+)"/.exec(svg)!;
    const d = decodePng(Buffer.from(await renderPng(spec)));
    expect([d.w, d.h]).toEqual([2 * Number(sw), 2 * Number(sh)]);
    expect(d.px(d.w - 1, d.h - 1)).toEqual([255, 255, 255]);
    let coloured = 0;
    let dark = 0;
    for (let y = 0; y < d.h; y += 2) {
      for (let x = 0; x < d.w; x += 2) {
        const [r, g, b] = d.px(x, y) as [number, number, number];
        if (Math.max(r, g, b) - Math.min(r, g, b) > 80) coloured++;
        if (r < 60 && g < 60 && b < 60) dark++;
      }
    }
    expect(coloured).toBeGreaterThan(200);
    // Text (title, axis labels) is drawn with a real font: dark pixels exist.
    expect(dark).toBeGreaterThan(200);
  });
});

describe('in a real browser', () => {
  it('headless Chromium renders the report: plots visible, legends below the plot area, text in mixed case', async (ctx) => {
    const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));
    if (!chromium) {
      ctx.skip('Chromium is not installed (Debian: apt-get install chromium); the browser check of the HTML report is skipped');
      return;
    }
    const { chromium: pw } = await import('playwright-core');
    const dir = tmp();
    mkdirSync(dir, { recursive: true });
    const page = join(dir, 'report.html');
    writeFileSync(page, await renderHtmlReport([loadRun(FIXTURE_RUN)]));
    const browser = await pw.launch({ executablePath: chromium, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    try {
      const p = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await p.goto(`file://${page}`);
      // Every plot has a size; no legend overlaps a plot area (the data).
      type Box = { left: number; right: number; top: number; bottom: number };
      const boxes = (await p.evaluate(`[...document.querySelectorAll('figure')].map((f) => {
        const r = (e) => { const b = e.getBoundingClientRect(); return { left: b.left, right: b.right, top: b.top, bottom: b.bottom }; };
        return {
          cls: f.className,
          svg: r(f.querySelector('svg')),
          areas: [...f.querySelectorAll('path.background')].filter((b) => !b.closest('.role-legend')).map(r),
          legends: [...f.querySelectorAll('.role-legend')].map(r),
        };
      })`)) as { cls: string; svg: Box & { right: number }; areas: Box[]; legends: Box[] }[];
      expect(boxes.length).toBeGreaterThanOrEqual(6);
      const overlap = (a: Box, b: Box) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
      for (const b of boxes) {
        expect(b.svg.right - b.svg.left, b.cls).toBeGreaterThan(200);
        expect(b.svg.bottom - b.svg.top, b.cls).toBeGreaterThan(150);
        expect(b.areas.length, b.cls).toBeGreaterThan(0);
        for (const l of b.legends) for (const a of b.areas) expect(overlap(l, a), `${b.cls}: a legend overlaps the plot area`).toBe(false);
      }
      expect(boxes.find((b) => b.cls === 'plot-loss')!.legends.length).toBeGreaterThanOrEqual(2);
      const shot = join(dir, 'shot.png');
      await p.screenshot({ path: shot, fullPage: true });
      const d = decodePng(readFileSync(shot));
      expect(d.w).toBe(1400);
      // Lower-case text survives: the legend label "valid" is in the page as written.
      expect(await p.locator('figure.plot-loss text', { hasText: 'valid' }).count()).toBeGreaterThan(0);
    } finally {
      await browser.close();
    }
  });
});
