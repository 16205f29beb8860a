import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { activeNativeKernels, setNativeMatMul, setupBackend } from '../../../../src/runtime/backend.js';
import { nativeDisabled, requireNative } from '../../../helpers/native.js';
import { mulberry32 } from '../../../helpers/prng.js';
import { Adam, clipGradNorm, clipGradValue, type Grads } from '../../../../src/runtime/train/optim/adam.js';
import { ParamStore } from '../../../../src/runtime/nn/params.js';
import { createLinear } from '../../../../src/runtime/nn/layers.js';
import { maxAbsDiff } from '../../nn/ref.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

/** torch.optim.Adam / AdamW single-tensor update, written out in float64. */
function torchAdamRef(p0: number[], gradsPerStep: number[][], lr: number, wd: number, mode: 'adam' | 'adamw', b1 = 0.9, b2 = 0.999, eps = 1e-8) {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  gradsPerStep.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      let gi = g[i]!;
      if (mode === 'adam') gi += wd * p[i]!;
      else p[i] = p[i]! * (1 - lr * wd);
      m[i] = b1 * m[i]! + (1 - b1) * gi;
      v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
      const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - b2 ** t) + eps;
      p[i] = p[i]! - (lr / (1 - b1 ** t)) * (m[i]! / denom);
    }
  });
  return p;
}

const steps = [
  [0.1, -0.2, 0.3, 0.05],
  [-0.4, 0.1, 0.25, 0.0],
  [0.2, 0.2, -0.1, 1.5],
];
const p0 = [0.5, -1.0, 2.0, 0.01];

function runAdam(mode: 'adam' | 'adamw', lr: number, wd: number) {
  const w = tf.variable(tf.tensor1d(p0));
  const opt = new Adam([{ params: [w], lr, weightDecay: wd }], { mode });
  for (const g of steps) {
    const grads: Grads = { [w.name]: tf.tensor1d(g) };
    opt.step(grads);
    grads[w.name]!.dispose();
  }
  const out = Array.from(w.dataSync());
  expect(opt.stateOf(w)!.step).toBe(3);
  opt.dispose();
  w.dispose();
  return out;
}

describe('Adam', () => {
  it('matches torch.optim.Adam over 3 steps (no decay) within 1e-6', () => {
    expect(maxAbsDiff(runAdam('adam', 0.01, 0), torchAdamRef(p0, steps, 0.01, 0, 'adam'))).toBeLessThan(1e-6);
  });

  it('weight decay is L2 added to the gradient (torch Adam), not decoupled', () => {
    const got = runAdam('adam', 0.01, 0.1);
    const asAdam = torchAdamRef(p0, steps, 0.01, 0.1, 'adam');
    const asAdamW = torchAdamRef(p0, steps, 0.01, 0.1, 'adamw');
    expect(maxAbsDiff(got, asAdam)).toBeLessThan(1e-6);
    expect(maxAbsDiff(asAdam, asAdamW)).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(got, asAdamW)).toBeGreaterThan(1e-4);
  });

  it('AdamW mode decays the parameter by (1 - lr*wd) first', () => {
    expect(maxAbsDiff(runAdam('adamw', 0.01, 0.1), torchAdamRef(p0, steps, 0.01, 0.1, 'adamw'))).toBeLessThan(1e-6);
  });

  it('per-group lr/wd; params without grads skipped (no step count); frozen groups untouched', () => {
    const store = new ParamStore({ seed: 1 });
    const a = createLinear(store, 'a', 2, 2);
    const b = createLinear(store, 'b', 2, 2);
    const c = createLinear(store, 'c', 2, 2);
    const opt = new Adam([
      { name: 'a', params: store.select({ prefix: 'a' }), lr: 0.1, weightDecay: 0.01 },
      { name: 'b', params: store.select({ prefix: 'b' }), lr: 0.001 },
      { name: 'frozen', params: store.select({ prefix: 'c' }), lr: 0.1, trainable: false },
    ]);
    expect(opt.variables()).toHaveLength(4);
    expect(() => new Adam([{ params: [a.weight], lr: 1 }, { params: [a.weight], lr: 1 }])).toThrow(/more than one group/);
    const before = new Map(store.entries().map((e) => [e.key, Array.from(e.variable.dataSync())]));
    const g = (v: tf.Variable) => tf.onesLike(v);
    const grads: Grads = { [a.weight.name]: g(a.weight), [b.weight.name]: g(b.weight), [c.weight.name]: g(c.weight), [c.bias!.name]: g(c.bias!) };
    opt.step(grads);
    const after = (k: string) => Array.from(store.get(k).dataSync());
    // first Adam step moves each element by ~lr (sign of the grad)
    after('a.weight').forEach((v, i) => expect(v - before.get('a.weight')![i]!).toBeCloseTo(-0.1, 4));
    after('b.weight').forEach((v, i) => expect(v - before.get('b.weight')![i]!).toBeCloseTo(-0.001, 6));
    expect(after('a.bias')).toEqual(before.get('a.bias'));
    expect(opt.stateOf(a.bias!)).toBeUndefined();
    expect(after('c.weight')).toEqual(before.get('c.weight'));
    expect(opt.stateOf(c.weight)).toBeUndefined();
    // lr 0 keeps parameters exactly (state still advances, as in torch)
    opt.groups[1]!.lr = 0;
    const bw = after('b.weight');
    opt.step(grads);
    expect(after('b.weight')).toEqual(bw);
    expect(opt.stateOf(b.weight)!.step).toBe(2);
    Object.values(grads).forEach((t) => t.dispose());
    opt.dispose();
    store.dispose();
  });
});

describe('gradient clipping', () => {
  it('clipGradNorm scales by max/(norm+1e-6) only when the global norm exceeds max', () => {
    const grads: Grads = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
    const { grads: c, totalNorm } = clipGradNorm(grads, 1);
    expect(totalNorm).toBeCloseTo(5, 5);
    const k = 1 / (5 + 1e-6);
    expect(maxAbsDiff(c.a!.dataSync(), [3 * k, 0])).toBeLessThan(1e-7);
    expect(maxAbsDiff(c.b!.dataSync(), [0, 4 * k])).toBeLessThan(1e-7);
    const { grads: same } = clipGradNorm(grads, 10);
    expect(Array.from(same.b!.dataSync())).toEqual([0, 4]);
    expect(Array.from(grads.a!.dataSync())).toEqual([3, 0]);
  });

  it('clipGradValue clamps every element', () => {
    const c = clipGradValue({ a: tf.tensor1d([-3, 0.5, 2]) }, 1);
    expect(Array.from(c.a!.dataSync())).toEqual([-1, 0.5, 1]);
  });
});

describe('Adam state export/import', () => {
  it('resuming from exported state continues exactly like an uninterrupted run', () => {
    const make = () => {
      const w = tf.variable(tf.tensor1d(p0));
      return { w, opt: new Adam([{ name: 'g', params: [w], lr: 0.01, weightDecay: 0.1 }]) };
    };
    const stepWith = (o: ReturnType<typeof make>, g: number[]) => {
      const grads: Grads = { [o.w.name]: tf.tensor1d(g) };
      o.opt.step(grads);
      grads[o.w.name]!.dispose();
    };
    const full = make();
    steps.forEach((g) => stepWith(full, g));
    const first = make();
    stepWith(first, steps[0]!);
    stepWith(first, steps[1]!);
    const state = first.opt.exportState(() => 'w');
    expect(state.params['w']!.step).toBe(2);
    const resumed = make();
    resumed.w.assign(first.w);
    resumed.opt.importState(state, () => 'w');
    stepWith(resumed, steps[2]!);
    expect(Array.from(resumed.w.dataSync())).toEqual(Array.from(full.w.dataSync()));
    expect(resumed.opt.stateOf(resumed.w)!.step).toBe(3);
    for (const o of [full, first, resumed]) {
      o.opt.dispose();
      o.w.dispose();
    }
  });
});

describe.skipIf(nativeDisabled)('Adam on the native kernels', () => {
  it('the native step gives the bits of the float32 JS step (adam with L2 decay and adamw), state included', () => {
    requireNative();
    const rnd = mulberry32(17);
    const init = Float32Array.from({ length: 3001 }, () => rnd() - 0.5);
    const grads = [0, 1, 2, 3].map(() => Float32Array.from({ length: 3001 }, () => (rnd() - 0.5) * 0.1));
    const run = (native: boolean, mode: 'adam' | 'adamw') => {
      const saved = activeNativeKernels();
      if (!native) setNativeMatMul(undefined);
      try {
        const p = tf.tidy(() => tf.variable(tf.tensor1d(init), true, `native_adam_${native}_${mode}`));
        const opt = new Adam([{ params: [p], lr: 3e-3, weightDecay: 5e-3 }], { mode });
        for (const g of grads) {
          const gt = tf.tensor1d(g);
          opt.step({ [p.name]: gt });
          gt.dispose();
        }
        const st = opt.stateOf(p)!;
        const out = [Float32Array.from(p.dataSync()), st.expAvg.slice(), st.expAvgSq.slice()];
        opt.dispose();
        p.dispose();
        return out;
      } finally {
        setNativeMatMul(saved?.mod, saved?.threads);
      }
    };
    for (const mode of ['adam', 'adamw'] as const) {
      const before = tf.memory().numTensors;
      const a = run(true, mode);
      expect(tf.memory().numTensors).toBe(before);
      const b = run(false, mode);
      a.forEach((x, i) => { const j = x.findIndex((v, k) => !Object.is(v, b[i]![k])); expect(j, `${mode} array ${i} element ${j}: ${x[j]} vs ${b[i]![j]}`).toBe(-1); });
      expect(maxAbsDiff(a[0]!, init)).toBeGreaterThan(1e-3); // it did move
    }
  });
});
