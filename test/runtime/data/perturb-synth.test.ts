// Robustness perturbations (TFR-Net's missing protocol with numpy's random stream, Gaussian noise relative to each
// dimension's std) and the synthetic depression / humour / sarcasm generators' shapes and planted signals.
import { describe, expect, it } from 'vitest';
import { MmsaError } from '../../../src/errors.js';
import { NumpyRandomState, UNK_ID } from '../../../src/runtime/data/missing.js';
import { perturbSplit } from '../../../src/runtime/data/perturb.js';
import { generateSessionSamples } from '../../../src/runtime/data/synth-sessions.js';
import type { SplitData } from '../../../src/runtime/data/types.js';
import { hasPythonNumpy, runPython } from './pickle/helpers.js';

function split(): SplitData {
  const n = 6;
  const T = 5;
  const d = 3;
  const audio = Float32Array.from({ length: n * T * d }, (_, i) => 1 + (i % 7));
  const tokens = new Int32Array(n * 3 * 6);
  for (let i = 0; i < n; i++) {
    const len = 3 + (i % 3);
    for (let p = 0; p < len; p++) {
      tokens[i * 18 + p] = p === 0 ? 101 : p === len - 1 ? 102 : 2000 + p;
      tokens[i * 18 + 6 + p] = 1;
    }
  }
  return {
    name: 'test',
    n,
    ids: Array.from({ length: n }, (_, i) => `s${i}`),
    features: { audio: { data: audio, shape: [n, T, d] }, text: { data: tokens, shape: [n, 3, 6] } },
    lengths: { audio: Int32Array.from([5, 4, 3, 2, 1, 5]) },
    labels: { M: new Float32Array(n) },
  } as unknown as SplitData;
}

describe('perturbations', () => {
  it.runIf(hasPythonNumpy())("draws numpy's np.random.seed(s); np.random.uniform() stream", () => {
    const py = JSON.parse(runPython('import numpy as np, json\nnp.random.seed(1111)\nprint(json.dumps(np.random.uniform(size=8).tolist()))', [])) as number[];
    const rs = new NumpyRandomState(1111);
    expect(py.map(() => rs.randomSample())).toEqual(py);
  });

  it('missing frames: zeroes real frames only, the same mask for the same seed, about the rate', () => {
    const s = split();
    const a = perturbSplit(s, [{ kind: 'missing', modality: 'audio', rate: 0.5 }], 7);
    const b = perturbSplit(s, [{ kind: 'missing', modality: 'audio', rate: 0.5 }], 7);
    const c = perturbSplit(s, [{ kind: 'missing', modality: 'audio', rate: 0.5 }], 8);
    const fa = a.features['audio']!.data as Float32Array;
    expect(Array.from(fa)).toEqual(Array.from(b.features['audio']!.data));
    expect(Array.from(fa)).not.toEqual(Array.from(c.features['audio']!.data));
    // The input is untouched, and nothing outside a sample's length changes (padding stays as it was).
    expect((s.features['audio']!.data as Float32Array).every((v) => v > 0)).toBe(true);
    let dropped = 0;
    for (let i = 0; i < 6; i++) {
      for (let k = 0; k < 5; k++) {
        const frame = fa.subarray((i * 5 + k) * 3, (i * 5 + k + 1) * 3);
        if (k >= s.lengths['audio']![i]!) expect(frame.every((v) => v > 0)).toBe(true);
        else if (frame.every((v) => v === 0)) dropped++;
        else expect(frame.every((v) => v > 0)).toBe(true);
      }
    }
    expect(dropped).toBeGreaterThan(3);
    expect(dropped).toBeLessThan(17);
    const all = perturbSplit(s, [{ kind: 'missing', modality: 'audio', rate: 1 }], 7).features['audio']!.data as Float32Array;
    expect(all.filter((v) => v === 0).length).toBe((5 + 4 + 3 + 2 + 1 + 5) * 3);
  });

  it('missing tokens become [UNK], [CLS] and the last real token stay, the mask is unchanged', () => {
    const s = split();
    const t = perturbSplit(s, [{ kind: 'missing', modality: 'text', rate: 1 }], 1).features['text']!.data as Int32Array;
    for (let i = 0; i < 6; i++) {
      const len = 3 + (i % 3);
      const ids = Array.from(t.subarray(i * 18, i * 18 + 6));
      expect(ids).toEqual([101, ...Array.from({ length: len - 2 }, () => UNK_ID), 102, ...Array.from({ length: 6 - len }, () => 0)]);
      expect(Array.from(t.subarray(i * 18 + 6, i * 18 + 12))).toEqual(Array.from(s.features['text']!.data.subarray(i * 18 + 6, i * 18 + 12)));
    }
  });

  it('noise scales with each dimension and rate; rate 0 is the identity; tokens and unknown modalities are refused', () => {
    const s = split();
    const zero = perturbSplit(s, [{ kind: 'noise', modality: 'audio', rate: 0 }], 3);
    expect(zero.features['audio']!.data).toBe(s.features['audio']!.data);
    const lo = perturbSplit(s, [{ kind: 'noise', modality: 'audio', rate: 0.1 }], 3).features['audio']!.data as Float32Array;
    const hi = perturbSplit(s, [{ kind: 'noise', modality: 'audio', rate: 1 }], 3).features['audio']!.data as Float32Array;
    const dev = (x: Float32Array) => x.reduce((a, v, i) => a + Math.abs(v - s.features['audio']!.data[i]!), 0);
    expect(dev(hi) / dev(lo)).toBeCloseTo(10, 3);
    const e1 = (() => { try { perturbSplit(s, [{ kind: 'noise', modality: 'text', rate: 0.1 }], 1); } catch (e) { return e as MmsaError; } return undefined; })();
    expect(e1?.code).toBe('MSA6715');
    const e2 = (() => { try { perturbSplit(s, [{ kind: 'missing', modality: 'face', rate: 0.1 }], 1); } catch (e) { return e as MmsaError; } return undefined; })();
    expect(e2?.code).toBe('MSA6714');
    expect(e2?.hint).toContain('audio, text');
  });
});

const corr = (x: number[], y: number[]) => {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  x.forEach((v, i) => {
    sxy += (v - mx) * (y[i]! - my);
    sxx += (v - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
};

describe('synthetic sessions', () => {
  it('depression: PHQ-8 integers 0-24 skewed low, DAIC-WOZ split sizes, the planted smile cue, deterministic for a seed', () => {
    const ss = generateSessionSamples({ variant: 'depression', sizes: [60, 20, 20], frames: [100, 200], textDim: 8, seed: 5 });
    expect(ss.filter((s) => s.split === 'train')).toHaveLength(60);
    expect(ss.every((s) => Number.isInteger(s.label) && s.label >= 0 && s.label <= 24)).toBe(true);
    const mean = ss.reduce((a, s) => a + s.label, 0) / ss.length;
    expect(mean).toBeLessThan(12);
    const v = ss[0]!.features['vision']!;
    expect([v.dims, v.frames >= 100 && v.frames <= 200]).toEqual([49, true]);
    const sessionMean = (s: (typeof ss)[0], m: string, j: number) => {
      const f = s.features[m]!;
      let a = 0;
      for (let t = 0; t < f.frames; t++) a += f.data[t * f.dims + j]!;
      return a / f.frames;
    };
    const y = ss.map((s) => s.label);
    expect(corr(ss.map((s) => sessionMean(s, 'vision', 0)), y)).toBeLessThan(-0.4);
    // Same seed, same sessions; another seed, others.
    expect(generateSessionSamples({ variant: 'depression', sizes: [3, 1, 1], frames: [50, 60], textDim: 8, seed: 5 })[0]!.features['audio']!.data).toEqual(
      generateSessionSamples({ variant: 'depression', sizes: [3, 1, 1], frames: [50, 60], textDim: 8, seed: 5 })[0]!.features['audio']!.data,
    );
  });

  it('humour and sarcasm: balanced 0/1 labels, context modalities next to the utterance', () => {
    for (const variant of ['humour', 'sarcasm'] as const) {
      const ss = generateSessionSamples({ variant, sizes: [100, 20, 20], textDim: 8, audioDim: 4, visionDim: 4, seed: 2 });
      expect(Object.keys(ss[0]!.features).sort()).toEqual(['audio', 'context_audio', 'context_text', 'context_vision', 'text', 'vision']);
      const pos = ss.filter((s) => s.label === 1).length / ss.length;
      expect(ss.every((s) => s.label === 0 || s.label === 1)).toBe(true);
      expect(pos).toBeGreaterThan(0.3);
      expect(pos).toBeLessThan(0.7);
    }
  });
});
