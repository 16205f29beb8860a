// Plots as scenes of drawing primitives in pixel coordinates: one description rendered two ways, to SVG for the
// HTML report and rasterised to PNG (`mmsa report --format png`). Phase 8 (report).

export type Prim =
  | { t: 'line'; x1: number; y1: number; x2: number; y2: number; color: string; width: number }
  | { t: 'poly'; pts: [number, number][]; color: string; width: number }
  | { t: 'circle'; x: number; y: number; r: number; color: string; opacity: number }
  | { t: 'rect'; x: number; y: number; w: number; h: number; color: string; opacity: number }
  | { t: 'text'; x: number; y: number; s: string; size: number; anchor: 'start' | 'middle' | 'end'; color: string; rotate?: boolean };

export interface Scene {
  w: number;
  h: number;
  title: string;
  prims: Prim[];
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const AXIS = '#333333';
const GRID = '#dddddd';

/** Round tick values covering [lo, hi] (about `n` of them), steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi - lo < 1e-12) {
    const pad = Math.abs(lo) > 1e-12 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, n);
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toFixed(12)));
  if (out[out.length - 1]! < hi - step * 1e-9) out.push(out[out.length - 1]! + step);
  return out;
}

export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

export interface Frame {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  /** Data -> pixel. */
  px(x: number): number;
  py(y: number): number;
}

export interface AxesOptions {
  w?: number;
  h?: number;
  title: string;
  xLabel: string;
  yLabel: string;
  xRange: [number, number];
  yRange: [number, number];
  /** Integer ticks only (epochs). */
  integerX?: boolean;
}

/** Title, frame, grid, ticks and axis labels; returns the scene and the data-to-pixel mapping for the contents. */
export function axes(o: AxesOptions): { scene: Scene; f: Frame } {
  const w = o.w ?? 520;
  const h = o.h ?? 320;
  const left = 62;
  const right = 16;
  const top = 30;
  const bottom = 46;
  let xt = niceTicks(o.xRange[0], o.xRange[1], 6);
  if (o.integerX) xt = xt.filter((v) => Number.isInteger(v));
  const yt = niceTicks(o.yRange[0], o.yRange[1], 5);
  const xlo = Math.min(xt[0]!, o.xRange[0]);
  const xhi = Math.max(xt[xt.length - 1]!, o.xRange[1]);
  const ylo = Math.min(yt[0]!, o.yRange[0]);
  const yhi = Math.max(yt[yt.length - 1]!, o.yRange[1]);
  const f: Frame = {
    x0: left,
    x1: w - right,
    y0: h - bottom,
    y1: top,
    px: (x) => left + ((x - xlo) / (xhi - xlo || 1)) * (w - right - left),
    py: (y) => h - bottom - ((y - ylo) / (yhi - ylo || 1)) * (h - bottom - top),
  };
  const prims: Prim[] = [{ t: 'rect', x: 0, y: 0, w, h, color: '#ffffff', opacity: 1 }];
  for (const v of yt) {
    const y = f.py(v);
    prims.push({ t: 'line', x1: f.x0, y1: y, x2: f.x1, y2: y, color: GRID, width: 1 });
    prims.push({ t: 'text', x: f.x0 - 6, y: y + 4, s: tickLabel(v), size: 11, anchor: 'end', color: AXIS });
  }
  for (const v of xt) {
    const x = f.px(v);
    prims.push({ t: 'line', x1: x, y1: f.y0, x2: x, y2: f.y0 + 4, color: AXIS, width: 1 });
    prims.push({ t: 'text', x, y: f.y0 + 17, s: tickLabel(v), size: 11, anchor: 'middle', color: AXIS });
  }
  prims.push({ t: 'line', x1: f.x0, y1: f.y0, x2: f.x1, y2: f.y0, color: AXIS, width: 1 });
  prims.push({ t: 'line', x1: f.x0, y1: f.y0, x2: f.x0, y2: f.y1, color: AXIS, width: 1 });
  prims.push({ t: 'text', x: w / 2, y: 18, s: o.title, size: 13, anchor: 'middle', color: '#000000' });
  prims.push({ t: 'text', x: (f.x0 + f.x1) / 2, y: h - 8, s: o.xLabel, size: 11, anchor: 'middle', color: AXIS });
  prims.push({ t: 'text', x: 14, y: (f.y0 + f.y1) / 2, s: o.yLabel, size: 11, anchor: 'middle', color: AXIS, rotate: true });
  return { scene: { w, h, title: o.title, prims }, f };
}

export interface Series {
  name: string;
  points: [number, number][];
  color?: string;
}

function extent(vals: number[]): [number, number] {
  const f = vals.filter((v) => Number.isFinite(v));
  if (f.length === 0) return [0, 1];
  return [Math.min(...f), Math.max(...f)];
}

function legend(prims: Prim[], f: Frame, names: { name: string; color: string }[]): void {
  let y = f.y1 + 12;
  for (const n of names) {
    prims.push({ t: 'line', x1: f.x1 - 120, y1: y - 4, x2: f.x1 - 100, y2: y - 4, color: n.color, width: 2.5 });
    prims.push({ t: 'text', x: f.x1 - 95, y, s: n.name, size: 11, anchor: 'start', color: '#000000' });
    y += 15;
  }
}

/** Lines over epochs (one per series); `marks` draws a hollow marker at given x on the first series (best epoch). */
export function lineChart(o: { title: string; xLabel: string; yLabel: string; series: Series[]; mark?: number; w?: number; h?: number }): Scene {
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1]));
  const { scene, f } = axes({ title: o.title, xLabel: o.xLabel, yLabel: o.yLabel, xRange: extent(xs), yRange: extent(ys), integerX: true, ...(o.w ? { w: o.w } : {}), ...(o.h ? { h: o.h } : {}) });
  const names: { name: string; color: string }[] = [];
  o.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    names.push({ name: s.name, color });
    const pts = s.points.filter((p) => Number.isFinite(p[1])).map(([x, y]) => [f.px(x), f.py(y)] as [number, number]);
    if (pts.length > 1) scene.prims.push({ t: 'poly', pts, color, width: 2 });
    for (const [x, y] of pts) scene.prims.push({ t: 'circle', x, y, r: 2.5, color, opacity: 1 });
  });
  if (o.mark !== undefined && o.series[0]) {
    const p = o.series[0].points.find((q) => q[0] === o.mark);
    if (p && Number.isFinite(p[1])) {
      scene.prims.push({ t: 'circle', x: f.px(p[0]), y: f.py(p[1]), r: 6, color: '#000000', opacity: 0.25 });
      scene.prims.push({ t: 'text', x: f.px(p[0]), y: f.py(p[1]) - 9, s: 'best', size: 10, anchor: 'middle', color: '#000000' });
    }
  }
  legend(scene.prims, f, names);
  return scene;
}

/** Predicted vs true with the y = x diagonal. */
export function scatterChart(o: { title: string; xLabel: string; yLabel: string; points: [number, number][]; w?: number; h?: number }): Scene {
  const [lo, hi] = extent(o.points.flatMap((p) => [p[0], p[1]]));
  const { scene, f } = axes({ title: o.title, xLabel: o.xLabel, yLabel: o.yLabel, xRange: [lo, hi], yRange: [lo, hi], w: o.w ?? 360, h: o.h ?? 360 });
  scene.prims.push({ t: 'line', x1: f.px(lo), y1: f.py(lo), x2: f.px(hi), y2: f.py(hi), color: '#999999', width: 1 });
  for (const [x, y] of o.points) if (Number.isFinite(x) && Number.isFinite(y)) scene.prims.push({ t: 'circle', x: f.px(x), y: f.py(y), r: 3, color: PALETTE[0]!, opacity: 0.55 });
  return scene;
}

/**
 * Label distributions of one epoch: the multimodal labels as grey bars, each modality's generated labels as a step
 * line over the same bins (the Self-MM paper's figure of y_m drifting away from y_M).
 */
export function histogramChart(o: { title: string; lo: number; hi: number; base: { name: string; counts: number[] }; others: { name: string; counts: number[] }[]; yMax?: number; w?: number; h?: number }): Scene {
  const bins = o.base.counts.length;
  const all = [o.base, ...o.others].flatMap((c) => c.counts);
  const yMax = o.yMax ?? Math.max(1, ...all);
  const { scene, f } = axes({ title: o.title, xLabel: 'label', yLabel: 'samples', xRange: [o.lo, o.hi], yRange: [0, yMax], w: o.w ?? 360, h: o.h ?? 260 });
  const bw = (o.hi - o.lo) / bins;
  o.base.counts.forEach((c, i) => {
    const x0 = f.px(o.lo + i * bw);
    const x1 = f.px(o.lo + (i + 1) * bw);
    scene.prims.push({ t: 'rect', x: x0, y: f.py(c), w: Math.max(0.5, x1 - x0 - 0.5), h: f.py(0) - f.py(c), color: '#888888', opacity: 0.45 });
  });
  const names = [{ name: `${o.base.name} (bars)`, color: '#888888' }];
  o.others.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length]!;
    names.push({ name: s.name, color });
    const pts: [number, number][] = [];
    s.counts.forEach((c, i) => {
      pts.push([f.px(o.lo + i * bw), f.py(c)]);
      pts.push([f.px(o.lo + (i + 1) * bw), f.py(c)]);
    });
    scene.prims.push({ t: 'poly', pts, color, width: 1.6 });
  });
  legend(scene.prims, f, names);
  return scene;
}
