// MMIM's trainer (trains/singleTask/MMIM.py) against MMSA's own: from the mmim_mosi and mmim_sims checkpoints MMSA's MMIM code trained
// (tools/make-mmsa-checkpoints.py), one epoch of both stages on the training split in file order with dropout off
// (stage 1: -lld, every gradient clipped together, only the MMILB group steps; stage 2: L1 + alpha nce - beta lld -
// beta H with the previous batch's memory, the BERT and main groups step) gives MMSA's stage losses and test
// predictions within 1e-4. Runs mmsa's real training loop (trainEpoch with the spec's stages).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/compile.js';
import { packageRoot } from '../../../src/paths.js';
import { setupBackend } from '../../../src/runtime/backend.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import { runStages } from '../../../src/runtime/train/train-epoch.js';
import { epochInFileOrder, inFileOrder, loweredFromCheckpoint, testPredictions, withoutDropout, worstById } from './trainer-parity.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

const fixtures = join(packageRoot(), 'test/fixtures/mmsa-checkpoints');

interface Expected {
  ids: string[];
  preds: number[];
  first_epoch: { batch_ids: string[][]; losses: { mmilb: number; main: number }; preds: number[] };
}

describe("MMIM's two training stages", () => {
  it.each(['mmim_mosi', 'mmim_sims'])("%s: one epoch from MMSA's checkpoint gives MMSA's stage losses and predictions (dropout off)", { timeout: 120_000 }, async (c) => {
    const dir = join(fixtures, c);
    const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const { ir, p } = loweredFromCheckpoint(compileFile(join(dir, 'pipeline.yaml'), { env: {} }), dir);
    const data = await loadDataset(ir);
    expect(ir.schedule.batchSize).toBe(16);
    expect(inFileOrder(data.train, 16).map((b) => Array.from(b.indexes, (i) => data.train.ids[i]!))).toEqual(e.first_epoch.batch_ids);
    const forward = withoutDropout(p);
    const stages = runStages(ir, p);
    expect(stages.map((s) => [s.name, s.every, s.gradVars.length === p.optimizer.variables().filter((v) => v.trainable).length])).toEqual([['mmilb', 'epoch', true], ['main', 'batch', true]]);
    const { totals } = await epochInFileOrder({ ir, p, data, stages, epoch: 1, stepsPerEpoch: 6 });
    expect(totals.optimizerSteps).toBe(6);
    // do_train logs sum(loss x batch) / train_samples per stage: with three batches of 16, the mean of the batch losses.
    const t = totals.taskLossSums;
    expect(t['mi_bound']! / 3).toBeCloseTo(e.first_epoch.losses.mmilb, 4);
    expect((t['main']! + t['nce']! + t['mi']!) / 3).toBeCloseTo(e.first_epoch.losses.main, 4);
    const got = testPredictions(forward, data, 16);
    expect(worstById(got, e.ids, e.first_epoch.preds)).toBeLessThan(1e-4);
    // The epoch moved the predictions far more than that.
    expect(worstById(got, e.ids, e.preds)).toBeGreaterThan(0.1);
    p.optimizer.dispose();
    p.model.store.dispose();
  });
});
