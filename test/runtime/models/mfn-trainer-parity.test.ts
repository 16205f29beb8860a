// MFN's trainer (trains/singleTask/MFN.py) against MMSA's own: from the mfn_mosi checkpoint MMSA's MFN code trained
// (tools/make-mmsa-checkpoints.py), two epochs over the training split in file order, batches of 20 (the last one
// partial), dropout off, give MMSA's per-batch L1 losses, parameters and test predictions within 1e-4. Runs mmsa's
// real training loop (trainEpoch) on the wasm backend with the native kernels, as `mmsa run` does. With dropout on,
// one network at a time: the memory's mean and spread over fresh masks match those of MMSA's nn.Dropout modules.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/compile.js';
import { mapMmsaNames } from '../../../src/compiler/ir/mmsa-names.js';
import { setSpecPath } from '../../../src/compiler/spec/spec-path.js';
import { fromValue } from '../../../src/compiler/spec/spec-tree.js';
import { packageRoot } from '../../../src/paths.js';
import { setupBackend } from '../../../src/runtime/backend.js';
import { makeBatches } from '../../../src/runtime/data/batching.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import { lowerPipeline } from '../../../src/runtime/lower/lower-pipeline.js';
import { evalCtx, trainCtx } from '../../../src/runtime/nn/params.js';
import { runStages } from '../../../src/runtime/train/train-epoch.js';
import { matchMmsaCheckpoint, readMmsaCheckpoint } from '../../../src/runtime/weights/import-mmsa.js';
import { epochInFileOrder, type FileOrderEpochs, inFileOrder, loweredFromCheckpoint, testPredictions, withoutDropout, worstById } from './trainer-parity.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const dir = join(packageRoot(), 'test/fixtures/mmsa-checkpoints/mfn_mosi');

interface Expected {
  ids: string[];
  preds: number[];
  two_epochs: FileOrderEpochs;
  dropout_moments: { draws: number; ids: string[]; networks: Record<string, { p: number; mean: number[][]; std: number[][] }> };
}

/** Each sample's prediction mean and standard deviation (n - 1) over draws x B predictions, draw-major. */
function momentsOf(ys: Float32Array[], B: number): { mean: number[]; std: number[] } {
  const n = ys.length;
  const mean = Array.from({ length: B }, (_, i) => ys.reduce((s, y) => s + y[i]!, 0) / n);
  const std = mean.map((m, i) => Math.sqrt(ys.reduce((s, y) => s + (y[i]! - m) ** 2, 0) / (n - 1)));
  return { mean, std };
}

describe("MFN's training loop", () => {
  it("two epochs from MMSA's checkpoint give MMSA's batch losses, parameters and predictions (dropout off)", { timeout: 120_000 }, async () => {
    const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const { ir, modules, names, p, match } = loweredFromCheckpoint(compileFile(join(dir, 'pipeline.yaml'), { env: {} }), dir);
    // MMSA's L1 loss, Adam at its learning rate and weight decay, no clipping: what the paper config compiles to.
    expect([ir.schedule.clip, ir.schedule.gradAccumSteps]).toEqual([null, 1]);
    const data = await loadDataset(ir);
    const bs = e.two_epochs.batch_size;
    // The fixture pipeline keeps the paper config's batch size (128 > 48 samples); the loop batches by the schedule's.
    (ir.schedule as { batchSize: number }).batchSize = bs;
    expect(inFileOrder(data.train, bs).map((b) => Array.from(b.indexes, (i) => data.train.ids[i]!))).toEqual(e.two_epochs.batch_ids);
    const forward = withoutDropout(p);
    const stages = runStages(ir, p);
    const losses: number[][] = [];
    for (let epoch = 1; epoch <= e.two_epochs.epochs; epoch++) {
      const { losses: got, totals } = await epochInFileOrder({ ir, p, data, stages, epoch, stepsPerEpoch: 3 });
      expect([totals.optimizerSteps, got.length]).toEqual([3, 3]);
      losses.push(got);
    }
    for (const [k, ep] of e.two_epochs.losses.entries()) for (const [j, l] of ep.entries()) expect(Math.abs(losses[k]![j]! - l)).toBeLessThan(1e-4);
    // Every parameter after the six steps, against the state_dict MMSA's trainer left.
    const after = matchMmsaCheckpoint(readMmsaCheckpoint(join(dir, 'after-two-epochs.pth')), names, ir, modules);
    expect(after.weights.size).toBe(match.weights.size);
    let worstParam = 0;
    let moved = 0;
    for (const [key, w] of after.weights) {
      const v = p.model.store.get(key).dataSync();
      const before = match.weights.get(key)!.values;
      w.values.forEach((x, i) => {
        worstParam = Math.max(worstParam, Math.abs(v[i]! - x));
        moved = Math.max(moved, Math.abs(x - before[i]!));
      });
    }
    expect(worstParam).toBeLessThan(1e-4);
    expect(moved).toBeGreaterThan(1e-3);
    const got = testPredictions(forward, data, bs);
    expect(worstById(got, e.ids, e.two_epochs.preds)).toBeLessThan(1e-4);
    // The two epochs moved the predictions far more than that.
    expect(worstById(got, e.ids, e.preds)).toBeGreaterThan(0.01);
    p.optimizer.dispose();
    p.model.store.dispose();
  });

  // MMSA's nn.Dropout module -> the fixture pipeline's key of its p.
  const networks: [string, string][] = [['att1_dropout', 'nn1'], ['att2_dropout', 'nn2'], ['gamma1_dropout', 'gamma1'], ['gamma2_dropout', 'gamma2']];

  it.each(networks)("dropout on in %s only: the memory's mean and spread over fresh masks match MMSA's (placement, 1/(1-p) scaling)", { timeout: 120_000 }, async (mmsaName, key) => {
    const all = (JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected).dropout_moments;
    const e = all.networks[mmsaName]!;
    // This network's dropout at the p the tool gave MMSA's module, every other one (and the head's) at 0.
    const r = compileFile(join(dir, 'pipeline.yaml'), {
      env: {},
      transform: (tree0) => {
        let tree = tree0;
        for (const [, k] of networks) {
          const set = setSpecPath(tree, [{ key: 'fusion' }, { key: k }, { key: 'dropout' }], fromValue(k === key ? e.p : 0, tree.span), tree.span);
          if (set.ok) tree = set.tree;
        }
        const head = setSpecPath(tree, [{ key: 'heads' }, { key: 'M' }, { key: 'dropout' }], fromValue(0, tree.span), tree.span);
        return head.ok ? head.tree : tree;
      },
    });
    const ir = r.ir!;
    const fusion = r.spec!.fusion as unknown as Record<string, { dropout: number }>;
    expect(networks.map(([, k]) => fusion[k]!.dropout)).toEqual(networks.map(([, k]) => (k === key ? e.p : 0)));
    const modules = r.spec!.mmsa_modules ?? {};
    const p = lowerPipeline(ir, { seed: 1, trainSize: 48 });
    const match = matchMmsaCheckpoint(readMmsaCheckpoint(join(dir, 'checkpoint.pth')), mapMmsaNames(ir, modules), ir, modules);
    for (const [k, w] of match.weights) p.model.store.get(k).assign(tf.tensor(w.values, w.shape));
    const data = await loadDataset(ir);
    const batch = makeBatches(data.train, { batchSize: all.ids.length, shuffle: false, seed: 1 })[0]!;
    expect(Array.from(batch.indexes, (i) => data.train.ids[i]!)).toEqual(all.ids);
    const M = e.mean[0]!.length;
    // mem_T: the tail of the fusion's output [h_T of every input; mem_T] (MMSA's `L`).
    const memOf = (ctx: ReturnType<typeof evalCtx>) => tf.tidy(() => {
      const l = p.model.forward(batch, ctx).nodes!['fusion']!;
      return tf.slice(l, [0, l.shape[1]! - M], [-1, M]).dataSync() as Float32Array;
    });
    const draws: Float32Array[] = [];
    for (let k = 0; k < all.draws; k++) draws.push(memOf(trainCtx(1000 + k)));
    const got = momentsOf(draws, all.ids.length * M);
    const want = { mean: e.mean.flat(), std: e.std.flat() };
    const spread = Math.max(...want.std);
    // Per entry: the difference of the means in standard errors (of two means of `draws` draws each) and the ratio of
    // the spreads, where the masks move the entry by more than float rounding does.
    const z: number[] = [];
    const logRatio: number[] = [];
    want.mean.forEach((m, i) => {
      const se = Math.sqrt((got.std[i]! ** 2 + want.std[i]! ** 2) / all.draws);
      z.push(se > 0 ? (got.mean[i]! - m) / se : 0);
      expect(Math.abs(got.mean[i]! - m)).toBeLessThan(4.5 * se + 1e-6);
      if (want.std[i]! > 1e-7) logRatio.push(Math.log(got.std[i]! / want.std[i]!));
      else expect(got.std[i]!).toBeLessThan(1e-6);
    });
    // Same distribution: z is about standard normal, and the spreads agree on average within 10% (one network's p
    // in another's place, e.g. 0.1 for 0.3, changes them by 2x; dropping the 1/(1-p) scaling moves the means).
    expect(Math.sqrt(z.reduce((s2, v) => s2 + v * v, 0) / z.length)).toBeLessThan(1.5);
    if (logRatio.length) {
      expect(Math.abs(logRatio.reduce((s2, v) => s2 + v, 0) / logRatio.length)).toBeLessThan(Math.log(1.1));
      // A single entry's spread from 200 draws of a skewed (few-units) distribution scatters by ~10%.
      expect(Math.max(...logRatio.map(Math.abs))).toBeLessThan(Math.log(1.6));
    }
    // In this checkpoint att2's ReLU units are all off for these samples (MMSA's spread is exactly 0); the others move
    // the memory.
    if (mmsaName === 'att2_dropout') expect(spread).toBe(0);
    else expect(spread).toBeGreaterThan(1e-5);
    p.optimizer.dispose();
    p.model.store.dispose();
  });
});
