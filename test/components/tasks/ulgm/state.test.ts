import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MmsaError } from '../../../../src/errors.js';
import { UlgmState } from '../../../../src/components/tasks/ulgm/state.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures');

interface Trace {
  N: number;
  dims: { fusion: number; text: number; audio: number; vision: number };
  H: number;
  exclude_zero: boolean;
  labels_m: number[];
  steps: {
    epoch: number;
    indexes: number[];
    features: Record<'fusion' | 'text' | 'audio' | 'vision', number[][]>;
    labels_after: Record<'text' | 'audio' | 'vision', number[]>;
  }[];
}

const trace = JSON.parse(readFileSync(resolve(FIXTURES, 'golden/ulgm-trace.json'), 'utf8')) as Trace;
const MODS = ['text', 'audio', 'vision'] as const;

function freshState(): UlgmState {
  const s = new UlgmState({ n: trace.N, dims: trace.dims, H: trace.H, excludeZero: trace.exclude_zero });
  // the init pass visits every sample once (in a shuffled order; order does not matter)
  s.initLabels(Array.from({ length: trace.N }, (_, i) => i), trace.labels_m);
  return s;
}

function maxAbsErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('ULGM reproduces the reference trace (ulgm-trace.json)', () => {
  it('fixture shape is what this test expects', () => {
    expect(trace.steps.length).toBeGreaterThan(10);
    expect(new Set(trace.steps.map((s) => s.epoch))).toEqual(new Set([1, 2, 3, 4]));
  });

  it('matches labels_after at every step within 1e-5', () => {
    const s = freshState();
    let worst = 0;
    const perStep: string[] = [];
    trace.steps.forEach((st, k) => {
      s.step(st.epoch, st.indexes, st.features);
      let stepErr = 0;
      for (const m of MODS) stepErr = Math.max(stepErr, maxAbsErr(s.labels(m), st.labels_after[m]));
      perStep.push(`${k}:e${st.epoch}=${stepErr.toExponential(2)}`);
      expect(stepErr, `step ${k} (epoch ${st.epoch})`).toBeLessThanOrEqual(1e-5);
      worst = Math.max(worst, stepErr);
    });
    console.log(`ULGM trace: max abs label error ${worst.toExponential(3)} over ${trace.steps.length} steps [${perStep.join(' ')}]`);
    // labels really moved away from y_M (the comparison above is not vacuous)
    const drift = s.drift();
    for (const m of MODS) expect(drift[m]).toBeGreaterThan(0.05);
  });

  it('epoch-1 steps leave every unimodal label equal to y_M and the loss weights 0', () => {
    const s = freshState();
    for (const st of trace.steps.filter((x) => x.epoch === 1)) {
      s.step(st.epoch, st.indexes, st.features);
      const w = s.lossWeights(st.indexes);
      for (const m of MODS) {
        expect(Array.from(s.labels(m))).toEqual(Array.from(Float32Array.from(trace.labels_m)));
        expect(Array.from(w[m]!).every((x) => x === 0)).toBe(true);
      }
    }
  });

  it('the order matters: updating centres before labels does not reproduce the trace', () => {
    const s = freshState();
    let worst = 0;
    for (const st of trace.steps) {
      s.updateFeatures(st.indexes, st.features);
      s.updateCenters();
      s.updateLabels(st.indexes, st.features, st.epoch);
      for (const m of MODS) worst = Math.max(worst, maxAbsErr(s.labels(m), st.labels_after[m]));
    }
    expect(worst).toBeGreaterThan(1e-3);
  });

  it('snapshot/restore mid-run continues identically (JSON round trip)', () => {
    const half = Math.floor(trace.steps.length / 2);
    const a = freshState();
    trace.steps.slice(0, half).forEach((st) => a.step(st.epoch, st.indexes, st.features));
    const snap = JSON.parse(JSON.stringify(a.snapshot())) as ReturnType<UlgmState['snapshot']>;
    const b = new UlgmState({ n: trace.N, dims: trace.dims, H: trace.H, excludeZero: trace.exclude_zero });
    b.restore(snap);
    for (const st of trace.steps.slice(half)) {
      a.step(st.epoch, st.indexes, st.features);
      b.step(st.epoch, st.indexes, st.features);
    }
    for (const bank of ['fusion', ...MODS]) expect(Array.from(b.labels(bank))).toEqual(Array.from(a.labels(bank)));
    expect(b.centers('text')).toEqual(a.centers('text'));
  });

  it('restore rejects a snapshot of another shape, naming the key', () => {
    const s = freshState();
    const snap = s.snapshot();
    const other = new UlgmState({ n: trace.N, dims: { ...trace.dims, text: 7 }, H: trace.H, excludeZero: true });
    expect(() => other.restore(snap)).toThrow(/dims\.text/);
    const wrongN = new UlgmState({ n: 3, dims: trace.dims, H: 3, excludeZero: true });
    expect(() => wrongN.restore(snap)).toThrow(MmsaError);
  });
});

describe('ULGM label formula (update_labels of trains/multiTask/SELF_MM.py, worked by hand)', () => {
  // fusion centres (1,0)/(-1,0), text centres (0,1)/(0,-1), set through features and labels of a 2-sample memory
  function exampleState(H = 3): UlgmState {
    const s = new UlgmState({ n: 3, dims: { fusion: 2, text: 2, audio: 1, vision: 1 }, H, excludeZero: true });
    s.initLabels([0, 1, 2], [1, -1, 1.2]);
    s.updateFeatures([0, 1], {
      fusion: [[1, 0], [-1, 0]],
      text: [[0, 1], [0, -1]],
      audio: [[1], [-1]],
      vision: [[1], [-1]],
    });
    // sample 2 gets a zero label while centres are computed, so it joins neither class
    s.initLabels([2], [0]);
    s.updateCenters();
    s.initLabels([2], [1.2]);
    return s;
  }

  it('centres are the class means with zeros excluded', () => {
    const s = exampleState();
    expect(s.centers('fusion')).toEqual({ pos: Float32Array.from([1, 0]), neg: Float32Array.from([-1, 0]) });
    expect(s.centers('text')).toEqual({ pos: Float32Array.from([0, 1]), neg: Float32Array.from([0, -1]) });
  });

  it('delta_f 2.0, delta_t 0.5, alpha 0.25, y_hat 0 -> label 0.4 at epoch 2, weight tanh(0.8)', () => {
    const s = exampleState();
    const batch = { fusion: [[0.5, 0]], text: [[0, 0.2]], audio: [[0]], vision: [[0]] };
    s.updateLabels([2], batch, 1);
    expect(s.labels('text')[2]).toBe(Math.fround(1.2)); // epoch 1: no update
    s.updateLabels([2], batch, 2);
    expect(s.labels('text')[2]).toBeCloseTo(0.4, 6);
    expect(s.labels('fusion')[2]).toBe(Math.fround(1.2)); // y_f is never changed
    expect(s.targets([2]).text![0]).toBeCloseTo(0.4, 6);
    expect(s.lossWeights([2]).text![0]).toBeCloseTo(Math.tanh(0.8), 6);
    expect(Math.tanh(0.8)).toBeCloseTo(0.664, 3);
    expect(s.drift().text).toBeCloseTo(0.8 / 3, 6);
  });

  it('generated labels are clamped to +-H before the momentum update', () => {
    const s = exampleState(0.1);
    // text feature at the positive centre: d_tp = 0 -> delta_t = 2/1e-8, a huge label clamped to H
    s.updateLabels([2], { fusion: [[0.5, 0]], text: [[0, 1]], audio: [[0]], vision: [[0]] }, 3);
    // epoch 3: 0.5 * 1.2 + 0.5 * H
    expect(s.labels('text')[2]).toBeCloseTo(0.5 * 1.2 + 0.5 * 0.1, 6);
  });

  it('excludeZero=false puts zero labels into the positive class', () => {
    const s = new UlgmState({ n: 2, dims: { fusion: 1, text: 1, audio: 1, vision: 1 }, H: 3, excludeZero: false });
    s.initLabels([0, 1], [0, -1]);
    const f = { fusion: [[4], [2]], text: [[4], [2]], audio: [[4], [2]], vision: [[4], [2]] };
    s.step(1, [0, 1], f);
    expect(s.centers('fusion').pos[0]).toBe(4);
    const z = new UlgmState({ n: 2, dims: { fusion: 1, text: 1, audio: 1, vision: 1 }, H: 3, excludeZero: true });
    z.initLabels([0, 1], [0, -1]);
    const empty = z.step(1, [0, 1], f);
    // no label > 0: every positive class is empty; centres stay as they were ('keep')
    expect(empty.filter((e) => e.side === 'pos').map((e) => e.bank)).toEqual(['fusion', 'text', 'audio', 'vision']);
    expect(z.centers('fusion').pos[0]).toBe(0);
    const nan = new UlgmState({ n: 2, dims: { fusion: 1, text: 1, audio: 1, vision: 1 }, H: 3, excludeZero: true, onEmptyClass: 'nan' });
    nan.initLabels([0, 1], [0, -1]);
    nan.step(1, [0, 1], f);
    expect(nan.centers('fusion').pos[0]).toBeNaN();
  });

  it('accepts row-major typed arrays as feature batches', () => {
    const a = exampleState();
    const b = exampleState();
    a.step(2, [2], { fusion: [[0.5, 0]], text: [[0, 0.2]], audio: [[0.3]], vision: [[-0.3]] });
    b.step(2, [2], {
      fusion: Float32Array.from([0.5, 0]),
      text: Float32Array.from([0, 0.2]),
      audio: Float32Array.from([0.3]),
      vision: Float64Array.from([-0.3]),
    });
    expect(b.snapshot()).toEqual(a.snapshot());
  });

  it('custom modality names', () => {
    const s = new UlgmState({ n: 2, dims: { fusion: 1, eeg: 2 }, H: 1, excludeZero: true, modalities: ['eeg'] });
    s.initLabels([0, 1], [0.5, -0.5]);
    expect(Object.keys(s.targets([0]))).toEqual(['fusion', 'eeg']);
    expect(Object.keys(s.drift())).toEqual(['eeg']);
  });

  it('bad input is a clear MmsaError', () => {
    const s = exampleState();
    expect(() => s.targets([3])).toThrow(/indexes\[0\] = 3 is outside 0\.\.2/);
    expect(() => s.updateFeatures([0], { fusion: [[1, 2]], text: [[1]], audio: [[1]], vision: [[1]] })).toThrow(/features\.text\[0\] has 1 values, expected 2/);
    expect(() => s.updateFeatures([0], { fusion: [[1, 2]], text: [[1, 2]], audio: [[1]] })).toThrow(/features\.vision is missing/);
    expect(() => new UlgmState({ n: 2, dims: { fusion: 1, text: 1, audio: 1 }, H: 1, excludeZero: true })).toThrow(/dims\.vision/);
    expect(() => s.labels('nope')).toThrow(MmsaError);
  });
});
