// MMIM's trainer (trains/singleTask/MMIM.py) against MMSA's own: from the mmim_mosi and mmim_sims checkpoints MMSA's MMIM code trained
// (tools/make-mmsa-checkpoints.py), one epoch of both stages on the training split in file order with dropout off
// (stage 1: -lld, every gradient clipped together, only the MMILB group steps; stage 2: L1 + alpha nce - beta lld -
// beta H with the previous batch's memory, the BERT and main groups step) gives MMSA's stage losses and test
// predictions within 1e-4. Runs mmsa's real training loop (trainEpoch with the spec's stages).
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
    const r = compileFile(join(dir, 'pipeline.yaml'), { env: {} });
    const ir = r.ir!;
    const modules = r.spec!.mmsa_modules ?? {};
    const p = lowerPipeline(ir, { seed: 1, trainSize: 48 });
    const match = matchMmsaCheckpoint(readMmsaCheckpoint(join(dir, 'checkpoint.pth')), mapMmsaNames(ir, modules), ir, modules);
    for (const [key, w] of match.weights) p.model.store.get(key).assign(tf.tensor(w.values, w.shape));
    const data = await loadDataset(ir);
    const inOrder = (split: typeof data.train) => makeBatches(split, { batchSize: 16, shuffle: false, seed: 1 });
    expect(inOrder(data.train).map((b) => Array.from(b.indexes, (i) => data.train.ids[i]!))).toEqual(e.first_epoch.batch_ids);
    // MMSA's dropouts at p 0: the forward in eval mode.
    const forward = p.model.forward.bind(p.model);
    p.model.forward = (b) => forward(b, evalCtx());
    const stages = runStages(ir, p);
    expect(stages.map((s) => [s.name, s.every, s.gradVars.length === p.optimizer.variables().filter((v) => v.trainable).length])).toEqual([['mmilb', 'epoch', true], ['main', 'batch', true]]);
    const it = trainEpoch({
      ir, pipeline: p, data, stages, callbacks: [], seed: 1, epoch: 1, batches: (split) => inOrder(split), runId: 'parity', stepsPerEpoch: 6,
      emit: (body) => ({ v: 1, t: 0, ...body }) as never,
    });
    let res = await it.next();
    while (!res.done) res = await it.next();
    const totals = res.value;
    expect(totals.optimizerSteps).toBe(6);
    // do_train logs sum(loss x batch) / train_samples per stage: with three batches of 16, the mean of the batch losses.
    const t = totals.taskLossSums;
    expect(t['mi_bound']! / 3).toBeCloseTo(e.first_epoch.losses.mmilb, 4);
    expect((t['main']! + t['nce']! + t['mi']!) / 3).toBeCloseTo(e.first_epoch.losses.main, 4);
    const got = new Map<string, number>();
    for (const b of inOrder(data.test)) {
      const y = forward(b, evalCtx()).heads['M']!.dataSync();
      b.indexes.forEach((i, k) => got.set(data.test.ids[i]!, y[k]!));
    }
    const worst = Math.max(...e.ids.map((id, i) => Math.abs(got.get(id)! - e.first_epoch.preds[i]!)));
    expect(worst).toBeLessThan(1e-4);
    // The epoch moved the predictions far more than that.
    expect(Math.max(...e.ids.map((id, i) => Math.abs(got.get(id)! - e.preds[i]!)))).toBeGreaterThan(0.1);
    p.optimizer.dispose();
    p.model.store.dispose();
  });
});
