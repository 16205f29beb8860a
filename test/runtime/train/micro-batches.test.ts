// train.micro_batches: a batch split into chunks (forward and backward each, losses weighted by their share) takes the
// same optimizer step as the whole batch on the real ALMT and CENET demo models (dropout off), with the same logged
// loss; a pipeline whose maths couples its batch refuses an explicit count (MSA3044). Phase 7 (execute), phase 4.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/compile.js';
import type { Ir } from '../../../src/compiler/ir/types.js';
import { setupBackend } from '../../../src/runtime/backend.js';
import { writeRandomBertCheckpoint } from '../../../src/runtime/bert/random-checkpoint.js';
import { chunkRanges, makeBatches } from '../../../src/runtime/data/batching.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import type { LoadedDataset } from '../../../src/runtime/data/types.js';
import { lowerPipeline } from '../../../src/runtime/lower/lower-pipeline.js';
import { evalCtx } from '../../../src/runtime/nn/params.js';
import { evaluateSplit } from '../../../src/runtime/train/evaluate.js';
import { runStages, trainEpoch } from '../../../src/runtime/train/train-epoch.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const work = mkdtempSync(join(tmpdir(), 'mmsa-micro-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const bert = join(work, 'bert');
writeRandomBertCheckpoint(bert, { vocab_size: 30522, hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256, max_position_embeddings: 64 }, 19);
const ENV = { MMSA_DEMO_BERT: bert };

beforeAll(async () => {
  await setupBackend('wasm');
});

/** A demo pipeline with extra YAML written over it. */
function compileDemo(demo: string, extra = ''): ReturnType<typeof compileFile> {
  const f = join(work, `${demo}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(f, `version: 1\nextends: ${join(repo, 'pipelines', `${demo}.yaml`)}\n${extra}`);
  return compileFile(f, { env: ENV });
}

interface StepResult {
  /** The gradients the optimizer stepped on (after clipping). */
  grads: Map<string, Float32Array>;
  /** What Adam's step reads per entry: the gradient, plus weight_decay x the parameter for (coupled) Adam. */
  adamInputs: Map<string, Float32Array>;
  loss: number;
  taskLosses: Record<string, number>;
  params: Map<string, Float32Array>;
  before: Map<string, Float32Array>;
}

/** One optimizer step of `ir` on the first `batch` training samples (in file order), dropout off, in `chunks` chunks. */
async function oneStep(ir: Ir, data: LoadedDataset, batch: number, chunks: number): Promise<StepResult> {
  const run: Ir = { ...ir, schedule: { ...ir.schedule, batchSize: batch, microBatches: chunks } };
  const p = lowerPipeline(run, { seed: 1, trainSize: data.train.n });
  const forward = p.model.forward.bind(p.model);
  p.model.forward = (b) => forward(b, evalCtx());
  const read = () => new Map(p.model.store.entries().map((e) => [e.key, Float32Array.from(e.variable.dataSync() as Float32Array)] as const));
  const before = read();
  const grads = new Map<string, Float32Array>();
  const names = new Map(p.model.store.entries().map((e) => [e.variable.name, e.key] as const));
  const step = p.optimizer.step.bind(p.optimizer);
  const adamInputs = new Map<string, Float32Array>();
  p.optimizer.step = (g) => {
    for (const group of p.optimizer.groups) {
      for (const v of group.params) {
        const t = g[v.name];
        if (!t) continue;
        const key = names.get(v.name)!;
        const gv = Float32Array.from(t.dataSync() as Float32Array);
        grads.set(key, gv);
        const pv = before.get(key)!;
        adamInputs.set(key, p.optimizer.mode === 'adamw' ? gv : gv.map((x, i) => x + group.weightDecay * pv[i]!));
      }
    }
    return step(g);
  };
  const it = trainEpoch({
    ir: run, pipeline: p, data, stages: runStages(run, p), callbacks: [], seed: 1, epoch: 1,
    batches: (split, o) => makeBatches(split, { ...o, shuffle: false }).slice(0, 1), runId: 'micro', stepsPerEpoch: 1,
    emit: (body) => ({ v: 1, t: 0, ...body }) as never,
  });
  const events = [];
  let r = await it.next();
  while (!r.done) {
    events.push(r.value);
    r = await it.next();
  }
  expect(r.value.optimizerSteps).toBe(1);
  expect(events).toHaveLength(1);
  const params = read();
  p.optimizer.dispose();
  p.model.store.dispose();
  return { grads, adamInputs, loss: events[0]!.loss, taskLosses: events[0]!.taskLosses, params, before };
}

/** Largest |a - b| over every entry of every tensor, relative to max(1, |b|) when `relative`. */
function worstDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>, relative = false): number {
  let worst = 0;
  for (const [k, v] of a) {
    const w = b.get(k)!;
    for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(v[i]! - w[i]!) / (relative ? Math.max(1, Math.abs(w[i]!)) : 1));
  }
  return worst;
}

/**
 * Adam's first step moves an entry by lr * g / (|g| + eps): where the gradient is numerically zero (a LayerNorm bias
 * whose exact gradient cancels, a weight whose gradient cancels its decay) the float rounding of a sum taken in
 * another order (1e-9) moves it by up to lr. The worst parameter difference over the entries where Adam reads at least
 * `floor`, and the share of entries below it.
 */
function worstConditioned(a: StepResult, b: StepResult, floor: number): { worst: number; share: number } {
  let worst = 0;
  let below = 0;
  let total = 0;
  for (const [k, v] of a.params) {
    const w = b.params.get(k)!;
    const g = b.adamInputs.get(k);
    for (let i = 0; i < v.length; i++) {
      total += 1;
      if (g && Math.abs(g[i]!) < floor) below += 1;
      else worst = Math.max(worst, Math.abs(v[i]! - w[i]!));
    }
  }
  return { worst, share: below / total };
}

/** The split step against the whole batch's: the same gradients, losses and parameters. */
function expectSameStep(split: StepResult, whole: StepResult, demo: string): void {
  // The gradients Adam steps on: equal up to the rounding of a sum in another order.
  expect(worstDiff(split.grads, whole.grads, true)).toBeLessThan(1e-6);
  expect(Math.abs(split.loss - whole.loss)).toBeLessThan(1e-6 * Math.max(1, Math.abs(whole.loss)));
  for (const [t, v] of Object.entries(whole.taskLosses)) expect(Math.abs(split.taskLosses[t]! - v)).toBeLessThan(1e-6 * Math.max(1, Math.abs(v)));
  // The step moved the weights far more than the tolerance.
  expect(worstDiff(whole.params, whole.before)).toBeGreaterThan(1e-4);
  if (demo === 'demo_almt') {
    // ALMT's AdamW has no entry near zero: every parameter within 1e-6.
    expect(worstDiff(split.params, whole.params)).toBeLessThan(1e-6);
  } else {
    // CENET's clipped gradients (global norm) and coupled decay leave a few entries at Adam's eps.
    const c = worstConditioned(split, whole, 1e-6);
    expect(c.worst).toBeLessThan(1e-6);
    expect(c.share).toBeLessThan(0.05);
  }
}

describe('chunk ranges', () => {
  it('splits a batch into near-equal chunks, larger first, never an empty one', () => {
    expect(chunkRanges(8, 2)).toEqual([[0, 4], [4, 8]]);
    expect(chunkRanges(7, 3)).toEqual([[0, 3], [3, 5], [5, 7]]);
    expect(chunkRanges(64, 3)).toEqual([[0, 22], [22, 43], [43, 64]]);
    expect(chunkRanges(2, 4)).toEqual([[0, 1], [1, 2]]);
    expect(chunkRanges(5, 1)).toEqual([[0, 5]]);
  });
});

describe.each(['demo_almt', 'demo_cenet'])('%s: micro-batches take the whole batch\'s step (dropout off)', (demo) => {
  let ir: Ir;
  let data: LoadedDataset;
  let whole8: StepResult;
  beforeAll(async () => {
    const r = compileDemo(demo);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    ir = r.ir!;
    data = await loadDataset(ir);
    whole8 = await oneStep(ir, data, 8, 1);
  }, 120_000);

  it.each([2, 4])('batch 8 in %i chunks: the gradients, the train loss and the parameters as unsplit', { timeout: 120_000 }, async (chunks) => {
    expectSameStep(await oneStep(ir, data, 8, chunks), whole8, demo);
  });

  it('batch 7 in 3 unequal chunks (3, 2, 2): the chunk weights are their shares of the batch', { timeout: 120_000 }, async () => {
    const whole = await oneStep(ir, data, 7, 1);
    const split = await oneStep(ir, data, 7, 3);
    // Weights of 1/3 each (or none) would move the gradients and the loss far beyond the tolerance.
    expectSameStep(split, whole, demo);
  });
});

describe('evaluation in micro-batches', () => {
  it('gives the whole batch\'s validation loss (a mean of batch means) and predictions', { timeout: 120_000 }, async () => {
    const ir = compileDemo('demo_almt').ir!;
    const data = await loadDataset(ir);
    const p = lowerPipeline(ir, { seed: 1, trainSize: data.train.n });
    const whole = evaluateSplit(ir, p, data.valid, { seed: 1, epoch: 1, shuffle: false });
    const split = evaluateSplit(ir, p, data.valid, { seed: 1, epoch: 1, shuffle: false, microBatches: 3 });
    expect(split.indexes).toEqual(whole.indexes);
    expect(Math.max(...Array.from(split.predictions, (v, i) => Math.abs(v - whole.predictions[i]!)))).toBeLessThan(1e-6);
    expect(Math.abs(split.loss - whole.loss)).toBeLessThan(1e-4 + 1e-9); // both rounded to 4 decimals, as MMSA
    expect(whole.loss).toBeGreaterThan(0);
    p.optimizer.dispose();
    p.model.store.dispose();
  });
});

describe('micro-batches refused where the maths couples the batch', () => {
  it("MISA's CMD and diff losses refuse train.micro_batches: 2 with MSA3044 at the key's value, naming the task and the fix", () => {
    const f = join(work, 'misa-micro.yaml');
    writeFileSync(f, `version: 1\nextends: ${join(repo, 'pipelines/misa_mosi.yaml')}\ntrain:\n  micro_batches: 2\n`);
    const r = compileFile(f, { env: {} });
    const errs = r.diagnostics.filter((d) => d.code === 'MSA3044');
    expect(errs.length).toBeGreaterThanOrEqual(2);
    const file = r.host.get(f)!;
    for (const d of errs) {
      expect(d.span.file).toBe(f);
      expect(file.positionAt(d.span.start)).toMatchObject({ line: 4, column: 18 });
      expect(d.hint).toMatch(/remove train\.micro_batches or set it to 1/);
    }
    expect(errs.map((d) => d.message).join('\n')).toMatch(/task '\w+' \(cmd\) couples the samples of a batch: it compares the batch means/);
    expect(errs.map((d) => d.message).join('\n')).toMatch(/task '\w+' \(diff\) couples the samples of a batch/);
    // 1 and auto are accepted.
    for (const v of ['1', 'auto']) {
      writeFileSync(f, `version: 1\nextends: ${join(repo, 'pipelines/misa_mosi.yaml')}\ntrain:\n  micro_batches: ${v}\n`);
      expect(compileFile(f, { env: {} }).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    }
  });

  it('BatchNorm in training, TFR-Net\'s batch attention and RECLoss, MMIM and MCTN\'s batch_as_time refuse it too; ALMT and CENET do not', () => {
    const codes = (base: string, extra = '') => {
      const f = join(work, `refuse-${base}`);
      writeFileSync(f, `version: 1\nextends: ${join(repo, 'pipelines', base)}\ntrain: {micro_batches: 4}\n${extra}`);
      return compileFile(f, { env: {} }).diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
    };
    for (const base of ['tfn_mosi.yaml', 'tfr_net_mosi.yaml', 'mmim_mosi.yaml']) expect(codes(base), base).toContain('MSA3044');
    expect(codes('mctn_mosi.yaml'), 'mctn_mosi.yaml').toEqual([]);
    expect(codes('mctn_mosi.yaml', 'fusion: {batch_as_time: true}\n'), 'mctn batch_as_time').toContain('MSA3044');
    // Self-MM's ULGM: a per-sample mean loss, and its label banks move once per batch with the whole batch's outputs.
    for (const base of ['almt_mosi.yaml', 'cenet_mosi.yaml', 'self_mm_mosi.yaml']) expect(codes(base), base).toEqual([]);
  });
});
