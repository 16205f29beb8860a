// Fusion 'mfm' (MFM): the feedback decoder through the fused recurrence against MMSA's step loop (forward and
// gradients), MMSA's MMD kernel against plain arithmetic, finite-difference gradients of both, and one batch's loss
// terms of an MMSA-made checkpoint against the values MMSA's own code computed for the same batch.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { mmdKernel, mmdLoss, runFeedbackDecoder } from '../../../../src/components/fusions/mfm/nn.js';
import type { LstmCell } from '../../../../src/components/fusions/mfn/nn.js';
import { lowerOne, lowerTaskOf, seq, value } from '../../helpers.js';
import { evalCtx, trainCtx } from '../../../../src/runtime/nn/params.js';
import { compileFile } from '../../../../src/compiler/compile.js';
import { mapMmsaNames } from '../../../../src/compiler/ir/mmsa-names.js';
import { packageRoot } from '../../../../src/paths.js';
import { matchMmsaCheckpoint, readMmsaCheckpoint } from '../../../../src/runtime/weights/import-mmsa.js';
import { loadDataset } from '../../../../src/runtime/data/load-dataset.js';
import { makeBatches } from '../../../../src/runtime/data/batching.js';
import { lowerModel } from '../../../../src/runtime/lower/lower-model.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;

function cellOf(H: number, seed: number): LstmCell {
  return { hidden: H, wih: tf.variable(rand([4 * H, H], seed)), whh: tf.variable(rand([4 * H, H], seed + 1)), bih: tf.variable(rand([4 * H], seed + 2)), bhh: tf.variable(rand([4 * H], seed + 3)) };
}

/** MMSA's decoderLSTM.forward: LSTMCell(f) at step 0, LSTMCell(h_{t-1}) after, one step at a time. */
function decoderLoop(f: tf.Tensor2D, c: LstmCell, T: number): tf.Tensor3D {
  const [B, H] = f.shape;
  let h = tf.zeros([B, H]) as tf.Tensor2D;
  let cs = tf.zeros([B, H]) as tf.Tensor2D;
  const hs: tf.Tensor2D[] = [];
  for (let t = 0; t < T; t++) {
    const x = t === 0 ? f : h;
    const g = tf.add(tf.add(tf.matMul(x, c.wih, false, true), c.bih), tf.add(tf.matMul(h, c.whh, false, true), c.bhh));
    const [i, fg, gg, o] = tf.split(g, 4, 1);
    cs = tf.add(tf.mul(tf.sigmoid(fg!), cs), tf.mul(tf.sigmoid(i!), tf.tanh(gg!))) as tf.Tensor2D;
    h = tf.mul(tf.sigmoid(o!), tf.tanh(cs)) as tf.Tensor2D;
    hs.push(h);
  }
  return tf.stack(hs, 1) as tf.Tensor3D;
}

/** compute_kernel of models/singleTask/MFM.py in plain arithmetic. */
function kernelJs(x: number[][], y: number[][], divDim: boolean): number[][] {
  const d = x[0]!.length;
  return x.map((a) => y.map((b) => Math.exp(-(a.reduce((s, v, k) => s + (v - b[k]!) ** 2, 0) / d) / (divDim ? d : 1))));
}

describe('mfm nn', () => {
  it("the feedback decoder is MMSA's step loop, forward and gradients", () => {
    const c = cellOf(5, 10);
    const f = rand([3, 5], 1) as tf.Tensor2D;
    const w = rand([3, 7, 5], 2);
    for (const T of [1, 7]) {
      expect(maxDiff(runFeedbackDecoder(f, c, T), decoderLoop(f, c, T))).toBeLessThan(1e-5);
    }
    const vars = [c.wih, c.whh, c.bih, c.bhh];
    const loss = (run: typeof decoderLoop) => () => tf.sum(tf.mul(run(f, c, 7), w)) as tf.Scalar;
    const fused = tf.variableGrads(loss(runFeedbackDecoder), vars);
    const loop = tf.variableGrads(loss(decoderLoop), vars);
    for (const v of vars) expect(maxDiff(fused.grads[v.name]!, loop.grads[v.name]!)).toBeLessThan(1e-4);
    expect(tf.max(tf.abs(fused.grads[c.wih.name]!)).dataSync()[0]).toBeGreaterThan(1e-3);
    const df = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(runFeedbackDecoder(x as tf.Tensor2D, c, 7), w)))(f);
    const dfLoop = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(decoderLoop(x as tf.Tensor2D, c, 7), w)))(f);
    expect(maxDiff(df, dfLoop)).toBeLessThan(1e-5);
  });

  it("MMSA's kernel divides the mean squared distance by dim once more; mmd_kernel_div_dim false does not", () => {
    const x = rand([4, 3], 3) as tf.Tensor2D;
    const y = rand([2, 3], 4) as tf.Tensor2D;
    const xa = x.arraySync();
    const ya = y.arraySync();
    for (const divDim of [true, false]) {
      const want = kernelJs(xa, ya, divDim);
      const got = mmdKernel(x, y, divDim).arraySync();
      got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(want[i]![j]!, 6)));
    }
    const mean = (k: number[][]) => k.flat().reduce((s, v) => s + v, 0) / k.flat().length;
    const mmd = mean(kernelJs(ya, ya, true)) + mean(kernelJs(xa, xa, true)) - 2 * mean(kernelJs(ya, xa, true));
    // z = x, g = y: a sample of another size is allowed by the kernel, as MMSA's comment says.
    expect(mmdLoss(x, y, true).dataSync()[0]).toBeCloseTo(mmd, 6);
    expect(mmdLoss(x, x, true).dataSync()[0]).toBeCloseTo(0, 6);
  });

  it('finite differences agree with the gradients of the MMD and of the decoder', () => {
    const g = rand([4, 3], 5) as tf.Tensor2D;
    const z0 = rand([4, 3], 6);
    const c = cellOf(3, 20);
    const w = rand([4, 5, 3], 7);
    const fns: Array<(z: tf.Tensor) => tf.Scalar> = [
      (z) => tf.mul(mmdLoss(z as tf.Tensor2D, g, true), 100) as tf.Scalar,
      (z) => tf.sum(tf.mul(runFeedbackDecoder(z as tf.Tensor2D, c, 5), w)) as tf.Scalar,
    ];
    for (const fn of fns) {
      const grad = tf.grad(fn)(z0).dataSync();
      const base = z0.dataSync();
      const eps = 1e-2;
      for (let k = 0; k < base.length; k++) {
        const at = (d: number) => {
          const v = Float32Array.from(base);
          v[k] = v[k]! + d;
          return fn(tf.tensor2d(v, [4, 3])).dataSync()[0]!;
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        expect(Math.abs(numeric - grad[k]!)).toBeLessThan(5e-3 * Math.max(1, Math.abs(numeric)));
      }
    }
  });
});

describe('mfm fusion', () => {
  const params = {
    type: 'mfm', inputs: ['a', 'b'], hidden: [4, 3], memsize: 5, nn1: { hidden: 4, dropout: 0.5 }, nn2: { hidden: 3, dropout: 0 },
    gamma1: { hidden: 3, dropout: 0 }, gamma2: { hidden: 2, dropout: 0 }, zy: 3, fy: 2, z: [3, 2], f: [2, 2], zy_dropout: 0.5, z_dropout: [0.2, 0], mmd_kernel_div_dim: true,
  };

  it("publishes f_y, each input's reconstruction MSE and the MMD; a reconstruction loss reaches every decoder weight", () => {
    const n = lowerOne('fusion', params, [['a', seq(6, 3)], ['b', seq(6, 2)]]);
    const xa = rand([4, 6, 3], 8);
    const xb = rand([4, 6, 2], 9);
    const out = n.lowered.apply([value(xa), value(xb)], evalCtx());
    expect(out.tensor.shape).toEqual([4, 2]);
    expect(Object.keys(out.outputs!).sort()).toEqual(['mmd_loss', 'recon_loss_a', 'recon_loss_b', 'z_a', 'z_b', 'z_y']);
    expect(out.outputs!['z_y']!.shape).toEqual([4, 3]);
    expect(out.outputs!['mmd_loss']!.dataSync()[0]).toBeGreaterThan(0);
    // The decoder of 'a' reconstructs from [f_y; f_a]: its loss is the MSE of decoder_a.fc1's output against a.
    const vars = new Map(n.store.entries().filter((e) => !e.buffer).map((e) => [e.key, n.store.get(e.key) as tf.Variable]));
    const { grads } = tf.variableGrads(() => tf.sum(n.lowered.apply([value(xa), value(xb)], trainCtx(3)).outputs!['recon_loss_a']!) as tf.Scalar, [...vars.values()]);
    const gradOf = (k: string) => grads[vars.get(`fusion.${k}`)!.name];
    for (const k of ['decoder_a.lstm.weight_ih', 'decoder_a.lstm.weight_hh', 'decoder_a.fc1.weight', 'encoder_a.lstm.weight_ih', 'z_to_f_a_fc1.weight', 'zy_to_fy_fc2.weight', 'mfn_encoder.lstm_b.weight_ih', 'last_to_zy_fc1.weight']) {
      expect(tf.max(tf.abs(gradOf(k)!)).dataSync()[0], k).toBeGreaterThan(0);
    }
    // Input b's decoder and encoder play no part in a's reconstruction.
    for (const k of ['decoder_b.fc1.weight', 'encoder_b.fc1.weight']) {
      const g = gradOf(k);
      expect(g == null || tf.max(tf.abs(g)).dataSync()[0] === 0, k).toBe(true);
    }
    n.dispose();
  });

  it('z, f and z_dropout list one value per input (MSA4004)', () => {
    expect(() => lowerOne('fusion', { ...params, z: [3] }, [['a', seq(6, 3)], ['b', seq(6, 2)]])).toThrow(/MSA4004/);
    expect(() => lowerOne('fusion', { ...params, z_dropout: [0, 0, 0] }, [['a', seq(6, 3)], ['b', seq(6, 2)]])).toThrow(/MSA4004/);
  });
});

describe("an MMSA-made MFM checkpoint: one batch's loss terms as MMSA's code computed them", () => {
  it.each(['mfm_mosi', 'mfm_sims'])('%s', async (c) => {
    const dir = join(packageRoot(), 'test/fixtures/mmsa-checkpoints', c);
    const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
      loss_terms: { ids: string[]; disc_loss: number; gen_loss: number; mmd_loss: number; gaussians: number[][][] };
    };
    const lt = e.loss_terms;
    const r = compileFile(join(dir, 'pipeline.yaml'), { env: {} });
    const ir = r.ir!;
    const modules = r.spec!.mmsa_modules ?? {};
    const m = matchMmsaCheckpoint(readMmsaCheckpoint(join(dir, 'checkpoint.pth')), mapMmsaNames(ir, modules), ir, modules);
    const model = lowerModel(ir, { seed: 1 });
    for (const [key, w] of m.weights) (model.store.get(key) as tf.Variable).assign(tf.tensor(w.values, w.shape));
    const data = await loadDataset(ir);
    expect(data.test.ids).toEqual(lt.ids);
    const batch = makeBatches(data.test, { batchSize: data.test.n, shuffle: false, seed: 0, epoch: 0 })[0]!;
    const out = model.forward(batch, evalCtx());
    const y = Array.from(out.heads['M']!.dataSync());
    const labels = batch.labels['M']!;
    const disc = y.reduce((s: number, v: number, i: number) => s + Math.abs(v - labels[i]!), 0) / y.length;
    expect(Math.abs(disc - lt.disc_loss)).toBeLessThan(1e-5);
    // The reconstruction terms under the paper config's task weights (lda_xl, lda_xa, lda_xv).
    const weight = (t: string) => ir.tasks.find((x) => x.name === t)!.weight;
    const gen = ['text', 'audio', 'vision'].reduce((s, n) => s + weight(`recon_${n}`) * out.nodes![`fusion:recon_loss_${n}`]!.dataSync()[0]!, 0);
    expect(Math.abs(gen - lt.gen_loss)).toBeLessThan(1e-5 * Math.max(1, lt.gen_loss));
    // The MMD of this pipeline's factors against the very Gaussian samples MMSA drew (z_l, z_a, z_v, z_y).
    const zs = ['z_text', 'z_audio', 'z_vision', 'z_y'].map((k) => out.nodes![`fusion:${k}`] as tf.Tensor2D);
    const mmd = zs.reduce((s, z, i) => s + mmdLoss(z, tf.tensor2d(lt.gaussians[i]!), true).dataSync()[0]!, 0);
    expect(Math.abs(mmd - lt.mmd_loss)).toBeLessThan(1e-5);
    // The fusion's own MMD draws its samples from the run's generator: the same kind of number, not the same value.
    const own = out.nodes!['fusion:mmd_loss']!.dataSync()[0]!;
    expect(own).toBeGreaterThan(0);
    expect(Math.abs(own - lt.mmd_loss)).toBeLessThan(lt.mmd_loss);
    // The lowered tasks add up to MMSA's training loss disc + gen + lda_mmd * mmd (with the fusion's own MMD); only
    // the L1 counts in the validation Loss, as MMSA's do_test.
    const tasks = ir.tasks.map((t) => lowerTaskOf(t, data.train.n));
    const total = tasks.reduce((s, t) => s + t.trainLoss(out, batch, 0).dataSync()[0]!, 0);
    expect(Math.abs(total - (lt.disc_loss + lt.gen_loss + weight('mmd') * own))).toBeLessThan(1e-4 * Math.max(1, total));
    expect(tasks.filter((t) => t.evalLoss).map((t) => t.name)).toEqual(['main']);
    model.dispose();
  });
});
