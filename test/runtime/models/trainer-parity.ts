// Shared steps of the trainer-parity tests (test/runtime/models/*-trainer-parity.test.ts): a fixture case's pipeline
// lowered with the weights of MMSA's checkpoint, MMSA's dropouts at p 0 (the forward in eval mode), mmsa's real
// training loop (trainEpoch) over batches in file order, and test predictions per sample id.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { CompileResult } from '../../../src/compiler/compile.js';
import { mapMmsaNames } from '../../../src/compiler/ir/mmsa-names.js';
import type { Ir } from '../../../src/compiler/ir/types.js';
import { makeBatches } from '../../../src/runtime/data/batching.js';
import type { LoadedDataset, SplitData } from '../../../src/runtime/data/types.js';
import { lowerPipeline } from '../../../src/runtime/lower/lower-pipeline.js';
import type { LoweredPipeline } from '../../../src/runtime/lower/types.js';
import { evalCtx } from '../../../src/runtime/nn/params.js';
import { runStages, trainEpoch } from '../../../src/runtime/train/train-epoch.js';
import { matchMmsaCheckpoint, readMmsaCheckpoint } from '../../../src/runtime/weights/import-mmsa.js';

/**
 * What tools/make-mmsa-checkpoints.py's `epochs_in_file_order` records of MMSA's own trainer (expected.json's
 * `two_epochs` of MFN, `three_epochs` of ALMT): each batch's sample ids and losses, the test predictions after.
 */
export interface FileOrderEpochs {
  batch_size: number;
  epochs: number;
  batch_ids: string[][];
  losses: number[][];
  preds: number[];
}

/** The compiled fixture pipeline lowered, every parameter set from `<dir>/<checkpoint>` (MMSA's state_dict). */
export function loweredFromCheckpoint(r: CompileResult, dir: string, checkpoint = 'checkpoint.pth') {
  const ir = r.ir!;
  const modules = r.spec!.mmsa_modules ?? {};
  const names = mapMmsaNames(ir, modules);
  const p = lowerPipeline(ir, { seed: 1, trainSize: 48 });
  const match = matchMmsaCheckpoint(readMmsaCheckpoint(join(dir, checkpoint)), names, ir, modules);
  for (const [key, w] of match.weights) p.model.store.get(key).assign(tf.tensor(w.values, w.shape));
  return { ir, modules, names, p, match };
}

/** MMSA's dropouts at p 0: the pipeline's forward in eval mode from now on; returns the original forward. */
export function withoutDropout(p: LoweredPipeline): LoweredPipeline['model']['forward'] {
  const forward = p.model.forward.bind(p.model);
  p.model.forward = (b) => forward(b, evalCtx());
  return forward;
}

/** A split's batches in file order. */
export function inFileOrder(split: SplitData, batchSize: number) {
  return makeBatches(split, { batchSize, shuffle: false, seed: 1 });
}

/** One epoch of mmsa's training loop over batches of the schedule's size in file order: each batch's loss and the totals. */
export async function epochInFileOrder(o: { ir: Ir; p: LoweredPipeline; data: LoadedDataset; stages: ReturnType<typeof runStages>; epoch: number; stepsPerEpoch: number }) {
  const it = trainEpoch({
    ir: o.ir, pipeline: o.p, data: o.data, stages: o.stages, callbacks: [], seed: 1, epoch: o.epoch,
    batches: (split, b) => inFileOrder(split, b.batchSize), runId: 'parity', stepsPerEpoch: o.stepsPerEpoch,
    emit: (body) => ({ v: 1, t: 0, ...body }) as never,
  });
  const losses: number[] = [];
  let res = await it.next();
  while (!res.done) {
    losses.push(res.value.loss);
    res = await it.next();
  }
  return { losses, totals: res.value };
}

/** The M head's test prediction of every sample id (batches of `batchSize` in file order, eval mode). */
export function testPredictions(forward: LoweredPipeline['model']['forward'], data: LoadedDataset, batchSize: number): Map<string, number> {
  const got = new Map<string, number>();
  for (const b of inFileOrder(data.test, batchSize)) {
    const y = forward(b, evalCtx()).heads['M']!.dataSync();
    b.indexes.forEach((i, k) => got.set(data.test.ids[i]!, y[k]!));
  }
  return got;
}

/** Largest |got(id) - want[i]| over the fixture's ids. */
export function worstById(got: Map<string, number>, ids: string[], want: number[]): number {
  return Math.max(...ids.map((id, i) => Math.abs(got.get(id)! - want[i]!)));
}
