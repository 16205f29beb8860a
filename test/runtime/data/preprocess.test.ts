import { describe, expect, it } from 'vitest';
import { avgPoolAlign, avgPoolPlan, fitSeqLen, negInfToZero, nonFiniteCounts, prepareLengths, timeMean, toTokens } from '../../../src/runtime/data/preprocess.js';

describe('preprocess', () => {
  it('negInfToZero replaces only -inf and counts them', () => {
    const a = Float32Array.of(1, -Infinity, Infinity, NaN, -Infinity, 0);
    expect(negInfToZero(a)).toBe(2);
    expect(Array.from(a)).toEqual([1, 0, Infinity, NaN, 0, 0]);
    expect(nonFiniteCounts(a)).toEqual({ negInf: 0, posInf: 1, nan: 1 });
  });

  it('timeMean averages over the padded axis and maps NaN means to 0', () => {
    // N=2, T=4, D=2; sample 0 has 2 true frames and 2 padding frames.
    const a = Float32Array.of(1, 2, 3, 4, 0, 0, 0, 0, /* sample 1 */ 1, NaN, 1, 1, 1, 1, 1, 1);
    expect(Array.from(timeMean(a, 2, 4, 2))).toEqual([1, 1.5, 1, 0]);
  });

  it('fitSeqLen truncates and zero-pads, and passes equal lengths through', () => {
    const a = Float32Array.of(1, 2, 3, 4, 5, 6);
    expect(Array.from(fitSeqLen(a, 1, 3, 2, 2))).toEqual([1, 2, 3, 4]);
    expect(Array.from(fitSeqLen(a, 2, 3, 1, 4))).toEqual([1, 2, 3, 0, 4, 5, 6, 0]);
    expect(fitSeqLen(a, 1, 3, 2, 3)).toBe(a);
  });

  it('avgPoolPlan pads and pools as AlignSubNet avg_pool (models/subNets/AlignNets.py)', () => {
    expect(avgPoolPlan(400, 39)).toEqual({ pool: 11, padLen: 29 });
    expect(avgPoolPlan(55, 39)).toEqual({ pool: 2, padLen: 23 });
    expect(avgPoolPlan(100, 50)).toEqual({ pool: 2, padLen: 0 });
    expect(avgPoolPlan(1, 50)).toEqual({ pool: 1, padLen: 49 });
  });

  it('avgPoolAlign pads with copies of the last frame and averages groups', () => {
    // R=5 -> dst=2: pad 1 copy of frame 4, pool 3: [(0+1+2)/3, (3+4+4)/3].
    expect(Array.from(avgPoolAlign(Float32Array.of(0, 1, 2, 3, 4), 1, 5, 1, 2))).toEqual([1, 11 / 3].map(Math.fround));
    // R=4 -> dst=2 divides: pool 2, no padding; D=2 channels kept apart.
    expect(Array.from(avgPoolAlign(Float32Array.of(0, 10, 2, 20, 4, 30, 6, 40), 1, 4, 2, 2))).toEqual([1, 15, 5, 35]);
    // An averaged length-1 sequence becomes dst copies of itself.
    expect(Array.from(avgPoolAlign(Float32Array.of(7, 8), 1, 1, 2, 3))).toEqual([7, 8, 7, 8, 7, 8]);
    // Two samples are pooled independently (no frame of sample 1 leaks into sample 0's padding).
    expect(Array.from(avgPoolAlign(Float32Array.of(1, 2, 3, 10, 20, 30), 2, 3, 1, 2))).toEqual([1.5, 3, 15, 30]);
  });

  it('prepareLengths truncates to ints, caps at max and clamps to >= 1 when asked', () => {
    expect(Array.from(prepareLengths([0, 3.9, 12, -2], { clamp: true, max: 10 }))).toEqual([1, 3, 10, 1]);
    expect(Array.from(prepareLengths(Float64Array.of(0, 5), { clamp: false }))).toEqual([0, 5]);
  });

  it('toTokens casts float ids like torch .long()', () => {
    const t = toTokens(Float64Array.of(101, 2204.0, 1, 0));
    expect(t).toBeInstanceOf(Int32Array);
    expect(Array.from(t)).toEqual([101, 2204, 1, 0]);
  });
});
