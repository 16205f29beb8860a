// ULGM (Self-MM's unimodal label generation) with train.micro_batches: three epochs of the Self-MM demo (dropout off)
// in 1 and in 3 chunks per batch give the same label banks, feature memory and class centres after every epoch (labels
// are generated from epoch 2, so epochs 2 and 3 are the point) and the same final parameters. Phase 7 (execute).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../../src/compiler/compile.js';
import type { Ir } from '../../../../src/compiler/ir/types.js';
import type { UlgmSnapshot } from '../../../../src/components/tasks/ulgm/state.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { loadDataset } from '../../../../src/runtime/data/load-dataset.js';
import type { LoadedDataset } from '../../../../src/runtime/data/types.js';
import { lowerPipeline } from '../../../../src/runtime/lower/lower-pipeline.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { runSchedule } from '../../../../src/runtime/train/executor.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const EPOCHS = 3;

beforeAll(async () => {
  await setupBackend('wasm');
});

interface Trained {
  /** The ULGM state after each epoch's hooks. */
  epochs: UlgmSnapshot[];
  /** Every parameter before training, and after the last epoch's (before the best weights are restored). */
  before: Map<string, Float32Array>;
  params: Map<string, Float32Array>;
  trainLosses: number[];
}

/** EPOCHS epochs of `ir` in `chunks` chunks per batch, every forward in eval mode (dropout off). */
async function train(ir: Ir, data: LoadedDataset, chunks: number): Promise<Trained> {
  const p = lowerPipeline(ir, { seed: 1, trainSize: data.train.n });
  const forward = p.model.forward.bind(p.model);
  p.model.forward = (b) => forward(b, evalCtx());
  const ulgm = p.tasks.find((t) => t.type === 'ulgm')!;
  const read = () => new Map(p.model.store.entries().map((x) => [x.key, Float32Array.from(x.variable.dataSync() as Float32Array)] as const));
  const out: Trained = { epochs: [], before: read(), params: new Map(), trainLosses: [] };
  const it = runSchedule(ir, p, data, { runId: 'ulgm-micro', seed: 1111, maxEpochs: EPOCHS, microBatches: chunks });
  for (let r = await it.next(); !r.done; r = await it.next()) {
    const e = r.value;
    if (e.kind === 'run.error') throw new Error(e.message);
    if (e.kind !== 'epoch.end') continue;
    out.epochs.push(structuredClone(ulgm.snapshot!() as UlgmSnapshot));
    out.trainLosses.push(e.trainLoss);
    if (e.epoch === EPOCHS) out.params = read();
  }
  p.optimizer.dispose();
  p.model.dispose();
  return out;
}

function worst(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!));
  return w;
}

/** The largest difference over every bank's labels, features and centres. */
function worstState(a: UlgmSnapshot, b: UlgmSnapshot): number {
  let w = 0;
  for (const bank of Object.keys(b.labels)) {
    w = Math.max(w, worst(a.labels[bank]!, b.labels[bank]!), worst(a.features[bank]!, b.features[bank]!));
    w = Math.max(w, worst(a.centers[bank]!.pos, b.centers[bank]!.pos), worst(a.centers[bank]!.neg, b.centers[bank]!.neg));
  }
  return w;
}

describe('ULGM in micro-batches (Self-MM demo, dropout off)', () => {
  it('3 chunks per batch: the label banks and centres after every epoch and the final parameters as in 1', { timeout: 300_000 }, async () => {
    const r = compileFile(join(repo, 'pipelines/demo_self_mm.yaml'), { env: {} });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ir = r.ir!;
    expect(ir.tasks.map((t) => t.type)).toContain('ulgm');
    const data = await loadDataset(ir);
    const whole = await train(ir, data, 1);
    const split = await train(ir, data, 3);
    expect(whole.epochs).toHaveLength(EPOCHS);
    expect(split.epochs).toHaveLength(EPOCHS);
    const m = ir.tasks.find((t) => t.type === 'ulgm')!;
    const banks = Object.keys(whole.epochs[0]!.labels).filter((b) => b !== 'fusion');
    expect(banks.length).toBeGreaterThan(0);
    for (let e = 0; e < EPOCHS; e++) {
      expect(worstState(split.epochs[e]!, whole.epochs[e]!), `epoch ${e + 1}`).toBeLessThan(1e-5);
      expect(Math.abs(split.trainLosses[e]! - whole.trainLosses[e]!)).toBeLessThan(1e-5);
    }
    // Epoch 1 only initialises: the unimodal banks still hold the human label. From epoch 2 ULGM moved them, so the
    // comparison above covered generated labels.
    const moved = (s: UlgmSnapshot) => Math.max(...banks.map((b) => worst(s.labels[b]!, s.labels['fusion']!)));
    expect(moved(whole.epochs[0]!), `${m.name} before from_epoch`).toBe(0);
    expect(moved(whole.epochs[EPOCHS - 1]!)).toBeGreaterThan(1e-2);
    // The parameters moved far beyond the tolerance over the three epochs, and agree.
    let moves = 0;
    let diff = 0;
    for (const [k, v] of whole.params) {
      moves = Math.max(moves, worst(v, whole.before.get(k)!));
      diff = Math.max(diff, worst(split.params.get(k)!, v));
    }
    expect(moves).toBeGreaterThan(1e-3);
    expect(diff).toBeLessThan(1e-5);
  });
});
