// Search strategies: grid, random and TPE (Tree-structured Parzen Estimator, Bergstra et al. 2011, independent per
// parameter as hyperopt's tpe.suggest). Deterministic from the search seed, the trial's index and the finished trials.
// Phase: tune driver; no tfjs. We keep our own TPE: npm's `hyperparameters` lists a Bayesian search but ships random only.

import type { JsonValue } from '../compiler/spec/spec-tree.js';
import { deriveSeed, Rng } from '../runtime/random.js';
import { gridValues, type Distribution, type SpaceParam } from './space.js';
import type { TuneConfig } from './tune-config.js';

/** Parameter name -> drawn value. */
export type Setting = Record<string, JsonValue>;

/** A finished trial as the strategy sees it: lower `loss` is better (the objective, negated when maximised). */
export interface Observation {
  setting: Setting;
  loss: number;
}

export interface Strategy {
  /** How many settings the strategy can give at most (grid size), or undefined. */
  readonly size: number | undefined;
  /** The setting of trial `index` (0-based) given the trials finished so far; undefined when exhausted. */
  propose(index: number, finished: readonly Observation[]): Setting | undefined;
}

function drawOne(d: Distribution, rng: Rng): JsonValue {
  switch (d.kind) {
    case 'choice':
      return d.values[Math.min(d.values.length - 1, Math.floor(rng.nextFloat() * d.values.length))]!;
    case 'int':
      return d.low + Math.min(d.high - d.low, Math.floor(rng.nextFloat() * (d.high - d.low + 1)));
    case 'uniform':
      return rng.uniform(d.low, d.high);
    case 'loguniform':
      return Math.exp(rng.uniform(Math.log(d.low), Math.log(d.high)));
  }
}

function randomSetting(params: readonly SpaceParam[], rng: Rng): Setting {
  const s: Setting = {};
  for (const p of params) s[p.name] = drawOne(p.dist, rng);
  return s;
}

export function createStrategy(cfg: TuneConfig): Strategy {
  const params = cfg.params;
  if (cfg.strategy === 'grid') {
    const values = params.map((p) => gridValues(p.dist) ?? []);
    const total = values.reduce((n, v) => n * v.length, 1);
    const at = (k: number): Setting => {
      const s: Setting = {};
      // The last parameter varies fastest.
      for (let i = params.length - 1; i >= 0; i--) {
        const v = values[i]!;
        s[params[i]!.name] = v[k % v.length]!;
        k = Math.floor(k / v.length);
      }
      return Object.fromEntries(params.map((p) => [p.name, s[p.name]!]));
    };
    // A grid cut short by budget.trials is visited in a seeded order, so the trials spread over the whole grid.
    const order = Array.from({ length: total }, (_, i) => i);
    if (cfg.budget.trials !== undefined && cfg.budget.trials < total) {
      const rng = new Rng(deriveSeed(cfg.seed, 'grid'));
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rng.nextFloat() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
    }
    return { size: total, propose: (index) => (index < total ? at(order[index]!) : undefined) };
  }
  if (cfg.strategy === 'random') {
    return { size: undefined, propose: (index) => randomSetting(params, new Rng(deriveSeed(cfg.seed, 'random', index))) };
  }
  return {
    size: undefined,
    propose(index, finished) {
      const rng = new Rng(deriveSeed(cfg.seed, 'tpe', index));
      const usable = finished.filter((o) => Number.isFinite(o.loss));
      if (usable.length < cfg.tpe.startup) return randomSetting(params, rng);
      const sorted = [...usable].sort((a, b) => a.loss - b.loss);
      const nGood = Math.max(1, Math.ceil(cfg.tpe.gamma * sorted.length));
      const good = sorted.slice(0, nGood).map((o) => o.setting);
      const bad = sorted.slice(nGood).map((o) => o.setting);
      const s: Setting = {};
      for (const p of params) s[p.name] = proposeTpe(p, good.map((g) => g[p.name]!), bad.map((b) => b[p.name]!), cfg.tpe.candidates, rng);
      return s;
    },
  };
}

/** Draws `candidates` values from the good trials' density l(x) and keeps the one with the largest l(x) / g(x). */
function proposeTpe(p: SpaceParam, good: JsonValue[], bad: JsonValue[], candidates: number, rng: Rng): JsonValue {
  const d = p.dist;
  if (d.kind === 'choice') {
    const key = (v: JsonValue) => JSON.stringify(v);
    const idx = new Map(d.values.map((v, i) => [key(v), i] as const));
    // A prior weight of one per value keeps every value possible (hyperopt's categorical posterior).
    const weights = (obs: JsonValue[]) => {
      const w = d.values.map(() => 1);
      for (const o of obs) {
        const i = idx.get(key(o));
        if (i !== undefined) w[i]! += 1;
      }
      const sum = w.reduce((a, b) => a + b, 0);
      return w.map((x) => x / sum);
    };
    const l = weights(good);
    const g = weights(bad);
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < candidates; c++) {
      let u = rng.nextFloat();
      let i = 0;
      while (i < l.length - 1 && u >= l[i]!) u -= l[i++]!;
      const score = Math.log(l[i]!) - Math.log(g[i]!);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    return d.values[best]!;
  }
  // Numbers: Parzen windows in the parameter's own space (log for loguniform), truncated to the range.
  const log = d.kind === 'loguniform';
  const to = (v: number) => (log ? Math.log(v) : v);
  const lo = to(d.kind === 'int' ? d.low - 0.5 : d.low);
  const hi = to(d.kind === 'int' ? d.high + 0.5 : d.high);
  const l = parzen(good.map((v) => to(Number(v))), lo, hi);
  const g = parzen(bad.map((v) => to(Number(v))), lo, hi);
  let best = l.sample(rng);
  let bestScore = -Infinity;
  for (let c = 0; c < candidates; c++) {
    const x = l.sample(rng);
    const score = l.logPdf(x) - g.logPdf(x);
    if (score > bestScore) {
      bestScore = score;
      best = x;
    }
  }
  const v = log ? Math.exp(best) : best;
  if (d.kind === 'int') return Math.min(d.high, Math.max(d.low, Math.round(v)));
  return Math.min(d.high, Math.max(d.low, v));
}

interface Density {
  sample(rng: Rng): number;
  logPdf(x: number): number;
}

/**
 * A mixture of Gaussians, one per observation plus a wide prior at the range's centre; each bandwidth is the larger
 * distance to its sorted neighbours, clipped to [range / min(100, n + 1), range] (hyperopt's adaptive Parzen).
 */
function parzen(xs: number[], lo: number, hi: number): Density {
  const width = hi - lo;
  const mus = [...xs, (lo + hi) / 2].sort((a, b) => a - b);
  const sigmas = mus.map((m, i) => {
    const left = i > 0 ? m - mus[i - 1]! : m - lo;
    const right = i < mus.length - 1 ? mus[i + 1]! - m : hi - m;
    return Math.min(width, Math.max(width / Math.min(100, mus.length), Math.max(left, right)));
  });
  const prior = mus.indexOf((lo + hi) / 2);
  if (prior >= 0) sigmas[prior] = width;
  const w = 1 / mus.length;
  const cdf = (x: number, m: number, s: number) => 0.5 * (1 + erf((x - m) / (s * Math.SQRT2)));
  const mass = mus.map((m, i) => Math.max(1e-12, cdf(hi, m, sigmas[i]!) - cdf(lo, m, sigmas[i]!)));
  return {
    sample(rng) {
      const k = Math.min(mus.length - 1, Math.floor(rng.nextFloat() * mus.length));
      for (let tries = 0; tries < 100; tries++) {
        const x = mus[k]! + sigmas[k]! * rng.normal();
        if (x >= lo && x <= hi) return x;
      }
      return Math.min(hi, Math.max(lo, mus[k]!));
    },
    logPdf(x) {
      let p = 0;
      for (let i = 0; i < mus.length; i++) {
        const s = sigmas[i]!;
        const z = (x - mus[i]!) / s;
        p += (w * Math.exp(-0.5 * z * z)) / (s * Math.sqrt(2 * Math.PI) * mass[i]!);
      }
      return Math.log(Math.max(p, 1e-300));
    },
  };
}

/** Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7), enough for truncation masses. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}
