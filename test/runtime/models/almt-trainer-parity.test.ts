// ALMT's trainer (trains/singleTask/ALMT.py) against MMSA's own: from the almt_mosi checkpoint MMSA's ALMT code
// trained on the small Hugging Face-layout BERT (tools/make-mmsa-checkpoints.py), three epochs over the training split
// in file order, batches of 16, every dropout off (BERT's too), give MMSA's per-batch MSE losses and test predictions
// within 1e-4. The epochs train at MMSA's rates (0, then half and all of the learning rate: its warm-up + cosine
// stepped after each validation), with AdamW over every parameter, BERT fine-tuned. Runs mmsa's real training loop
// (trainEpoch, the LrSchedule callback) on the wasm backend with the native kernels, as `mmsa run` does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/compile.js';
import { packageRoot } from '../../../src/paths.js';
import { setupBackend } from '../../../src/runtime/backend.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import { LrSchedule } from '../../../src/runtime/train/callbacks/lr-scheduler.js';
import { runStages } from '../../../src/runtime/train/train-epoch.js';
import { epochInFileOrder, type FileOrderEpochs, inFileOrder, loweredFromCheckpoint, testPredictions, withoutDropout, worstById } from './trainer-parity.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const dir = join(packageRoot(), 'test/fixtures/mmsa-checkpoints/almt_mosi');

interface Expected {
  ids: string[];
  preds: number[];
  step_lrs: number[];
  three_epochs: FileOrderEpochs;
}

describe("ALMT's training loop", () => {
  it("three epochs from MMSA's checkpoint give MMSA's batch losses and test predictions (dropout off)", { timeout: 120_000 }, async () => {
    const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const { ir, p, match } = loweredFromCheckpoint(compileFile(join(dir, 'pipeline.yaml'), { env: {} }), dir);
    expect(match.weights.size).toBe(p.model.store.entries().length);
    // What the paper config compiles to: one AdamW over every parameter (BERT included), no clipping, a step a batch.
    expect([ir.schedule.clip, ir.schedule.gradAccumSteps, p.optimizer.mode, p.optimizer.groups.length]).toEqual([null, 1, 'adamw', 1]);
    expect(p.optimizer.groups[0]!.params).toHaveLength(match.weights.size);
    const data = await loadDataset(ir);
    const bs = e.three_epochs.batch_size;
    expect(ir.schedule.batchSize).toBe(bs);
    expect(inFileOrder(data.train, bs).map((b) => Array.from(b.indexes, (i) => data.train.ids[i]!))).toEqual(e.three_epochs.batch_ids);
    const forward = withoutDropout(p);
    const stages = runStages(ir, p);
    // The callback `mmsa run` adds for the stage's scheduler (executor.ts), stepped after each epoch as there.
    expect(stages).toHaveLength(1);
    const schedule = new LrSchedule({ scheduler: stages[0]!.scheduler!, groups: stages[0]!.groups, split: data.valid });
    schedule.onTrainBegin();
    const losses: number[][] = [];
    const rates: number[] = [];
    for (let epoch = 1; epoch <= e.three_epochs.epochs; epoch++) {
      rates.push(p.optimizer.groups[0]!.lr);
      const { losses: got, totals } = await epochInFileOrder({ ir, p, data, stages, epoch, stepsPerEpoch: 3 });
      expect([totals.optimizerSteps, got.length]).toEqual([3, 3]);
      losses.push(got);
      schedule.onEpochEnd({ report: {} } as never);
    }
    // The rates MMSA's own AdamW stepped with in its run of this checkpoint (three steps an epoch).
    expect(rates).toEqual(e.step_lrs.filter((_, i) => i % 3 === 0).slice(0, 3));
    expect(rates).toEqual([0, 0.0005, 0.001]);
    for (const [k, ep] of e.three_epochs.losses.entries()) for (const [j, l] of ep.entries()) expect(Math.abs(losses[k]![j]! - l), `epoch ${k + 1} batch ${j + 1}`).toBeLessThan(1e-4);
    const got = testPredictions(forward, data, bs);
    expect(worstById(got, e.ids, e.three_epochs.preds)).toBeLessThan(1e-4);
    // The epochs at rates above 0 moved the predictions far more than that.
    expect(worstById(got, e.ids, e.preds)).toBeGreaterThan(0.1);
    p.optimizer.dispose();
    p.model.store.dispose();
  });
});
