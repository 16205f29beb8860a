// Aggregation of per-seed test results into MMSA's table cells: mean and population std (ddof 0) per key, and the
// CSV cell (round(mean*100, 2), round(std*100, 2)) with numpy rounding. Phase 7 (execute) / 8 (report).

import { MmsaError } from '../../errors.js';
import { meanFloat64, numpyRound } from './numeric.js';

export interface SeedAggregate {
  mean: number;
  /** Population standard deviation (numpy's default ddof = 0). */
  std: number;
  /** MMSA's CSV cell: [round(mean*100, 2), round(std*100, 2)]. */
  cell: [number, number];
}

/**
 * Aggregate the result dicts of several seeds, key by key, in the key order of the first result (as MMSA does).
 * Every result must carry the same keys.
 */
export function aggregateSeeds(results: readonly Record<string, number>[]): Record<string, SeedAggregate> {
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
  const out: Record<string, SeedAggregate> = {};
  for (const k of keys) {
    const values = Float64Array.from(results, (r) => r[k]!);
    const mean = meanFloat64(values);
    // np.std: sqrt(mean(|x - mean|^2)) with the same pairwise sums
    const sq = Float64Array.from(values, (v) => (v - mean) * (v - mean));
    const std = Math.sqrt(meanFloat64(sq));
    out[k] = { mean, std, cell: [numpyRound(mean * 100, 2), numpyRound(std * 100, 2)] };
  }
  return out;
}
