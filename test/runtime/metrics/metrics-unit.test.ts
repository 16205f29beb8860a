import { describe, expect, it } from 'vitest';
import { MmsaError } from '../../../src/errors.js';
import {
  accuracy,
  aggregateSeeds,
  binaryF1,
  computeMetrics,
  defaultKeyEval,
  initialBest,
  isImprovement,
  macroF1,
  METRIC_SETS,
  METRICS,
  numpyRound,
  pearson,
  roundHalfEven,
  weightedF1,
} from '../../../src/runtime/metrics/index.js';
import { meanFloat32, sumFloat32 } from '../../../src/runtime/metrics/numeric.js';

describe('numpy rounding', () => {
  it('rint is half to even, keeping the sign of zero', () => {
    expect([0.5, 1.5, 2.5, -1.5, -2.5, 3.5, 0.49999999999999994].map(roundHalfEven)).toEqual([0, 2, 2, -2, -2, 4, 0]);
    expect(Object.is(roundHalfEven(-0.5), -0)).toBe(true);
    expect(Object.is(roundHalfEven(-0.4), -0)).toBe(true);
    expect(roundHalfEven(Number.NaN)).toBeNaN();
  });

  it('round(x, 4) multiplies in float64 then rounds half to even (differs from decimal rounding)', () => {
    // numpy: round(np.float64(0.00625), 4) == 0.0062 while Python's round(0.00625, 4) == 0.0063
    expect(numpyRound(0.00625, 4)).toBe(0.0062);
    expect(numpyRound(0.12345, 4)).toBe(0.1234);
    expect(numpyRound(0.78125, 4)).toBe(0.7812);
    expect(numpyRound(1.00005, 4)).toBe(1.0001);
    // 2.675 * 100 rounds to exactly 267.5 in float64, so numpy gives 2.68 where Python's round gives 2.67
    expect(numpyRound(2.675, 2)).toBe(2.68);
  });
});

describe('numpy float32 reductions', () => {
  it('float32 pairwise sum matches numpy, not a float64 sum rounded once', () => {
    // 1e8 then 199 ones: the ones added to 1e8's float32 accumulator are lost, the other seven keep theirs
    const a = new Float32Array(200).fill(1);
    a[0] = 1e8;
    expect(sumFloat32(a)).toBe(100000192); // np.sum(a) with numpy 2.4; float64 would give 100000199
    expect(meanFloat32(new Float32Array([0.1, 0.2, 0.3]))).toBe(Math.fround(0.2));
  });
});

describe('F1 / accuracy semantics (sklearn)', () => {
  it('a class present only in predictions has weight 0 in weighted F1 but counts in macro F1', () => {
    const t = [0, 0, 1, 1];
    const p = [0, 2, 1, 1];
    // class 0: P=1 R=0.5 F=2/3 (support 2); class 1: F=1 (support 2); class 2: F=0 (support 0)
    expect(weightedF1(t, p)).toBeCloseTo((2 * (2 / 3) + 2 * 1) / 4, 15);
    expect(macroF1(t, p)).toBeCloseTo((2 / 3 + 1 + 0) / 3, 15);
    expect(accuracy(t, p)).toBe(0.75);
  });

  it('a class present only in truth (never predicted) gets F1 0 with its full weight', () => {
    expect(weightedF1([0, 1, 1, 1], [1, 1, 1, 1])).toBeCloseTo((1 * 0 + 3 * (2 * 0.75 * 1) / 1.75) / 4, 15);
  });

  it('empty input: accuracy NaN (mean of nothing), weighted F1 0 (sklearn zero_division), macro F1 NaN', () => {
    expect(accuracy([], [])).toBeNaN();
    expect(weightedF1([], [])).toBe(0);
    expect(macroF1([], [])).toBeNaN();
  });

  it('-0 and 0 are the same class', () => {
    expect(weightedF1([0, 1], [-0, 1])).toBe(1);
    expect(accuracy([0], [-0])).toBe(1);
  });

  it('binary F1 is the positive class F1, 0 when undefined', () => {
    expect(binaryF1([0, 1, 1, 0, 1], [0, 1, 0, 1, 1])).toBeCloseTo(2 / 3, 15);
    expect(binaryF1([0, 0], [0, 0])).toBe(0);
  });
});

describe('MOSI metrics edge cases', () => {
  it('empty Non0 subset (all truths zero): Non0_acc_2 NaN, Non0_F1_score 0; Has0 still computed', () => {
    const got = computeMetrics('mosi', [1, -1, 0], [0, 0, -0]);
    expect(got.Non0_acc_2).toBeNaN();
    expect(got.Non0_F1_score).toBe(0);
    expect(got.Has0_acc_2).toBe(0.6667);
    // truth all >= 0 -> class 1 only: P=1 R=2/3 F=0.8; class 0 only predicted -> weight 0
    expect(got.Has0_F1_score).toBe(0.8);
  });

  it('-0 truth is excluded from Non0 and is non-negative in Has0', () => {
    const got = computeMetrics('mosi', [0.5, 0.5], [-0, 1]);
    expect(got.Non0_acc_2).toBe(1); // index 0 (truth -0) is dropped; kept it would be a miss (0.5 > 0 vs -0 > 0)
    expect(got.Has0_acc_2).toBe(1);
  });

  it('Corr is NaN for a constant vector (either side)', () => {
    expect(computeMetrics('mosi', [1, 1, 1], [1, 2, 3]).Corr).toBeNaN();
    expect(computeMetrics('mosi', [1, 2, 3], [0, 0, 0]).Corr).toBeNaN();
    expect(computeMetrics('sims', [2, 3, 4], [0.1, 0.2, 0.3]).Corr).toBeNaN(); // all clip to 1
    expect(pearson([1, 2, 3], [2, 4, 6])).toBe(1);
  });

  it('MOSI MAE is on unclipped values, SIMS MAE on clipped ones', () => {
    expect(computeMetrics('mosi', [5], [0]).MAE).toBe(5);
    expect(computeMetrics('sims', [5], [0]).MAE).toBe(1);
  });

  it('inputs are treated as float32', () => {
    // 0.1 as float64 is > float32(0.1) edge? Both sides become float32 so 0.1 stays in the middle bin
    expect(computeMetrics(['sims/Mult_acc_5'], [0.1, 0.7], [0.0, 0.5]).Mult_acc_5).toBe(1);
  });
});

describe('extra metrics', () => {
  it('CCC and RMSE against hand-computed values', () => {
    const p = [1, 2, 3];
    const t = [2, 4, 6];
    // means 2 and 4, var 2/3 and 8/3, cov 4/3 -> CCC = (8/3) / (2/3 + 8/3 + 4) = 8/22
    const got = computeMetrics(['CCC', 'RMSE', 'MAE', 'Corr'], p, t, { decimals: null });
    expect(got.CCC).toBeCloseTo(8 / 22, 14);
    expect(got.RMSE).toBeCloseTo(Math.sqrt(14 / 3), 14);
    expect(got.MAE).toBe(2);
    expect(got.Corr).toBe(1);
    expect(computeMetrics(['CCC', 'RMSE'], p, t)).toEqual({ CCC: 0.3636, RMSE: 2.1602 });
    expect(computeMetrics(['CCC'], p, p).CCC).toBe(1);
    expect(computeMetrics(['CCC'], [2, 2], [2, 2]).CCC).toBeNaN();
    // perfect anti-agreement around the same mean
    expect(computeMetrics(['CCC'], [1, -1], [-1, 1]).CCC).toBe(-1);
  });

  it('classification metrics from class indices and from logits', () => {
    const truth = [1, 0, 0, 2];
    const logits = new Float32Array([
      0.1, 0.5, 0.2, // -> 1
      2, 1, 0, // -> 0
      0, 0, 0, // tie -> first index 0
      0.3, 0.9, 0.1, // -> 1 (wrong)
    ]);
    const byLogits = computeMetrics(['accuracy', 'macro_F1', 'weighted_F1'], logits, truth, { numClasses: 3 });
    const byIndex = computeMetrics(['accuracy', 'macro_F1', 'weighted_F1'], [1, 0, 0, 1], truth);
    expect(byLogits).toEqual(byIndex);
    expect(byLogits.accuracy).toBe(0.75);
    // class 0: F=1 (s=2); class 1: P=0.5 R=1 F=2/3 (s=1); class 2: F=0 (s=1)
    expect(byLogits.macro_F1).toBe(numpyRound((1 + 2 / 3 + 0) / 3, 4));
    expect(byLogits.weighted_F1).toBe(numpyRound((2 + 2 / 3) / 4, 4));
  });

  it('logits of the wrong length are a clear error', () => {
    expect(() => computeMetrics(['accuracy'], new Float32Array(5), [0, 1], { numClasses: 3 })).toThrow(MmsaError);
    expect(() => computeMetrics(['accuracy'], new Float32Array(5), [0, 1], { numClasses: 3 })).toThrow(/2 rows x 3 classes/);
  });

  it('binary Acc_2 / F1 with a threshold', () => {
    const truth = [0, 1, 1, 0, 1];
    const scores = [0.2, 0.7, 0.4, 0.5, 0.9];
    expect(computeMetrics(['Acc_2', 'F1'], scores, truth)).toEqual({ Acc_2: 0.6, F1: 0.6667 });
    expect(computeMetrics(['Acc_2', 'F1'], scores, truth, { threshold: 0.3 })).toEqual({ Acc_2: 0.8, F1: 0.8571 });
  });

  it('registry: every set resolves, keys are unique per set, bad names are errors', () => {
    for (const names of Object.values(METRIC_SETS)) for (const n of names) expect(METRICS.has(n)).toBe(true);
    expect(Object.keys(computeMetrics('sims', [0.1, 0.2], [0.3, -0.2]))).toEqual([
      'Mult_acc_2', 'Mult_acc_3', 'Mult_acc_5', 'F1_score', 'MAE', 'Corr',
    ]);
    expect(() => computeMetrics(['MAE', 'sims/MAE'], [1], [1])).toThrow(/both report the key 'MAE'/);
    expect(() => computeMetrics(['MAEE'], [1], [1])).toThrow(/unknown metric 'MAEE' at metrics\[0\]/);
    expect(() => computeMetrics('mosi', [1, 2], [1])).toThrow(MmsaError);
    try {
      computeMetrics(['nope'], [1], [1]);
    } catch (e) {
      expect((e as MmsaError).code).toBe('MSA6601');
    }
  });
});

describe('model selection (KeyEval)', () => {
  it('is Loss, minimised, strict by 1e-6, starting from 1e8', () => {
    expect(defaultKeyEval('mosi')).toEqual({ name: 'Loss', mode: 'min' });
    expect(initialBest('min')).toBe(1e8);
    expect(isImprovement('min', 0.5, 1e8)).toBe(true);
    expect(isImprovement('min', 0.5, 0.5)).toBe(false);
    expect(isImprovement('min', 0.4999, 0.5)).toBe(true);
    expect(isImprovement('max', 0.8, 0.8)).toBe(false);
    expect(isImprovement('max', 0.8001, 0.8)).toBe(true);
  });
});

describe('aggregateSeeds', () => {
  it('mean, population std and the MMSA cell (values checked with numpy)', () => {
    const agg = aggregateSeeds([
      { MAE: 0.7, Loss: 0.5, Corr: 0.8 },
      { MAE: 0.72, Loss: 0.4, Corr: 0.79 },
      { MAE: 0.71, Loss: 0.6, Corr: 0.7812 },
    ], { scale: 100 });
    expect(Object.keys(agg)).toEqual(['MAE', 'Loss', 'Corr']);
    expect(agg.MAE!.mean).toBe(0.71);
    expect(agg.MAE!.std).toBe(0.008164965809277268);
    expect(agg.MAE!.cell).toEqual([71.0, 0.82]);
    expect(agg.Loss!.std).toBe(0.08164965809277258);
    expect(agg.Loss!.cell).toEqual([50.0, 8.16]);
    expect(agg.Corr!.cell).toEqual([79.04, 0.77]);
  });

  it('uses numpy pairwise sums for 8+ seeds and half-to-even cells', () => {
    const vals = Array.from({ length: 9 }, (_, i) => 0.1 + i * 0.013);
    const agg = aggregateSeeds(vals.map((v) => ({ Acc: v })), { scale: 100 });
    expect(agg.Acc!.mean).toBe(0.152);
    expect(agg.Acc!.std).toBe(0.033565855667130946);
    expect(agg.Acc!.cell).toEqual([15.2, 3.36]);
    // 0.00625 * 100 = 0.625 exactly -> half to even -> 0.62 (half away from zero would give 0.63)
    expect(aggregateSeeds([{ x: 0.00625 }], { scale: 100 }).x!.cell).toEqual([0.62, 0]);
    // Unscaled cells are rounded to 4 decimals the same way: 0.00625 -> 0.0062.
    expect(aggregateSeeds([{ x: 0.00625 }, { x: 0.00625 }]).x!.cell).toEqual([0.0062, 0]);
  });

  it('rejects empty input and mismatched keys with the offending index', () => {
    expect(() => aggregateSeeds([])).toThrow(MmsaError);
    expect(() => aggregateSeeds([{ a: 1 }, { b: 1 }])).toThrow(/results\[1\]/);
  });
});
