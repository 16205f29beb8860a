// `mmsa data stats`: split sizes, label distributions, sequence lengths, non-finite counts, per-dimension scale and
// the unnormalised-feature warning, on small MMSA-layout pickles written here. Phase 7 tooling.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MmsaError } from '../../../src/errors.js';
import { datasetStats, distributionOf, formatStats, normalizeSnippet } from '../../../src/runtime/data/dataset-stats.js';
import { int64Array, ndarray, writePickleFile, type PyWritable } from '../../../src/runtime/data/pickle/write-pickle.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsa-stats-'));

/** A split of n samples: audio [n, 5, 2] in Hz-like units (dim 0 ~ 120), vision [n, 5, 3] near unit scale. */
function split(n: number, o: { nanAt?: number; labels: number[] }): Record<string, PyWritable> {
  const T = 5;
  const audio = new Float32Array(n * T * 2);
  const vision = new Float32Array(n * T * 3);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < T; t++) {
      audio[(i * T + t) * 2] = 100 + 10 * i + t;
      audio[(i * T + t) * 2 + 1] = 60 - i;
      for (let j = 0; j < 3; j++) vision[(i * T + t) * 3 + j] = j === 2 ? 0.25 : Math.sin(i + t + j);
    }
  }
  if (o.nanAt !== undefined) vision[o.nanAt] = Number.NaN;
  return {
    id: Array.from({ length: n }, (_, i) => `s${i}`),
    raw_text: Array.from({ length: n }, () => 'words'),
    audio: ndarray(audio, [n, T, 2]),
    audio_lengths: int64Array(Array.from({ length: n }, (_, i) => [0, 2, 5, 5][i % 4]!)),
    vision: ndarray(vision, [n, T, 3]),
    regression_labels: ndarray(Float32Array.from(o.labels), [n]),
    annotations: Array.from({ length: n }, () => 'x'),
  };
}

describe('datasetStats', () => {
  const file = join(dir, 'small.pkl');
  writePickleFile(file, { train: split(8, { labels: [0, 3, 3, 10, 24, 12, 3, 0] }), valid: split(4, { labels: [1, 2, 3, 4], nanAt: 7 }), test: split(4, { labels: [5, 5, 5, 5] }) });

  it('counts splits, bins integer labels per value and summarises lengths (zero = samples without frames)', async () => {
    const r = await datasetStats(file);
    expect(r.splits).toEqual({ train: 8, valid: 4, test: 4 });
    const l = r.labels.find((x) => x.key === 'regression_labels')!;
    expect(l.splits.train!.bins).toEqual([
      { lo: 0, hi: 0, count: 2 }, { lo: 3, hi: 3, count: 3 }, { lo: 10, hi: 10, count: 1 }, { lo: 12, hi: 12, count: 1 }, { lo: 24, hi: 24, count: 1 },
    ]);
    expect(l.splits.test).toMatchObject({ n: 4, min: 5, max: 5, mean: 5, std: 0 });
    const audio = r.features.find((f) => f.key === 'audio')!;
    expect(audio).toMatchObject({ kind: 'sequence', shape: [5, 2], lengthsKey: 'audio_lengths' });
    expect(audio.splits.train!.lengths).toEqual({ min: 0, median: 5, p90: 5, max: 5, zero: 2 });
    // Not features: ids, raw text, annotations, labels and the lengths themselves.
    expect(r.features.map((f) => f.key).sort()).toEqual(['audio', 'vision']);
  });

  it('counts NaN per split and warns; a constant dimension and unnormalised audio are named with the fix', async () => {
    const r = await datasetStats(file);
    const vision = r.features.find((f) => f.key === 'vision')!;
    expect(vision.splits.valid).toMatchObject({ nan: 1, posInf: 0, negInf: 0 });
    expect(vision.splits.train).toMatchObject({ nan: 0 });
    expect(vision.scale!.constantDims).toBe(1);
    expect(r.warnings.join('\n')).toMatch(/vision \(valid\): 1 NaN/);
    expect(r.warnings.join('\n')).toMatch(/vision: 1 of 3 dimensions are constant/);
    expect(r.normalize).toEqual(['audio']);
    const audio = r.features.find((f) => f.key === 'audio')!;
    expect(audio.scale!.unnormalised).toBe(true);
    // Statistics over valid frames only: sample 0 has length 0 and is left out of the train mean.
    expect(audio.scale!.mean[1]).toBeLessThan(60);
    const text = formatStats(r);
    expect(text).toContain('UNNORMALISED');
    expect(text).toContain(normalizeSnippet(['audio']).split('\n')[1]!.trim());
  });

  it('an empty train split is MSA6027', async () => {
    const empty = join(dir, 'empty.pkl');
    writePickleFile(empty, { train: split(0, { labels: [] }), valid: split(2, { labels: [1, 2] }), test: split(2, { labels: [1, 2] }) });
    await expect(datasetStats(empty)).rejects.toThrow(MmsaError);
    await expect(datasetStats(empty)).rejects.toThrow(/the train split is empty/);
  });

  it('distributionOf: 10 equal bins for fractional values, NaN left out', () => {
    const d = distributionOf([0, 0.5, 1, Number.NaN]);
    expect(d.n).toBe(3);
    expect(d.bins).toHaveLength(10);
    expect(d.bins.reduce((a, b) => a + b.count, 0)).toBe(3);
  });
});
