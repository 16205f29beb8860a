// Aggregation of per-seed test results into table cells: mean and population std (ddof 0) per key, and the cell
// MMSA's run.py writes for its own metric sets (round(mean*100, 2), round(std*100, 2)), numpy rounding; other metric
// sets (custom datasets) are not scaled. Phase 7 (execute) / 8 (report).

import { MmsaError } from '../../errors.js';
import { meanFloat64, numpyRound } from './numeric.js';
import { METRIC_SETS, METRICS, metricKey } from './registry.js';

/** The factor a table shows a result with: 100 as MMSA's tables for MMSA's metric sets, 1 otherwise. */
export type TableScale = 100 | 1;

export interface SeedAggregate {
  mean: number;
  /** Population standard deviation (numpy's default ddof = 0). */
  std: number;
  /** The table cell [mean, std] times `scale`: MMSA's [round(mean*100, 2), round(std*100, 2)], else rounded to 4. */
  cell: [number, number];
  /** 100 when the results are one of MMSA's metric sets (MMSA's result tables are x100), 1 otherwise. */
  scale?: TableScale;
}

/** Result keys of MMSA's own metric sets (MOSI/MOSEI, SIMS/SIMSv2), which MMSA's result tables show x100. */
const MMSA_TABLE_KEYS: string[][] = (['mosi', 'sims'] as const).map((s) => METRIC_SETS[s].map((n) => metricKey(METRICS.get(n)!)));

/**
 * The scale of a result table over these keys: 100 when they are exactly one of MMSA's metric sets (plus `Loss`),
 * as MMSA's run.py and results tables multiply every column by 100; 1 for any other set (a custom dataset's MAE of
 * 4.31 stays 4.31).
 */
export function tableScale(keys: readonly string[]): TableScale {
  const k = keys.filter((x) => x !== 'Loss');
  return MMSA_TABLE_KEYS.some((set) => set.length === k.length && set.every((x) => k.includes(x))) ? 100 : 1;
}

/**
 * Aggregate the result dicts of several seeds, key by key, in the key order of the first result (as MMSA does).
 * Every result must carry the same keys.
 */
export function aggregateSeeds(results: readonly Record<string, number>[], opts: { scale?: TableScale } = {}): Record<string, SeedAggregate> {
  const first = results[0];
  if (first === undefined) {
    throw new MmsaError('MSA6604', 'aggregateSeeds: no results to aggregate', { hint: 'run at least one seed' });
  }
  const keys = Object.keys(first);
  results.forEach((r, i) => {
    const missing = keys.filter((k) => !(k in r));
    const extra = Object.keys(r).filter((k) => !(k in first));
    if (missing.length > 0 || extra.length > 0) {
      throw new MmsaError('MSA6604', `aggregateSeeds: results[${i}] has different keys from results[0]`, {
        hint: 'every seed must report the same metrics',
        details: { path: `results[${i}]`, missing, extra },
      });
    }
  });
  const scale = opts.scale ?? tableScale(keys);
  const out: Record<string, SeedAggregate> = {};
  for (const k of keys) {
    const values = Float64Array.from(results, (r) => r[k]!);
    const mean = meanFloat64(values);
    // np.std: sqrt(mean(|x - mean|^2)) with the same pairwise sums
    const sq = Float64Array.from(values, (v) => (v - mean) * (v - mean));
    const std = Math.sqrt(meanFloat64(sq));
    const cell: [number, number] = scale === 100 ? [numpyRound(mean * 100, 2), numpyRound(std * 100, 2)] : [numpyRound(mean, 4), numpyRound(std, 4)];
    out[k] = { mean, std, cell, scale };
  }
  return out;
}
