// Robustness curves of a run (RUN_DIR/robustness.json, written by `mmsa evaluate --missing/--noise`): each metric
// against the perturbation rate, one line per series, the clean score at rate 0, mean over perturbation seeds with
// their min..max; and MultiBench's relative robustness (area under the curve) per series. Phase 8 (report).

import type { RobustnessRecord } from '../../runtime/robustness-record.js';
import { FONT, isErrorMetric, keyMetricsOf, type Spec } from './vega-specs.js';

export interface CurvePoint {
  rate: number;
  mean: number;
  min: number;
  max: number;
  seeds: number;
}

export interface Curve {
  data: string;
  split: string;
  series: string;
  metric: string;
  points: CurvePoint[];
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * Curves per (data, split, series, metric); series without fixed perturbations start at the clean score (rate 0)
 * unless they were evaluated at 0 themselves.
 */
export function robustnessCurves(records: readonly RobustnessRecord[]): Curve[] {
  const out: Curve[] = [];
  const groups = new Map<string, RobustnessRecord[]>();
  for (const r of records) {
    const k = JSON.stringify([r.data, r.split]);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  for (const rs of groups.values()) {
    const clean = [...rs].reverse().find((r) => r.series === '');
    const series = [...new Set(rs.filter((r) => r.series !== '').map((r) => r.series))];
    const metrics = Object.keys(rs[0]!.metrics);
    for (const s of series) {
      const mine = rs.filter((r) => r.series === s);
      const byRate = new Map<number, RobustnessRecord[]>();
      for (const r of mine) byRate.set(r.rate, [...(byRate.get(r.rate) ?? []), r]);
      const startsClean = clean && Object.keys(mine[0]!.fixed ?? {}).length === 0 && !byRate.has(0);
      for (const metric of metrics) {
        const points: CurvePoint[] = [];
        if (startsClean && finite(clean.metrics[metric])) points.push({ rate: 0, mean: clean.metrics[metric], min: clean.metrics[metric], max: clean.metrics[metric], seeds: 0 });
        for (const [rate, list] of byRate) {
          const v = list.map((r) => r.metrics[metric]).filter(finite);
          if (v.length === 0) continue;
          points.push({ rate, mean: v.reduce((a, b) => a + b, 0) / v.length, min: Math.min(...v), max: Math.max(...v), seeds: v.length });
        }
        points.sort((a, b) => a.rate - b.rate);
        out.push({ data: rs[0]!.data, split: rs[0]!.split, series: s, metric, points });
      }
    }
  }
  return out;
}

/**
 * MultiBench's relative robustness (eval_scripts/robustness.py: the trapezoid area under the metric-against-noise
 * curve), divided by the rate span so curves over different ranges compare: the metric's mean over the swept rates.
 */
export function relativeRobustness(points: readonly CurvePoint[]): number {
  if (points.length < 2) return points[0]?.mean ?? Number.NaN;
  let area = 0;
  for (let i = 1; i < points.length; i++) area += ((points[i]!.mean + points[i - 1]!.mean) / 2) * (points[i]!.rate - points[i - 1]!.rate);
  return area / (points[points.length - 1]!.rate - points[0]!.rate);
}

const base = (x: string) => x.split(/[\\/]/).pop() ?? x;

/** One figure per (data, split): a panel per key metric, metric against rate, a line per series. */
export function robustnessSpecs(records: readonly RobustnessRecord[], title: string): Spec[] {
  const curves = robustnessCurves(records);
  const groups = new Map<string, Curve[]>();
  for (const c of curves) {
    const k = JSON.stringify([c.data, c.split]);
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  const specs: Spec[] = [];
  for (const cs of groups.values()) {
    const keys = keyMetricsOf([...new Set(cs.map((c) => c.metric))], 4);
    const panels = keys.map((metric) => {
      const rows = cs.filter((c) => c.metric === metric).flatMap((c) => c.points.map((p) => ({ rate: p.rate, value: p.mean, lo: p.min, hi: p.max, series: c.series, seeds: p.seeds })));
      return {
        title: `${metric} (${isErrorMetric(metric) ? 'lower' : 'higher'} is better)`,
        width: 300,
        height: 200,
        data: { values: rows },
        layer: [
          { mark: { type: 'errorbar', ticks: true }, encoding: { x: { field: 'rate', type: 'quantitative' }, y: { field: 'lo', type: 'quantitative', title: metric }, y2: { field: 'hi' }, color: { field: 'series', type: 'nominal', title: null } } },
          {
            mark: { type: 'line', point: { size: 30 }, strokeWidth: 2 },
            encoding: {
              x: { field: 'rate', type: 'quantitative', title: 'rate (missing: fraction dropped; noise: std / feature std)', scale: { nice: false } },
              y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false }, axis: { format: '.3~f' } },
              color: { field: 'series', type: 'nominal', title: null },
              tooltip: [{ field: 'series' }, { field: 'rate' }, { field: 'value', format: '.4f' }, { field: 'lo', format: '.4f', title: 'min' }, { field: 'hi', format: '.4f', title: 'max' }, { field: 'seeds' }],
            },
          },
        ],
      };
    });
    if (panels.length === 0) continue;
    const c0 = cs[0]!;
    specs.push({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: { font: FONT, background: 'white', legend: { orient: 'bottom', direction: 'vertical', labelLimit: 400, symbolType: 'stroke' }, axis: { labelFontSize: 11, titleFontSize: 11 }, title: { fontSize: 13, anchor: 'start' } },
      title: `${title}: robustness on ${base(c0.data)} [${c0.split}] (mean over perturbation seeds, bars: min..max)`,
      concat: panels,
      columns: 2,
      resolve: { scale: { y: 'independent' } },
    } as unknown as Spec);
  }
  return specs;
}
