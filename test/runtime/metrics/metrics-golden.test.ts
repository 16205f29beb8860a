import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computeMetrics, type DatasetName } from '../../../src/runtime/metrics/index.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures');

interface GoldenCase {
  name: string;
  dataset: DatasetName;
  pred: number[];
  true: number[];
  expected: Record<string, number>;
}

const golden = JSON.parse(readFileSync(resolve(FIXTURES, 'golden/metrics.json'), 'utf8')) as { cases: GoldenCase[] };

describe('metrics golden (reference metricsTop.py output)', () => {
  it('has all 48 cases', () => {
    expect(golden.cases).toHaveLength(48);
  });

  for (const c of golden.cases) {
    it(`${c.name} (${c.dataset}, n=${c.pred.length})`, () => {
      const got = computeMetrics(c.dataset, c.pred, c.true);
      // same keys in the same order, every value exactly equal after rounding
      expect(Object.keys(got)).toEqual(Object.keys(c.expected));
      expect(got).toEqual(c.expected);
    });
  }
});

describe('golden vectors of MMSA\'s utils/metricsTop.py', () => {
  it('MOSI-style vector', () => {
    const t = [2.4, -0.6, 0.0, 1.8, -2.8, 0.0, 3.0, -1.4, 0.4, -0.2, 1.0, -3.0];
    const p = [1.9, -0.2, 0.3, 2.6, -1.5, -0.1, 2.2, -1.6, -0.3, 0.1, 0.45, -2.7];
    expect(computeMetrics('mosi', p, t)).toEqual({
      Has0_acc_2: 0.75,
      Has0_F1_score: 0.7517,
      Non0_acc_2: 0.8,
      Non0_F1_score: 0.8,
      Mult_acc_5: 0.75,
      Mult_acc_7: 0.5,
      MAE: 0.5208,
      Corr: 0.9448,
    });
    expect(computeMetrics('mosei', p, t)).toEqual(computeMetrics('mosi', p, t));
  });

  it('SIMS-style vector', () => {
    const t = [-1.0, -0.8, -0.2, 0.0, 0.2, 0.6, 0.8, 1.0, -0.4, 0.0];
    const p = [-0.9, -0.5, 0.05, -0.05, 0.3, 0.75, 0.1, 1.3, -0.65, 0.12];
    const expected = { Mult_acc_2: 0.8, Mult_acc_3: 0.7, Mult_acc_5: 0.5, F1_score: 0.8, MAE: 0.202, Corr: 0.896 };
    expect(computeMetrics('sims', p, t)).toEqual(expected);
    expect(computeMetrics('simsv2', Float32Array.from(p), Float32Array.from(t))).toEqual(expected);
  });

  it('rounding tie check: Mult_acc_7 is 0.75 with half-to-even (0.5 with half-away-from-zero)', () => {
    const got = computeMetrics('mosi', [0.5, 2.5, -0.5, -1.5], [1, 2, 0, -2]);
    expect(got.Mult_acc_7).toBe(0.75);
  });

  it('float32(0.1) falls in the (-0.1, 0.1] SIMS bin, float32(0.1000001) does not', () => {
    const r1 = computeMetrics(['sims/Mult_acc_3'], [0.1], [0.0]);
    expect(r1.Mult_acc_3).toBe(1);
    const r2 = computeMetrics(['sims/Mult_acc_3'], [0.1000001], [0.0]);
    expect(r2.Mult_acc_3).toBe(0);
    // and -0.1 is in the lowest 3-class bin (<= -0.1)
    expect(computeMetrics(['sims/Mult_acc_3'], [-0.1], [-0.5]).Mult_acc_3).toBe(1);
  });
});
