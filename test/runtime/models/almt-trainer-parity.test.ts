// ALMT's trainer (trains/singleTask/ALMT.py) against MMSA's own: from the almt_mosi checkpoint MMSA's ALMT code
// trained on the small Hugging Face-layout BERT (tools/make-mmsa-checkpoints.py), three epochs over the training split
// in file order, batches of 16, every dropout off (BERT's too), give MMSA's per-batch MSE losses and test predictions
// within 1e-4. The epochs train at MMSA's rates (0, then half and all of the learning rate: its warm-up + cosine
// stepped after each validation), with AdamW over every parameter, BERT fine-tuned. Runs mmsa's real training loop
// (trainEpoch, the LrSchedule callback) on the wasm backend with the native kernels, as `mmsa run` does.
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
import { LrSchedule } from '../../../src/runtime/train/callbacks/lr-scheduler.js';
import { runStages, trainEpoch } from '../../../src/runtime/train/train-epoch.js';
import { matchMmsaCheckpoint, readMmsaCheckpoint } from '../../../src/runtime/weights/import-mmsa.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const dir = join(packageRoot(), 'test/fixtures/mmsa-checkpoints/almt_mosi');

interface Expected {
  ids: string[];
  preds: number[];
  step_lrs: number[];
  three_epochs: { batch_size: number; epochs: number; batch_ids: string[][]; losses: number[][]; preds: number[] };
}

describe("ALMT's training loop", () => {
  it("three epochs from MMSA's checkpoint give MMSA's batch losses and test predictions (dropout off)", { timeout: 120_000 }, async () => {
    const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const r = compileFile(join(dir, 'pipeline.yaml'), { env: {} });
    const ir = r.ir!;
    const modules = r.spec!.mmsa_modules ?? {};
    const p = lowerPipeline(ir, { seed: 1, trainSize: 48 });
    const match = matchMmsaCheckpoint(readMmsaCheckpoint(join(dir, 'checkpoint.pth')), mapMmsaNames(ir, modules), ir, modules);
    expect(match.weights.size).toBe(p.model.store.entries().length);
    for (const [key, w] of match.weights) p.model.store.get(key).assign(tf.tensor(w.values, w.shape));
    // What the paper config compiles to: one AdamW over every parameter (BERT included), no clipping, a step a batch.
    expect([ir.schedule.clip, ir.schedule.gradAccumSteps, p.optimizer.mode, p.optimizer.groups.length]).toEqual([null, 1, 'adamw', 1]);
    expect(p.optimizer.groups[0]!.params).toHaveLength(match.weights.size);
    const data = await loadDataset(ir);
    const bs = e.three_epochs.batch_size;
    expect(ir.schedule.batchSize).toBe(bs);
    const inOrder = (split: typeof data.train) => makeBatches(split, { batchSize: bs, shuffle: false, seed: 1 });
    expect(inOrder(data.train).map((b) => Array.from(b.indexes, (i) => data.train.ids[i]!))).toEqual(e.three_epochs.batch_ids);
    // MMSA's dropouts at p 0: the forward in eval mode.
    const forward = p.model.forward.bind(p.model);
    p.model.forward = (b) => forward(b, evalCtx());
    const stages = runStages(ir, p);
    // The callback `mmsa run` adds for the stage's scheduler (executor.ts), stepped after each epoch as there.
    expect(stages).toHaveLength(1);
    const schedule = new LrSchedule({ scheduler: stages[0]!.scheduler!, groups: stages[0]!.groups, split: data.valid });
    schedule.onTrainBegin();
    const losses: number[][] = [];
    const rates: number[] = [];
    for (let epoch = 1; epoch <= e.three_epochs.epochs; epoch++) {
      rates.push(p.optimizer.groups[0]!.lr);
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
      schedule.onEpochEnd({ report: {} } as never);
    }
    // The rates MMSA's own AdamW stepped with in its run of this checkpoint (three steps an epoch).
    expect(rates).toEqual(e.step_lrs.filter((_, i) => i % 3 === 0).slice(0, 3));
    expect(rates).toEqual([0, 0.0005, 0.001]);
    for (const [k, ep] of e.three_epochs.losses.entries()) for (const [j, l] of ep.entries()) expect(Math.abs(losses[k]![j]! - l), `epoch ${k + 1} batch ${j + 1}`).toBeLessThan(1e-4);
    const got = new Map<string, number>();
    for (const b of inOrder(data.test)) {
      const y = forward(b, evalCtx()).heads['M']!.dataSync();
      b.indexes.forEach((i, k) => got.set(data.test.ids[i]!, y[k]!));
    }
    const worst = Math.max(...e.ids.map((id, i) => Math.abs(got.get(id)! - e.three_epochs.preds[i]!)));
    expect(worst).toBeLessThan(1e-4);
    // The epochs at rates above 0 moved the predictions far more than that.
    expect(Math.max(...e.ids.map((id, i) => Math.abs(got.get(id)! - e.preds[i]!)))).toBeGreaterThan(0.1);
    p.optimizer.dispose();
    p.model.store.dispose();
  });
});
