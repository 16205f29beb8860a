// Scores a trained run on perturbed copies of a split (each condition x seed), prints the table, records the results
// in RUN_DIR/robustness.json for `mmsa report`. Phase: CLI over phase 7 (scoring); the run's model is already loaded.

import { join, resolve } from 'node:path';
import { MmsaError } from '../errors.js';
import { perturbSplit } from '../runtime/data/perturb.js';
import type { SplitData } from '../runtime/data/types.js';
import { jsonReplacer, writeFileAtomic } from '../runtime/run-dir.js';
import type { Io } from './main.js';
import { mergeRecords, readRobustness, ROBUSTNESS_FILE, seriesName, type RobustnessRecord } from '../runtime/robustness-record.js';
import { parseConditions, type Condition } from './robustness.js';
import { parseSeeds, type EvaluateCommandOptions, type TrainedRun } from './run-commands.js';

export interface RobustnessPlan {
  conditions: Condition[];
  seeds: number[];
}

/** MMSA's TFR-Net default missing_seed (config/config_regression.json). */
export const DEFAULT_PERTURB_SEED = 1111;

/** The conditions and seeds of --missing / --noise / --seeds; undefined when no perturbation is asked for. */
export function planRobustness(o: EvaluateCommandOptions): RobustnessPlan | Error | undefined {
  const conditions = parseConditions(o);
  if (conditions instanceof Error || conditions === undefined) {
    if (conditions === undefined && o.seeds !== undefined) return new Error('--seeds seeds the perturbations: give --missing or --noise with it');
    return conditions;
  }
  const seeds = parseSeeds(o.seeds);
  if (seeds instanceof Error) return seeds;
  return { conditions, seeds: seeds ?? [DEFAULT_PERTURB_SEED] };
}

const fmt = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'nan' : x.toFixed(4));

function meanOf(ms: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(ms[0] ?? {})) out[k] = ms.reduce((a, m) => a + (m[k] ?? NaN), 0) / ms.length;
  return out;
}

export function evaluateRobustness(run: TrainedRun, plan: RobustnessPlan, opts: EvaluateCommandOptions, io: Io): number {
  const { ir, data, pipeline } = run;
  const split = opts.split ?? 'test';
  const part: SplitData = data[split];
  if (Object.keys(part.labels).length === 0) {
    throw new MmsaError('MSA6706', `${opts.data ?? 'the dataset'}: split '${split}' has no labels to evaluate against`, {
      hint: `evaluation needs the label key the run was trained on (${Object.values(ir.dataset.labels).join(', ')})`,
    });
  }
  const dataName = opts.data ? resolve(io.cwd, opts.data) : ir.dataset.path ?? ir.dataset.name;
  const score = (s: SplitData) => run.runtime.evaluateSplit(ir, pipeline, s, { seed: 0, epoch: 0, shuffle: false, microBatches: run.microBatches }).metrics;
  const at = new Date().toISOString();
  const base = { data: dataName, split, n: part.n, at };
  const records: RobustnessRecord[] = [{ ...base, series: '', axis: [], rate: 0, fixed: {}, perturbations: [], seed: null, metrics: score(part) }];
  for (const c of plan.conditions) {
    for (const seed of plan.seeds) {
      const metrics = score(perturbSplit(part, c.perturbations, seed));
      records.push({ ...base, series: seriesName(c.axis, c.fixed), axis: c.axis, rate: c.rate, fixed: c.fixed, perturbations: c.perturbations, seed, metrics });
    }
  }
  const keys = Object.keys(records[0]!.metrics);
  const rows = [
    { label: 'clean', metrics: records[0]!.metrics },
    ...plan.conditions.map((c) => {
      const rs = records.filter((r) => r.seed !== null && r.perturbations === c.perturbations);
      return { label: c.perturbations.map((p) => `${p.kind} ${p.modality}=${p.rate}`).join(', '), metrics: meanOf(rs.map((r) => r.metrics)) };
    }),
  ];
  const w = Math.max(...rows.map((r) => r.label.length), 9);
  const seedsNote = plan.seeds.length > 1 ? `mean over perturbation seeds ${plan.seeds.join(', ')}` : `perturbation seed ${plan.seeds[0]}`;
  const result = { runDir: run.dir, data: dataName, split, n: part.n, seeds: plan.seeds, records };
  if (opts.out) {
    writeFileAtomic(resolve(io.cwd, opts.out), `${JSON.stringify(result, jsonReplacer, 2)}\n`, { what: 'the evaluation', elsewhere: 'pass another --out' });
    io.err(`wrote ${opts.out}\n`);
  }
  const path = join(run.dir, ROBUSTNESS_FILE);
  writeFileAtomic(path, `${JSON.stringify(mergeRecords(readRobustness(run.dir), records), jsonReplacer, 1)}\n`, { what: 'the robustness record', elsewhere: 'make the run directory writable' });
  if ((opts.format ?? 'text') === 'json') io.out(`${JSON.stringify(result, jsonReplacer, 2)}\n`);
  else {
    io.out(
      `${ir.pipeline} (${run.dir}) on ${dataName} [${split}, ${part.n} samples], ${seedsNote}\n` +
        `  ${'condition'.padEnd(w)}  ${keys.map((k) => k.padStart(Math.max(8, k.length))).join('  ')}\n` +
        rows.map((r) => `  ${r.label.padEnd(w)}  ${keys.map((k) => fmt(r.metrics[k]).padStart(Math.max(8, k.length))).join('  ')}`).join('\n') +
        '\n',
    );
  }
  io.err(`recorded in ${path} (\`mmsa report ${run.dir}\` plots metric against rate)\n`);
  return 0;
}
