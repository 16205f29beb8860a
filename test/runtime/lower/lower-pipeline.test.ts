import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../src/runtime/backend.js';
import type { Ir } from '../../../src/compiler/ir/types.js';
import type { Batch } from '../../../src/runtime/data/types.js';
import { lowerPipeline } from '../../../src/runtime/lower/lower-pipeline.js';
import type { LoweredPipeline, ModelOutputs } from '../../../src/runtime/lower/types.js';
import { evalCtx, trainCtx } from '../../../src/runtime/nn/params.js';
import { disposeGrads } from '../../../src/runtime/train/optim/adam.js';
import { batchOf, compileYaml, randomSplit, SPECS, type Family } from './helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

const FAMILIES = Object.keys(SPECS) as Family[];
const irs = new Map<Family, Ir>();
const irOf = (f: Family): Ir => {
  let ir = irs.get(f);
  if (!ir) {
    ir = compileYaml(SPECS[f], f);
    irs.set(f, ir);
  }
  return ir;
};

/**
 * Sum over every head of mean (y_hat - y_M)^2: reaches every trainable parameter (unlike ULGM's epoch-1 loss); squared
 * rather than L1 so that sign-balanced batches cannot cancel a bias gradient to exactly 0.
 */
function probeLoss(out: ModelOutputs, batch: Batch): tf.Scalar {
  const y = tf.reshape(tf.tensor1d(batch.labels['M']!), [-1, 1]);
  return tf.addN(Object.values(out.heads).map((h) => tf.mean(tf.square(tf.sub(h, y))))) as tf.Scalar;
}

function trainStep(p: LoweredPipeline, batch: Batch, epoch: number, seed: number, lossFn?: (o: ModelOutputs, b: Batch) => tf.Scalar): number {
  let kept: ModelOutputs | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = p.model.forward(batch, trainCtx(seed));
    kept = { heads: {}, features: {} };
    for (const [k, t] of Object.entries(out.features)) kept.features[k] = tf.keep(t);
    for (const [k, t] of Object.entries(out.heads)) kept.heads[k] = tf.keep(t);
    const loss = lossFn ? lossFn(out, batch) : tf.addN(p.tasks.map((t) => t.trainLoss(out, batch, epoch)));
    return loss as tf.Scalar;
  }, p.optimizer.variables());
  p.optimizer.step(grads);
  for (const t of p.tasks) t.afterStep?.(kept!, batch, epoch);
  const v = value.dataSync()[0]!;
  value.dispose();
  disposeGrads(grads);
  for (const t of [...Object.values(kept!.heads), ...Object.values(kept!.features)]) t.dispose();
  return v;
}

describe.each(FAMILIES)('%s', (family) => {
  it('creates exactly the IR parameters, with their shapes and names', () => {
    const ir = irOf(family);
    const p = lowerPipeline(ir, { seed: 7, trainSize: 12 });
    const declared = new Map<string, { shape: number[]; buffer: boolean }>();
    for (const n of ir.nodes) for (const d of n.params) declared.set(`${n.id}.${d.name}`, { shape: d.shape, buffer: d.buffer === true });
    const entries = p.model.store.entries();
    expect(entries.map((e) => e.key).sort()).toEqual([...declared.keys()].sort());
    for (const e of entries) {
      expect(e.shape, e.key).toEqual(declared.get(e.key)!.shape);
      expect(e.buffer, e.key).toBe(declared.get(e.key)!.buffer);
      if (e.buffer) expect(e.trainable, e.key).toBe(false);
    }
    // Every trainable variable is one of the optimizer's; frozen groups contribute none.
    const optVars = new Set(p.optimizer.variables().map((v) => v.name));
    expect(p.model.store.trainableVariables().map((v) => v.name).sort()).toEqual([...optVars].sort());
    p.model.dispose();
  });

  it('forward gives [B, 1] per head and the first hidden activation as a feature', () => {
    const ir = irOf(family);
    const p = lowerPipeline(ir, { seed: 7, trainSize: 12 });
    const batch = batchOf(randomSplit(ir, 5, 3), [0, 1, 2, 3, 4]);
    tf.tidy(() => {
      for (const ctx of [evalCtx(), trainCtx(1)]) {
        const out = p.model.forward(batch, ctx);
        for (const n of ir.nodes.filter((x) => x.kind === 'head')) {
          expect(out.heads[n.name]!.shape).toEqual([5, 1]);
          const h0 = n.features?.['hidden0'];
          if (h0) expect(out.features[n.name]!.shape).toEqual([5, h0.shape[1]]);
          else expect(out.features[n.name]).toBeUndefined();
          expect(Array.from(out.heads[n.name]!.dataSync()).every(Number.isFinite)).toBe(true);
        }
      }
    });
    p.model.dispose();
  });

  it('gives finite, non-zero gradients to every trainable variable', () => {
    const ir = irOf(family);
    const p = lowerPipeline(ir, { seed: 11, trainSize: 12 });
    const batch = batchOf(randomSplit(ir, 6, 5), [0, 1, 2, 3, 4, 5]);
    const vars = p.optimizer.variables();
    const { value, grads } = tf.variableGrads(() => probeLoss(p.model.forward(batch, trainCtx(2)), batch), vars);
    expect(Object.keys(grads).sort()).toEqual(vars.map((v) => v.name).sort());
    for (const v of vars) {
      const g = grads[v.name]!.dataSync();
      const key = p.model.store.byVariableName(v.name)!.key;
      expect(Array.from(g).every(Number.isFinite), key).toBe(true);
      expect(Array.from(g).some((x) => x !== 0), key).toBe(true);
    }
    value.dispose();
    disposeGrads(grads);
    p.model.dispose();
  });

  it('same seed gives bit-identical weights, another seed different ones', () => {
    const ir = irOf(family);
    const a = lowerPipeline(ir, { seed: 5, trainSize: 12 });
    const b = lowerPipeline(ir, { seed: 5, trainSize: 12 });
    const c = lowerPipeline(ir, { seed: 6, trainSize: 12 });
    const sa = a.model.store.stateDict();
    const sb = b.model.store.stateDict();
    const sc = c.model.store.stateDict();
    let differs = false;
    for (const [k, v] of sa) {
      expect(Array.from(sb.get(k)!.values), k).toEqual(Array.from(v.values));
      if (Array.from(sc.get(k)!.values).some((x, i) => x !== v.values[i])) differs = true;
    }
    expect(differs).toBe(true);
    for (const p of [a, b, c]) p.model.dispose();
  });

  it('leaks no tensors across forward + backward + optimizer step', () => {
    const ir = irOf(family);
    const p = lowerPipeline(ir, { seed: 3, trainSize: 12 });
    const split = randomSplit(ir, 12, 9);
    for (const t of p.tasks) t.beforeTraining?.(split);
    const batch = batchOf(split, [0, 1, 2, 3]);
    trainStep(p, batch, 1, 1, probeLoss); // creates Adam's moment variables
    const before = tf.memory().numTensors;
    trainStep(p, batch, 2, 2);
    trainStep(p, batchOf(split, [4, 5, 6, 7]), 2, 3, probeLoss);
    expect(tf.memory().numTensors).toBe(before);
    p.optimizer.dispose();
    p.model.dispose();
  });
});

describe('LMF', () => {
  it('keeps the frozen fusion weights and bias unchanged while the factors train', () => {
    const ir = irOf('lmf');
    const p = lowerPipeline(ir, { seed: 1, trainSize: 12 });
    const split = randomSplit(ir, 12, 2);
    const get = (k: string) => Array.from(p.model.store.get(k).dataSync());
    const w0 = get('fusion.fusion_weights');
    const b0 = get('fusion.fusion_bias');
    const f0 = get('fusion.audio_factor');
    for (let s = 0; s < 3; s++) trainStep(p, batchOf(split, [4 * s, 4 * s + 1, 4 * s + 2, 4 * s + 3]), 1, s);
    expect(get('fusion.fusion_weights')).toEqual(w0);
    expect(get('fusion.fusion_bias')).toEqual(b0);
    expect(get('fusion.audio_factor')).not.toEqual(f0);
    const frozen = p.optimizer.groups.find((g) => g.name === 'frozen')!;
    expect(frozen.trainable).toBe(false);
    expect(frozen.params.map((v) => p.model.store.byVariableName(v.name)!.key)).toEqual(['fusion.fusion_weights', 'fusion.fusion_bias']);
    p.optimizer.dispose();
    p.model.dispose();
  });

  it('initialises factors Xavier-normal with PyTorch fan rules and the bias at zero', () => {
    const ir = irOf('lmf');
    const p = lowerPipeline(ir, { seed: 1, trainSize: 12 });
    expect(Array.from(p.model.store.get('fusion.fusion_bias').dataSync())).toEqual([0]);
    // text_factor [3, 4, 1]: fan_in = 4, fan_out = 3 -> std sqrt(2/7); many draws keep well inside 5 std.
    const t = Array.from(p.model.store.get('fusion.text_factor').dataSync());
    expect(t.every((x) => Math.abs(x) < 5 * Math.sqrt(2 / 7))).toBe(true);
    expect(new Set(t).size).toBe(t.length);
    p.model.dispose();
  });
});

describe('TFN', () => {
  it('squashes the output into (-3, 3) even for extreme inputs, with constant range buffers', () => {
    const ir = irOf('tfn');
    const p = lowerPipeline(ir, { seed: 4, trainSize: 12 });
    const split = randomSplit(ir, 8, 4);
    for (const a of Object.values(split.features)) for (let i = 0; i < a.data.length; i++) a.data[i] = a.data[i]! * 1000;
    const batch = batchOf(split, [0, 1, 2, 3, 4, 5, 6, 7]);
    const ys = tf.tidy(() => Array.from(p.model.forward(batch, trainCtx(1)).heads['M']!.dataSync()));
    expect(ys.every((y) => y > -3 && y < 3)).toBe(true);
    expect(Array.from(p.model.store.get('heads.M.output_range.scale').dataSync())).toEqual([6]);
    expect(Array.from(p.model.store.get('heads.M.output_range.shift').dataSync())).toEqual([-3]);
    expect(p.model.store.entry('heads.M.output_range.scale')!.trainable).toBe(false);
    p.model.dispose();
  });
});

describe('optimizer groups', () => {
  it('splits no_decay params into a weight-decay-0 group and follows the schedule (adam / adamw)', () => {
    const p = lowerPipeline(irOf('self_mm'), { seed: 1, trainSize: 12 });
    const names = p.optimizer.groups.map((g) => g.name);
    expect(names).toEqual(['audio', 'vision', 'vision_no_decay', 'other']);
    const nd = p.optimizer.groups.find((g) => g.name === 'vision_no_decay')!;
    expect(nd.weightDecay).toBe(0);
    expect(nd.lr).toBe(5e-3);
    expect(nd.params.map((v) => p.model.store.byVariableName(v.name)!.key).every((k) => k.includes('bias'))).toBe(true);
    expect(p.optimizer.groups.find((g) => g.name === 'vision')!.weightDecay).toBe(1e-3);
    expect(p.optimizer.mode).toBe('adam');
    p.model.dispose();
    const q = lowerPipeline(irOf('lf_dnn'), { seed: 1, trainSize: 12 });
    expect(q.optimizer.mode).toBe('adamw');
    expect(q.optimizer.groups[0]!.weightDecay).toBe(1e-2);
    q.model.dispose();
  });
});

describe('encoders', () => {
  it('packed LSTM encoders ignore the frames past each sample length', () => {
    const ir = irOf('self_mm');
    const p = lowerPipeline(ir, { seed: 2, trainSize: 12 });
    const split = randomSplit(ir, 4, 8);
    const batch = batchOf(split, [0, 1, 2, 3]);
    const run = (b: Batch) => tf.tidy(() => {
      const o = p.model.forward(b, evalCtx());
      return [...o.heads['A']!.dataSync(), ...o.heads['V']!.dataSync()];
    });
    const y0 = run(batch);
    for (const m of ['audio', 'vision']) {
      const a = batch.features[m]!;
      const [B, T, D] = a.shape as [number, number, number];
      for (let b = 0; b < B; b++) for (let t = batch.lengths[m]![b]!; t < T; t++) for (let d = 0; d < D; d++) a.data[(b * T + t) * D + d] = 99;
    }
    expect(run(batch)).toEqual(y0);
    // The frames inside the lengths do matter.
    batch.features['audio']!.data[0] = 42;
    expect(run(batch)).not.toEqual(y0);
    p.model.dispose();
  });

  it('reports a batch that lacks a modality as MSA6701', () => {
    const ir = irOf('tfn');
    const p = lowerPipeline(ir, { seed: 2, trainSize: 12 });
    const batch = batchOf(randomSplit(ir, 2, 1), [0, 1]);
    delete batch.features['vision'];
    expect(() => tf.tidy(() => { p.model.forward(batch, evalCtx()); })).toThrow(expect.objectContaining({ code: 'MSA6701' }));
    p.model.dispose();
  });
});
