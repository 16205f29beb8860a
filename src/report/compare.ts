// `mmsa compare`: finished seed runs grouped into rows of model x dataset with their metric columns as mean +- std
// over seeds (x100 where MMSA's result tables are: its own metric sets), sorted by a chosen metric, the best per
// column marked.
// Phase 8 (report).

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { modelOfPipeline } from '../core/datasets.js';
import { metricDirection } from '../core/metrics.js';
import { MmsaError } from '../errors.js';
import type { SeedResult } from '../runtime/events.js';
import { tableScale } from '../runtime/metrics/aggregate.js';
import { csvCell, readJson, readManifest, type RunManifest } from '../runtime/run-dir.js';
import { scaledHeader } from './table-scale.js';
import { describeRunState } from '../runtime/run-liveness.js';

export interface SeedRun {
  dir: string;
  pipeline: string;
  specHash: string;
  dataset: string;
  seed: number;
  test: Record<string, number>;
}

export interface CompareRow {
  model: string;
  pipeline: string;
  specHash: string;
  dataset: string;
  seeds: number[];
  /** Per metric: mean and population std over the seeds (raw, not x100). */
  cells: Record<string, { mean: number; std: number }>;
}

export interface Comparison {
  metrics: string[];
  rows: CompareRow[];
  /** Per dataset and metric: the model (row index) with the best mean. */
  best: Record<string, Record<string, number>>;
  sortBy: string;
  /** Per metric: 100 when every row with it reports one of MMSA's metric sets (shown x100 as MMSA's tables), else 1. */
  scales: Record<string, 100 | 1>;
}

/** Whether a metric key ranks lower-is-better (errors, the loss), from the metric catalog. */
export function lowerIsBetter(key: string): boolean {
  return metricDirection(key) === 'min';
}

/** `self_mm_mosi` -> `self_mm`; a pipeline not named after its dataset keeps its name. */
export function modelName(pipeline: string): string {
  return modelOfPipeline(pipeline);
}

function globToRegex(seg: string): RegExp {
  return new RegExp(`^${seg.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
}

/** Expands `*`, `?` and `**` in a path (shells usually expand globs; quoted ones reach us). */
export function expandGlob(pattern: string, cwd: string): string[] {
  const abs = resolve(cwd, pattern);
  if (!/[*?]/.test(pattern)) return existsSync(abs) ? [abs] : [];
  const segs = abs.split(sep);
  let cur: string[] = [segs[0] === '' ? sep : segs[0]!];
  for (const seg of segs.slice(1)) {
    if (seg === '') continue;
    const next: string[] = [];
    for (const base of cur) {
      if (seg === '**') {
        const stack = [base];
        while (stack.length) {
          const d = stack.pop()!;
          next.push(d);
          for (const c of safeList(d)) if (isDir(join(d, c))) stack.push(join(d, c));
        }
      } else if (/[*?]/.test(seg)) {
        const re = globToRegex(seg);
        for (const c of safeList(base)) if (re.test(c)) next.push(join(base, c));
      } else if (existsSync(join(base, seg))) next.push(join(base, seg));
    }
    cur = [...new Set(next)];
  }
  return cur.sort();
}

function safeList(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A completed seed run, or undefined (running, failed or not a run directory). */
export function readSeedRun(dir: string): SeedRun | undefined {
  const m: RunManifest | undefined = readManifest(dir);
  if (!m || m.status !== 'completed' || !existsSync(join(dir, 'results.json'))) return undefined;
  const r = readJson<SeedResult>(join(dir, 'results.json'));
  return { dir, pipeline: m.pipeline, specHash: m.specHash, dataset: m.dataset.name, seed: m.seed, test: r.test };
}

/**
 * Every completed seed run under the arguments: a run directory, a directory of them (runs/<pipeline>) or of those
 * (runs/), or a glob. Unknown paths are errors; directories without completed runs are skipped.
 */
export function collectSeedRuns(args: string[], cwd: string): { runs: SeedRun[]; skipped: string[]; why: Record<string, string> } {
  const runs = new Map<string, SeedRun>();
  const skipped: string[] = [];
  const why: Record<string, string> = {};
  for (const a of args) {
    const paths = expandGlob(a, cwd);
    if (paths.length === 0) throw new MmsaError('MSA6720', `${a}: no such run directory (nothing matches)`, { hint: 'pass run directories (runs/<pipeline>/<hash>-<seed>), runs/<pipeline>, runs/ or a quoted glob like "runs/*/*"' });
    for (const p of paths) {
      const visit = (d: string, depth: number) => {
        if (!isDir(d)) return;
        if (existsSync(join(d, 'manifest.json'))) {
          const r = readSeedRun(d);
          if (r) runs.set(r.dir, r);
          else {
            skipped.push(d);
            const m = readManifest(d);
            why[d] = m ? describeRunState(m) : 'manifest.json does not parse';
          }
          return;
        }
        if (depth === 0) return;
        for (const c of safeList(d).sort()) if (!c.startsWith('.')) visit(join(d, c), depth - 1);
      };
      visit(p, 2);
    }
  }
  return { runs: [...runs.values()], skipped, why };
}

function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  return { mean, std };
}

export function compareRuns(runs: SeedRun[], sortBy?: string): Comparison {
  const groups = new Map<string, SeedRun[]>();
  for (const r of runs) {
    const k = `${r.pipeline}\u0000${r.specHash}\u0000${r.dataset}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const metrics: string[] = [];
  for (const r of runs) for (const k of Object.keys(r.test)) if (!metrics.includes(k)) metrics.push(k);
  // Two spec hashes of one pipeline are different experiments: tell them apart in the model column.
  const hashesPer = new Map<string, Set<string>>();
  for (const r of runs) hashesPer.set(r.pipeline, (hashesPer.get(r.pipeline) ?? new Set()).add(r.specHash));
  const rows: CompareRow[] = [...groups.values()].map((g) => {
    const f = g[0]!;
    const cells: CompareRow['cells'] = {};
    for (const k of metrics) {
      const xs = g.map((r) => r.test[k]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
      if (xs.length > 0) cells[k] = meanStd(xs);
    }
    const model = modelName(f.pipeline) + (hashesPer.get(f.pipeline)!.size > 1 ? `@${f.specHash.slice(0, 6)}` : '');
    return { model, pipeline: f.pipeline, specHash: f.specHash, dataset: f.dataset, seeds: g.map((r) => r.seed).sort((a, b) => a - b), cells };
  });
  const key = sortBy ?? metrics.find((m) => !lowerIsBetter(m)) ?? metrics[0] ?? '';
  if (sortBy !== undefined && !metrics.includes(sortBy)) {
    throw new MmsaError('MSA6721', `--sort: no metric '${sortBy}' in these runs`, { hint: `metrics: ${metrics.join(', ')}` });
  }
  const sign = lowerIsBetter(key) ? 1 : -1;
  rows.sort((a, b) => a.dataset.localeCompare(b.dataset) || sign * ((a.cells[key]?.mean ?? Infinity * -sign) - (b.cells[key]?.mean ?? Infinity * -sign)) || a.model.localeCompare(b.model));
  const best: Comparison['best'] = {};
  rows.forEach((r, i) => {
    const b = (best[r.dataset] ??= {});
    for (const k of metrics) {
      const c = r.cells[k];
      if (!c) continue;
      const j = b[k];
      const cur = j === undefined ? undefined : rows[j]!.cells[k]!.mean;
      if (cur === undefined || (lowerIsBetter(k) ? c.mean < cur : c.mean > cur)) b[k] = i;
    }
  });
  // A column is x100 only when all of its rows are MMSA metric sets: a custom dataset's MAE is never scaled.
  const scales: Record<string, 100 | 1> = {};
  for (const k of metrics) {
    const withK = [...groups.values()].filter((g) => k in g[0]!.test);
    scales[k] = withK.every((g) => tableScale(Object.keys(g[0]!.test)) === 100) ? 100 : 1;
  }
  return { metrics, rows, best, sortBy: key, scales };
}

const num = (x: number, scale: 100 | 1) => (scale === 100 ? (x * 100).toFixed(2) : x.toFixed(4));

export function cellText(c: { mean: number; std: number } | undefined, scale: 100 | 1 = 100): string {
  return c ? `${num(c.mean, scale)} +- ${num(c.std, scale)}` : '';
}

function scaleNote(c: Comparison): string {
  const scaled = c.metrics.filter((k) => c.scales[k] === 100);
  if (scaled.length === 0) return '';
  return scaled.length === c.metrics.length ? 'x100 (as MMSA\'s tables), ' : 'columns marked (x100) are x100 as MMSA\'s tables, ';
}

export function formatMarkdown(c: Comparison): string {
  const head = ['Model', 'Dataset', 'Seeds', ...c.metrics.map((k) => scaledHeader(k, c.scales[k] ?? 1))];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
  c.rows.forEach((r, i) => {
    const cells = c.metrics.map((k) => {
      const t = cellText(r.cells[k], c.scales[k] ?? 1);
      return t && c.best[r.dataset]?.[k] === i ? `**${t}**` : t;
    });
    lines.push(`| ${[r.model, r.dataset, String(r.seeds.length), ...cells].join(' | ')} |`);
  });
  return `${lines.join('\n')}\n\n${scaleNote(c)}mean +- std over seeds; **bold**: best per dataset and column; sorted by ${c.sortBy}.\n`;
}

/** MMSA-like cells "(mean, std)" (x100 where the header says so); the best per dataset and column carries a '*'. */
export function formatCsv(c: Comparison): string {
  const lines = [['Model', 'Dataset', 'Seeds', ...c.metrics.map((k) => csvCell(scaledHeader(k, c.scales[k] ?? 1)))].join(',')];
  c.rows.forEach((r, i) => {
    const cells = c.metrics.map((k) => {
      const x = r.cells[k];
      if (!x) return '';
      const s = c.scales[k] ?? 1;
      return csvCell(`(${num(x.mean, s)}, ${num(x.std, s)})${c.best[r.dataset]?.[k] === i ? '*' : ''}`);
    });
    lines.push([csvCell(r.model), csvCell(r.dataset), String(r.seeds.length), ...cells].join(','));
  });
  return `${lines.join('\n')}\n`;
}

export function formatJson(c: Comparison): string {
  const rows = c.rows.map((r, i) => ({
    model: r.model,
    pipeline: r.pipeline,
    specHash: r.specHash,
    dataset: r.dataset,
    seeds: r.seeds,
    metrics: Object.fromEntries(Object.entries(r.cells).map(([k, v]) => [k, { mean: v.mean, std: v.std, best: c.best[r.dataset]?.[k] === i }])),
  }));
  return `${JSON.stringify({ sortBy: c.sortBy, metrics: c.metrics, scales: c.scales, rows }, null, 2)}\n`;
}
