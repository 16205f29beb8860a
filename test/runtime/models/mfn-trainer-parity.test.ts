// MFN's trainer (trains/singleTask/MFN.py) against MMSA's own: from the mfn_mosi checkpoint MMSA's MFN code trained
// (tools/make-mmsa-checkpoints.py), two epochs over the training split in file order, batches of 20 (the last one
// partial), dropout off, give MMSA's per-batch L1 losses, parameters and test predictions within 1e-4. Runs mmsa's
// real training loop (trainEpoch) on the wasm backend with the native kernels, as `mmsa run` does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/compile.js';
import { mapMmsaNames } from '../../../src/compiler/ir/mmsa-names.js';
import { packageRoot } from '../../../src/paths.js';
import { setupBackend } from '../../../src/runtime/backend.js';
import { makeBatches } from '../../../src/runtime/data/batching.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import { lowerPipeline } from '../../../src/runtime/lower/lower-pipeline.js';
import { evalCtx } from '../../../src/runtime/nn/params.js';
import { runStages, trainEpoch } from '../../../src/runtime/train/train-epoch.js';
import { matchMmsaCheckpoint, readMmsaCheckpoint } from '../../../src/runtime/weights/import-mmsa.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const dir = join(packageRoot(), 'test/fixtures/mmsa-checkpoints/mfn_mosi');

interface Expected {
  ids: string[];
  preds: number[];
  two_epochs: { batch_size: number; epochs: number; batch_ids: string[][]; losses: number[][]; preds: number[] };
}

describe("MFN's training loop", () => {
  it("two epochs from MMSA's checkpoint give MMSA's batch losses, parameters and predictions (dropout off)", { timeout: 120_000 }, async () => {
    const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const r = compileFile(join(dir, 'pipeline.yaml'), { env: {} });
    const ir = r.ir!;
    const modules = r.spec!.mmsa_modules ?? {};
    const names = mapMmsaNames(ir, modules);
    const p = lowerPipeline(ir, { seed: 1, trainSize: 48 });
    const match = matchMmsaCheckpoint(readMmsaCheckpoint(join(dir, 'checkpoint.pth')), names, ir, modules);
    for (const [key, w] of match.weights) p.model.store.get(key).assign(tf.tensor(w.values, w.shape));
    // MMSA's L1 loss, Adam at its learning rate and weight decay, no clipping: what the paper config compiles to.
    expect([ir.schedule.clip, ir.schedule.gradAccumSteps]).toEqual([null, 1]);
    const data = await loadDataset(ir);
    const bs = e.two_epochs.batch_size;
    // The fixture pipeline keeps the paper config's batch size (128 > 48 samples); the loop batches by the schedule's.
    (ir.schedule as { batchSize: number }).batchSize = bs;
    const inOrder = (split: typeof data.train) => makeBatches(split, { batchSize: bs, shuffle: false, seed: 1 });
    expect(inOrder(data.train).map((b) => Array.from(b.indexes, (i) => data.train.ids[i]!))).toEqual(e.two_epochs.batch_ids);
    // MMSA's dropouts at p 0: the forward in eval mode.
    const forward = p.model.forward.bind(p.model);
    p.model.forward = (b) => forward(b, evalCtx());
    const stages = runStages(ir, p);
    const losses: number[][] = [];
    for (let epoch = 1; epoch <= e.two_epochs.epochs; epoch++) {
      const it = trainEpoch({
        ir, pipeline: p, data, stages, callbacks: [], seed: 1, epoch, batches: (split, o) => makeBatches(split, { ...o, shuffle: false }), runId: 'parity', stepsPerEpoch: 3,
        emit: (body) => ({ v: 1, t: 0, ...body }) as never,
      });
      const got: number[] = [];
      let res = await it.next();
      while (!res.done) {
        got.push(res.value.loss);
        res = await it.next();
      }
      expect([res.value.optimizerSteps, got.length]).toEqual([3, 3]);
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
    const got = new Map<string, number>();
    for (const b of inOrder(data.test)) {
      const y = forward(b, evalCtx()).heads['M']!.dataSync();
      b.indexes.forEach((i, k) => got.set(data.test.ids[i]!, y[k]!));
    }
    const worst = Math.max(...e.ids.map((id, i) => Math.abs(got.get(id)! - e.two_epochs.preds[i]!)));
    expect(worst).toBeLessThan(1e-4);
    // The two epochs moved the predictions far more than that.
    expect(Math.max(...e.ids.map((id, i) => Math.abs(got.get(id)! - e.preds[i]!)))).toBeGreaterThan(0.01);
    p.optimizer.dispose();
    p.model.store.dispose();
  });
});
