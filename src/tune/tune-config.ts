// The resolved `tune:` section of a compiled spec (space, strategy, budget, seeds per trial, objective with its
// direction) and how `mmsa plan` prints it. Phase 4-5 output; no tfjs.

import { defaultMode } from '../compiler/spec/normalize-spec.js';
import type { PipelineSpec } from '../compiler/spec/types.generated.js';
import { describeDistribution, gridSize, resolveSpace, type SpaceParam } from './space.js';

export type Strategy = 'grid' | 'random' | 'tpe';

export interface TuneConfig {
  params: SpaceParam[];
  strategy: Strategy;
  tpe: { startup: number; candidates: number; gamma: number };
  budget: { trials?: number; minutes?: number };
  /** Seeds every trial trains with; the objective is their mean. */
  seeds: number[];
  /** `metric` as written; `key` as results name it (`loss` -> `Loss`); `mode` from the metric. */
  objective: { metric: string; key: string; split: 'valid'; mode: 'min' | 'max' };
  /** Seed of the strategy's own draws. */
  seed: number;
}

/** Whether a metric is minimised or maximised: losses and errors down, accuracies, F1 and correlation up. */
export function metricDirection(metric: string): 'min' | 'max' {
  return defaultMode(metric);
}

/** The tune section of a compiled (checked) spec, or undefined when it has none. */
export function resolveTune(spec: PipelineSpec): TuneConfig | undefined {
  const t = spec.tune;
  if (!t) return undefined;
  const metric = t.objective.metric;
  return {
    params: resolveSpace(t.space).params,
    strategy: t.strategy,
    tpe: { startup: t.tpe.startup, candidates: t.tpe.candidates, gamma: t.tpe.gamma },
    budget: { ...(t.budget.trials !== undefined ? { trials: t.budget.trials } : {}), ...(t.budget.minutes !== undefined ? { minutes: t.budget.minutes } : {}) },
    seeds: t.seeds ?? [spec.seeds[0]!],
    objective: { metric, key: metric.toLowerCase() === 'loss' ? 'Loss' : metric, split: 'valid', mode: metricDirection(metric) },
    seed: t.seed,
  };
}

/** Trials the search will run at most (grid: the grid, capped by budget.trials); undefined when only time bounds it. */
export function plannedTrials(cfg: TuneConfig): number | undefined {
  const grid = cfg.strategy === 'grid' ? gridSize(cfg.params) : undefined;
  if (grid !== undefined) return cfg.budget.trials !== undefined ? Math.min(grid, cfg.budget.trials) : grid;
  return cfg.budget.trials;
}

/** The `tune` block of `mmsa plan`. */
export function printTunePlan(cfg: TuneConfig): string {
  const L: string[] = ['tune'];
  const strategy = cfg.strategy === 'tpe' ? `tpe (startup ${cfg.tpe.startup}, candidates ${cfg.tpe.candidates}, gamma ${cfg.tpe.gamma})` : cfg.strategy;
  L.push(`  strategy: ${strategy}, seed ${cfg.seed}`);
  const planned = plannedTrials(cfg);
  const budget = [planned !== undefined ? `${planned} trials` : undefined, cfg.budget.minutes !== undefined ? `${cfg.budget.minutes} min` : undefined].filter(Boolean).join(', ');
  L.push(`  budget: ${budget}`);
  if (cfg.strategy === 'grid') L.push(`  grid: ${gridSize(cfg.params) ?? '-'} settings`);
  L.push(`  seeds per trial: ${cfg.seeds.join(', ')}`);
  L.push(`  objective: ${cfg.objective.mode === 'min' ? 'minimise' : 'maximise'} ${cfg.objective.key} on valid (at the selected epoch, mean over the trial's seeds)`);
  L.push('  after the search: the best setting is written as best.yaml and tested once on the test split');
  L.push('  space');
  const w = Math.max(...cfg.params.map((p) => p.name.length), 4);
  for (const p of cfg.params) {
    L.push(`    ${p.name.padEnd(w)}  ${describeDistribution(p.dist)}`);
    if (p.joint) L.push(`    ${''.padEnd(w)}  sets ${p.paths.map((x) => x.text).join(', ')}`);
  }
  return `${L.join('\n')}\n`;
}
