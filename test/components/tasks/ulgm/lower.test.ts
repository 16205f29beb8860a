// Task 'ulgm' lowered in a small Self-MM pipeline: loss 0 in epoch 1, label updates from from_epoch, snapshots, saved
// label banks, and a split of the wrong size.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../../src/runtime/backend.js';
import type { Batch } from '../../../../src/runtime/data/types.js';
import { lowerPipeline } from '../../../../src/runtime/lower/lower-pipeline.js';
import type { LoweredPipeline, ModelOutputs, TaskRuntime } from '../../../../src/runtime/lower/types.js';
import { trainCtx } from '../../../../src/runtime/nn/params.js';
import type { UlgmSnapshot } from '../../../../src/components/tasks/ulgm/state.js';
import { disposeGrads } from '../../../../src/runtime/train/optim/adam.js';
import { batchOf, compileYaml, randomSplit, SPECS } from '../../../runtime/lower/helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

describe('ulgm', () => {
  const N = 12;
  function setup(extra = '', outDir?: string): { p: LoweredPipeline; ulgm: TaskRuntime } {
    const yaml = SPECS.self_mm.replace('ulgm: {type: ulgm, H: 3.0}', `ulgm: {type: ulgm, H: 3.0${extra}}`);
    const ir = compileYaml(yaml, 'ulgm');
    const p = lowerPipeline(ir, { seed: 3, trainSize: N, ...(outDir ? { outDir } : {}) });
    return { p, ulgm: p.tasks.find((t) => t.type === 'ulgm')! };
  }

  /** One training step: forward, loss of all tasks, backward, Adam step, ULGM's afterStep. Returns the ULGM loss. */
  function step(p: LoweredPipeline, ulgm: TaskRuntime, batch: Batch, epoch: number, seed: number): number {
    let kept: ModelOutputs | undefined;
    let ulgmLoss = Number.NaN;
    const { value, grads } = tf.variableGrads(() => {
      const out = p.model.forward(batch, trainCtx(seed));
      kept = { heads: {}, features: {} };
      for (const [k, t] of Object.entries(out.features)) kept.features[k] = tf.keep(t);
      const losses = p.tasks.map((t) => t.trainLoss(out, batch, epoch));
      ulgmLoss = losses[p.tasks.indexOf(ulgm)]!.dataSync()[0]!;
      return tf.addN(losses) as tf.Scalar;
    }, p.optimizer.variables());
    p.optimizer.step(grads);
    ulgm.afterStep!(kept!, batch, epoch);
    value.dispose();
    disposeGrads(grads);
    for (const t of Object.values(kept!.features)) t.dispose();
    return ulgmLoss;
  }

  it('has loss exactly 0 in epoch 1 and a positive loss once the labels moved', () => {
    const { p, ulgm } = setup();
    const split = randomSplit(p.model.ir, N, 21);
    ulgm.beforeTraining!(split);
    const snap0 = ulgm.snapshot!() as UlgmSnapshot;
    for (const b of ['fusion', 'text', 'audio', 'vision']) expect(snap0.labels[b]).toEqual(Array.from(split.labels['M']!));
    const batches = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]];
    for (const [i, idx] of batches.entries()) expect(step(p, ulgm, batchOf(split, idx), 1, i)).toBe(0);
    const e1 = ulgm.onEpochEnd!(1) as { drift: Record<string, number> };
    expect(e1.drift).toEqual({ text: 0, audio: 0, vision: 0 });
    // Epoch 2 updates labels after each step (from_epoch 2); the loss of the first batch still reads unmoved labels.
    for (const [i, idx] of batches.entries()) step(p, ulgm, batchOf(split, idx), 2, 10 + i);
    const e2 = ulgm.onEpochEnd!(2) as { drift: Record<string, number> };
    for (const m of ['text', 'audio', 'vision']) expect(e2.drift[m]).toBeGreaterThan(0);
    const loss3 = step(p, ulgm, batchOf(split, batches[0]!), 3, 20);
    expect(loss3).toBeGreaterThan(0);
    // Its parts per unimodal head add up to the task loss, and are read once.
    const parts = ulgm.lastHeadLosses!();
    expect(Object.keys(parts).sort()).toEqual(['A', 'T', 'V']);
    expect(Object.values(parts).reduce((a, b) => a + b, 0)).toBeCloseTo(loss3, 5);
    expect(ulgm.lastHeadLosses!()).toEqual({});
    expect(ulgm.evalLoss).toBeUndefined();
    p.optimizer.dispose();
    p.model.dispose();
  });

  it('does not update labels before from_epoch, and snapshot/restore round-trips', () => {
    const { p, ulgm } = setup(', from_epoch: 3');
    const split = randomSplit(p.model.ir, N, 22);
    ulgm.beforeTraining!(split);
    for (const e of [1, 2]) step(p, ulgm, batchOf(split, [0, 1, 2, 3, 4, 5]), e, e);
    const snap = ulgm.snapshot!() as UlgmSnapshot;
    expect(snap.labels['text']).toEqual(Array.from(split.labels['M']!));
    // Features of the visited rows are stored (features + centres run from epoch 1).
    expect(snap.features['fusion']!.slice(0, 6).some((x) => x !== 0)).toBe(true);
    step(p, ulgm, batchOf(split, [0, 1, 2, 3, 4, 5]), 3, 3);
    const moved = ulgm.snapshot!() as UlgmSnapshot;
    expect(moved.labels['text']).not.toEqual(snap.labels['text']);
    ulgm.restore!(snap);
    expect((ulgm.snapshot!() as UlgmSnapshot).labels['text']).toEqual(snap.labels['text']);
    p.optimizer.dispose();
    p.model.dispose();
  });

  it('writes the label banks per epoch with save_labels, atomically', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsa-ulgm-'));
    const { p, ulgm } = setup(', save_labels: true', dir);
    const split = randomSplit(p.model.ir, N, 23);
    ulgm.beforeTraining!(split);
    const r = ulgm.onEpochEnd!(1) as { labelsFile?: string };
    const file = join(dir, 'labels-epoch-1.json');
    expect(r.labelsFile).toBe(file);
    expect(existsSync(file)).toBe(true);
    const data = JSON.parse(readFileSync(file, 'utf8')) as { epoch: number; labels: Record<string, number[]> };
    expect(data.epoch).toBe(1);
    expect(data.labels['audio']!.length).toBe(N);
    expect(readdirSync(dir)).toEqual(['labels-epoch-1.json']);
    p.model.dispose();
  });

  it('rejects a training split of another size than the banks', () => {
    const { p, ulgm } = setup();
    expect(() => ulgm.beforeTraining!(randomSplit(p.model.ir, N + 1, 1))).toThrow(expect.objectContaining({ code: 'MSA6704' }));
    p.model.dispose();
  });
});
