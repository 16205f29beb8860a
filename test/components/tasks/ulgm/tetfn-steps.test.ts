// TETFN trained by Self-MM's recipe (the one ulgm task and the preset's five Adam groups): from MMSA's own TETFN
// checkpoint, three epochs over the first two training batches (dropout off) land where MMSA's own trainer
// (trains/multiTask/TETFN.py) does, ULGM's generated labels included: the M, T, A and V test predictions agree.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../../src/compiler/compile.js';
import { mapMmsaNames } from '../../../../src/compiler/ir/mmsa-names.js';
import { packageRoot } from '../../../../src/paths.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { makeBatches } from '../../../../src/runtime/data/batching.js';
import { loadDataset } from '../../../../src/runtime/data/load-dataset.js';
import { lowerPipeline } from '../../../../src/runtime/lower/lower-pipeline.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { disposeGrads } from '../../../../src/runtime/train/optim/adam.js';
import { matchMmsaCheckpoint, readMmsaCheckpoint } from '../../../../src/runtime/weights/import-mmsa.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const root = packageRoot();
const fixtures = join(root, 'test/fixtures/mmsa-checkpoints');
const work = mkdtempSync(join(tmpdir(), 'mmsa-tetfn-steps-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Steps { epochs: number; batch_ids: string[][]; preds_M: number[]; preds_T: number[]; preds_A: number[]; preds_V: number[] }

describe('TETFN with ULGM', () => {
  it("tetfn_mosi: three epochs of two batches from MMSA's checkpoint land where MMSA's own trainer's do", async () => {
    const c = 'tetfn_mosi';
    const e = JSON.parse(readFileSync(join(fixtures, c, 'expected.json'), 'utf8')) as { ids: string[]; preds: number[]; ulgm_steps: Steps };
    // The case's learning rates (cases.json: audio, video and other 3e-3); decays and BERT's rate are tetfn_mosi.yaml's.
    const f = join(work, 'steps.yaml');
    writeFileSync(f, [
      'version: 1',
      `extends: ${join(fixtures, c, 'pipeline.yaml')}`,
      `dataset: {path: ${join(fixtures, 'data/mosi-aligned.pkl')}, manifest: ${join(fixtures, 'data/mosi-aligned.dataset.yaml')}}`,
      'encoders:',
      `  bert: {type: bert, pretrained: ${join(root, 'test/fixtures/hf-bert/small-bert')}}`,
      'train:',
      '  optimizer:',
      '    groups:',
      '      - {name: bert, params: [encoders.bert], lr: 3.0e-5, weight_decay: 1.0e-3, no_decay: [bias, LayerNorm.bias, LayerNorm.weight]}',
      '      - {name: audio, params: [encoders.audio_lstm, encoders.audio], lr: 3.0e-3, weight_decay: 1.0e-2}',
      '      - {name: vision, params: [encoders.vision_lstm, encoders.vision], lr: 3.0e-3, weight_decay: 0.0}',
      "      - {name: other, params: ['*'], lr: 3.0e-3, weight_decay: 1.0e-2}",
      '',
    ].join('\n'));
    const r = compileFile(f, { env: {} });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ir = r.ir!;
    const modules = r.spec!.mmsa_modules ?? {};
    const data = await loadDataset(ir);
    const p = lowerPipeline(ir, { seed: 1, trainSize: data.train.n });
    const match = matchMmsaCheckpoint(readMmsaCheckpoint(join(fixtures, c, 'checkpoint.pth')), mapMmsaNames(ir, modules), ir, modules);
    for (const [key, w] of match.weights) p.model.store.get(key).assign(tf.tensor(w.values, w.shape));
    const batches = makeBatches(data.train, { batchSize: 16, shuffle: false, seed: 1 }).slice(0, 2);
    expect(batches.map((b) => Array.from(b.indexes, (i) => data.train.ids[i]!))).toEqual(e.ulgm_steps.batch_ids);
    expect(p.tasks.map((t) => t.type)).toEqual(['l1', 'ulgm']);
    for (const t of p.tasks) t.beforeTraining?.(data.train);
    // The training loop's step with the forward in eval mode: the tasks' losses with the banks as they stand, the
    // backward, ULGM's update from the step's features (labels from epoch 2), Adam every batch (update_epochs 1).
    for (let epoch = 1; epoch <= e.ulgm_steps.epochs; epoch++) {
      for (const b of batches) {
        const { value, grads } = tf.variableGrads(() => {
          const out = p.model.forward(b, evalCtx());
          const loss = tf.addN(p.tasks.map((t) => t.trainLoss(out, b, epoch))) as tf.Scalar;
          for (const t of p.tasks) t.afterStep?.(out, b, epoch);
          return loss;
        }, p.optimizer.variables());
        p.optimizer.step(grads);
        value.dispose();
        disposeGrads(grads);
      }
    }
    // ULGM generated unimodal labels (epochs 2 and 3) that differ from the multimodal one: the T/A/V losses were not 0.
    const drift = (p.tasks[1]!.onEpochEnd?.(e.ulgm_steps.epochs) as { drift: Record<string, number> }).drift;
    for (const m of ['text', 'audio', 'vision']) expect(drift[m]!, m).toBeGreaterThan(1e-3);
    const got: Record<string, Map<string, number>> = { M: new Map(), T: new Map(), A: new Map(), V: new Map() };
    for (const b of makeBatches(data.test, { batchSize: 16, shuffle: false, seed: 1 })) {
      const out = p.model.forward(b, evalCtx());
      for (const h of ['M', 'T', 'A', 'V']) {
        const y = out.heads[h]!.dataSync();
        b.indexes.forEach((i, k) => got[h]!.set(data.test.ids[i]!, y[k]!));
      }
    }
    for (const h of ['M', 'T', 'A', 'V'] as const) {
      const want = e.ulgm_steps[`preds_${h}`];
      expect(Math.max(...e.ids.map((id, i) => Math.abs(got[h]!.get(id)! - want[i]!))), h).toBeLessThan(1e-4);
    }
    // The steps moved the predictions far more than that.
    expect(Math.max(...e.ids.map((id, i) => Math.abs(got['M']!.get(id)! - e.preds[i]!)))).toBeGreaterThan(1e-2);
    p.optimizer.dispose();
    p.model.store.dispose();
  });
});
