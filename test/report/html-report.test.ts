import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { histogramEpochs, labelPlots, plotScenes, renderHtmlReport } from '../../src/report/html-report.js';
import { crc32 } from 'node:zlib';
import { encodePng, rasterize, Raster } from '../../src/report/plot/png.js';
import { lineChart, niceTicks } from '../../src/report/plot/scene.js';
import { sceneToSvg } from '../../src/report/plot/svg.js';
import { loadRun, parsePredictionsCsv } from '../../src/report/run-data.js';
import { FIXTURE_RUN, tmp } from './helpers.js';

describe('HTML report of the recorded demo run', () => {
  const run = loadRun(FIXTURE_RUN);
  const html = renderHtmlReport([run]);

  it('is self-contained: no scripts, no external URLs except the SVG namespace', () => {
    expect(html).not.toMatch(/<script/i);
    const urls = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]);
    expect(urls).toEqual([]);
    expect(html.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, '')).not.toMatch(/https?:\/\//);
  });

  it('has the loss, metric, drift, scatter and label-histogram plots with the run data', () => {
    for (const cls of ['plot-loss', 'plot-metrics', 'plot-drift', 'plot-scatter', 'plot-labels']) expect(html).toContain(`class="${cls}"`);
    const loss = html.slice(html.indexOf('class="plot-loss"'), html.indexOf('</figure>', html.indexOf('class="plot-loss"')));
    // two series (valid, train) with one point per epoch
    expect(loss.match(/<polyline/g)).toHaveLength(2);
    expect(loss).toContain('>valid<');
    expect(loss).toContain('>best<');
    const scatter = html.slice(html.indexOf('class="plot-scatter"'), html.indexOf('</figure>', html.indexOf('class="plot-scatter"')));
    expect(scatter.match(/<circle/g)).toHaveLength(64);
    expect(html.match(/class="plot-labels"/g)).toHaveLength(3);
    expect(html).toContain('y_M (bars)');
    expect(html).toContain('y_vision');
  });

  it('shows the results, the epoch table, the resolved spec and the manifest', () => {
    expect(html).toContain('Test results (best epoch 3 of 3)');
    expect(html).toContain('<td>0.8906</td>');
    expect(html).toContain('Resolved spec (spec.lock.json)');
    expect(html).toContain('&quot;fusion_head&quot;: &quot;M&quot;');
    expect(html).toContain('Run manifest (manifest.json)');
    expect(html).toMatch(/<td>3<\/td><td>1\.6707<\/td><td>0\.3522<\/td>/);
  });

  it('reads predictions and label histograms from the run directory', () => {
    expect(run.predictions).toHaveLength(64);
    expect(run.histograms.map((h) => h.epoch)).toEqual([1, 2, 3]);
    const h = run.histograms[0]!;
    // epoch 1: ULGM has not started (from_epoch 2), so every bank still equals y_M
    expect(h.counts['text']).toEqual(h.counts['fusion']);
    expect(h.counts['fusion']!.reduce((a, b) => a + b, 0)).toBe(256);
    expect(run.histograms[2]!.counts['audio']).not.toEqual(run.histograms[2]!.counts['fusion']);
    expect(parsePredictionsCsv('id,prediction,label\n"a,b",1.5,\nc,2,3\n')).toEqual([
      { id: 'a,b', prediction: 1.5, label: null },
      { id: 'c', prediction: 2, label: 3 },
    ]);
    expect(histogramEpochs([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual([1, 4, 7, 10]);
    expect(labelPlots(run, 2)).toHaveLength(1);
    expect(plotScenes(run, 'labels', 99)).toEqual([]);
  });
});

describe('plots', () => {
  it('nice ticks', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.33, 0.47, 5)).toEqual([0.3, 0.35, 0.4, 0.45, 0.5]);
    expect(niceTicks(2, 2).length).toBeGreaterThan(1);
  });

  it('escapes text in SVG', () => {
    const svg = sceneToSvg(lineChart({ title: 'a <b> & "c"', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[1, 1], [2, 2]] }] }));
    expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
  });
});

/** Decodes our own PNGs (8-bit RGB, filter 0) to check what was drawn. */
function decodePng(buf: Buffer): { w: number; h: number; px: (x: number, y: number) => [number, number, number] } {
  expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let off = 8;
  let w = 0;
  let h = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    expect(buf.readUInt32BE(off + 8 + len)).toBe(crc32(buf.subarray(off + 4, off + 8 + len)));
    if (type === 'IHDR') {
      w = data.readUInt32BE(0);
      h = data.readUInt32BE(4);
    }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  return { w, h, px: (x, y) => [raw[y * (1 + w * 3) + 1 + x * 3]!, raw[y * (1 + w * 3) + 2 + x * 3]!, raw[y * (1 + w * 3) + 3 + x * 3]!] };
}

describe('PNG', () => {

  it('encodes pixels losslessly', () => {
    const r = new Raster(3, 2);
    r.blend(1, 0, [1, 0, 0], 1);
    r.blend(2, 1, [0, 0, 1], 0.5);
    const d = decodePng(encodePng(r));
    expect([d.w, d.h]).toEqual([3, 2]);
    expect(d.px(0, 0)).toEqual([255, 255, 255]);
    expect(d.px(1, 0)).toEqual([255, 0, 0]);
    expect(d.px(2, 1)).toEqual([128, 128, 255]);
  });

  it('rasterises a plot: lines in their colour, text pixels, white margins', () => {
    const scene = lineChart({ title: 'T', xLabel: 'epoch', yLabel: 'loss', series: [{ name: 'valid', points: [[1, 0], [2, 1]], color: '#ff0000' }] });
    const r = rasterize(scene, 1);
    let red = 0;
    let dark = 0;
    for (let y = 0; y < r.h; y++) {
      for (let x = 0; x < r.w; x++) {
        const [R, G, B] = r.get(x, y);
        if (R > 0.9 && G < 0.1 && B < 0.1) red++;
        if (R < 0.3 && G < 0.3 && B < 0.3) dark++;
      }
    }
    expect(red).toBeGreaterThan(100);
    expect(dark).toBeGreaterThan(100);
    expect(r.get(r.w - 1, r.h - 1)).toEqual([1, 1, 1]);
  });

  it('opens in headless Chromium and renders the report (screenshot)', (ctx) => {
    const chromium = ['chromium', 'chromium-browser', 'google-chrome'].map((b) => spawnSync('which', [b], { encoding: 'utf8' }).stdout.trim()).find((p) => p);
    if (!chromium) {
      ctx.skip('Chromium is not installed (Debian: apt-get install chromium); the HTML report screenshot test is skipped');
      return;
    }
    const dir = tmp();
    const page = join(dir, 'report.html');
    writeFileSync(page, renderHtmlReport([loadRun(FIXTURE_RUN)]));
    const shot = join(dir, 'shot.png');
    execFileSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--offline', `--screenshot=${shot}`, '--window-size=1200,2000', `file://${page}`], { stdio: 'ignore', timeout: 30_000 });
    expect(existsSync(shot)).toBe(true);
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    const d = decodePngAny(readFileSync(shot));
    expect(d.w).toBe(1200);
  });
});

/** Width from any PNG's IHDR (Chromium's screenshots use filters we do not decode). */
function decodePngAny(buf: Buffer): { w: number } {
  return { w: buf.readUInt32BE(16) };
}
