// TFR-Net's training step against MMSA's own trainer (trains/missingTask/TFR_NET.py do_train), recorded by
// tools/make-mmsa-checkpoints.py (case tfr_net_mosi_step) from the tfr_net_mosi checkpoint on the training split's first
// batch (file order, masked by MMSA's loader), once in epoch 1 and once in epoch 2, every dropout at p 0 in training
// mode. mmsa's real training loop (trainEpoch, step_every_batch, value clipping, Adam groups) runs the same two steps:
// the L1 of the prediction, each generator's reconstruction term, their weighted sum and the loss stepped on, the
// gradients the optimizer steps on and the parameters after each step equal MMSA's.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/compile.js';
import type { Ir } from '../../../src/compiler/ir/types.js';
import { mapMmsaNames } from '../../../src/compiler/ir/mmsa-names.js';
import { setSpecPath } from '../../../src/compiler/spec/spec-path.js';
import { fromValue } from '../../../src/compiler/spec/spec-tree.js';
import { packageRoot } from '../../../src/paths.js';
import { setupBackend } from '../../../src/runtime/backend.js';
import { makeBatches } from '../../../src/runtime/data/batching.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import type { Batch } from '../../../src/runtime/data/types.js';
import { lowerPipeline } from '../../../src/runtime/lower/lower-pipeline.js';
import type { ModelOutputs } from '../../../src/runtime/lower/types.js';
import { runStages, trainEpoch } from '../../../src/runtime/train/train-epoch.js';
import type { Grads } from '../../../src/runtime/train/optim/adam.js';
import { matchMmsaCheckpoint, readMmsaCheckpoint } from '../../../src/runtime/weights/import-mmsa.js';
import { toFloat32 } from '../../../src/runtime/weights/tensor.js';
import { lowerTaskOf, taskOf } from '../../components/helpers.js';

const fixtures = join(packageRoot(), 'test/fixtures/mmsa-checkpoints');
const dir = join(fixtures, 'tfr_net_mosi_step');
const modalities = ['text', 'audio', 'vision'] as const;

interface EpochRecord {
  epoch: number;
  pred_loss: number;
  gen_terms: Record<(typeof modalities)[number], number>;
  gen_loss: number;
  loss: number;
  lrs: number[];
  grads: Record<string, [number, number, number]>;
}
interface Expected {
  step_of: string;
  checkpoint_sha256: string;
  batch_ids: string[];
  missing_masks: Record<(typeof modalities)[number], number[][]>;
  weight_gen_loss: number[];
  weight_sim_loss: number;
  grad_clip: number;
  update_epochs: number;
  epochs: EpochRecord[];
}
const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;

/** The tool's fingerprint of a gradient: sum, L2 norm, dot with r_i = ((i * 40503) mod 65536) / 65536 - 0.5. */
function fingerprintOf(g: ArrayLike<number>): [number, number, number] {
  let sum = 0;
  let sq = 0;
  let dot = 0;
  for (let i = 0; i < g.length; i++) {
    const v = g[i]!;
    sum += v;
    sq += v * v;
    dot += v * (((i * 40503) % 65536) / 65536 - 0.5);
  }
  return [sum, Math.sqrt(sq), dot];
}

// The small BERT with its dropout at p 0 (MMSA's side zeroes BERT's nn.Dropout modules): a copy whose config.json
// says so. The weights come from the checkpoint.
let bertDir = '';
beforeAll(async () => {
  await setupBackend('wasm');
  bertDir = mkdtempSync(join(tmpdir(), 'mmsa-tfr-step-bert-'));
  const src = join(packageRoot(), 'test/fixtures/hf-bert/small-bert');
  const cfg = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(bertDir, 'config.json'), JSON.stringify({ ...cfg, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 }));
  for (const f of ['pytorch_model.bin', 'vocab.txt']) copyFileSync(join(src, f), join(bertDir, f));
});
afterAll(() => {
  if (bertDir) rmSync(bertDir, { recursive: true, force: true });
});

type Variant = { genWeights?: number[]; fromEpoch?: number };

/**
 * mmsa's two training steps from the checkpoint on the fixture's batch, through the real loop. `variant` changes the
 * reconstruction task (a term dropped or mis-weighted, switched on in epoch 1), for the checks that the comparison
 * sees such mistakes. Returns per epoch what the fixture holds, with the gradients keyed by MMSA's names.
 */
async function runSteps(variant: Variant = {}) {
  const r = compileFile(join(dir, 'pipeline.yaml'), {
    env: {},
    transform: (tree) => {
      const set = setSpecPath(tree, [{ key: 'encoders' }, { key: 'bert' }, { key: 'pretrained' }], fromValue(bertDir, tree.span), tree.span);
      return set.ok ? set.tree : tree;
    },
  });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const ir = r.ir! as Ir;
  const gen = ir.tasks.find((t) => t.name === 'gen')!;
  const genCfg = gen.config as { pair_weights?: number[]; from_epoch?: number; cmd_weight?: number };
  // The config MMSA's mosi entry sets: weight_gen_loss, weight_sim_loss, grad_clip, update_epochs.
  expect([genCfg.pair_weights, genCfg.cmd_weight, genCfg.from_epoch]).toEqual([e.weight_gen_loss, e.weight_sim_loss, 2]);
  expect([ir.schedule.clip, ir.schedule.gradAccumSteps, ir.schedule.gradAccumMode]).toEqual([{ type: 'value', max: e.grad_clip, when: 'backward' }, e.update_epochs, 'step_every_batch']);
  if (variant.genWeights) genCfg.pair_weights = variant.genWeights;
  if (variant.fromEpoch !== undefined) genCfg.from_epoch = variant.fromEpoch;
  const modules = r.spec!.mmsa_modules ?? {};
  const naming = mapMmsaNames(ir, modules, r.spec!.mmsa_ignore);
  const ckpt = readMmsaCheckpoint(join(fixtures, e.step_of, 'checkpoint.pth'));
  expect(ckpt.sha256).toBe(e.checkpoint_sha256);
  const match = matchMmsaCheckpoint(ckpt, naming, ir, modules);
  const data = await loadDataset(ir, {});
  const p = lowerPipeline(ir, { seed: 1, trainSize: data.train.n });
  try {
    p.model.store.loadStateDict(match.weights);
    const mmsaOf = new Map<string, string>();
    for (const n of naming.names) if (n.mmsa && !n.buffer) mmsaOf.set(p.model.store.get(n.key).name, n.mmsa);
    // The training split's first batch in file order, the one the tool stepped on, in every epoch.
    const first = (split: typeof data.train): Batch[] => makeBatches(split, { batchSize: ir.schedule.batchSize, shuffle: false, seed: 1 }).slice(0, 1);
    const batch = first(data.train)[0]!;
    expect(Array.from(batch.indexes, (i) => data.train.ids[i]!)).toEqual(e.batch_ids);
    for (const m of modalities) {
      const a = batch.features[`${m}_missing_mask`]!;
      const rows = Array.from({ length: batch.size }, (_, i) => Array.from(a.data.subarray(i * a.shape[1]!, (i + 1) * a.shape[1]!)));
      expect(rows, `${m}_missing_mask`).toEqual(e.missing_masks[m]);
    }
    // Each generator's term as the task computes it with weight 1, on the loop's own forward outputs.
    const pairTasks = modalities.map((_, i) =>
      lowerTaskOf({
        ...taskOf({ ...gen.config, pairs: [(gen.config as { pairs: string[][] }).pairs[i]!], masks: [(gen.config as { masks: string[][] }).masks[i]!], pair_weights: [1], from_epoch: 1 } as never),
        inputs: [gen.inputs![2 * i]!, gen.inputs![2 * i + 1]!, gen.inputs![6 + 2 * i]!, gen.inputs![6 + 2 * i + 1]!],
      }),
    );
    const genRt = p.tasks.find((t) => t.name === 'gen')!;
    const trainLoss = genRt.trainLoss;
    let terms: number[] = [];
    genRt.trainLoss = (out: ModelOutputs, b: Batch, epoch: number) => {
      terms = pairTasks.map((t) => tf.tidy(() => t.trainLoss(out, b, 1).dataSync()[0]!));
      return trainLoss(out, b, epoch);
    };
    const steps: Record<string, [number, number, number]>[] = [];
    const step = p.optimizer.step.bind(p.optimizer);
    p.optimizer.step = (g: Grads) => {
      steps.push(Object.fromEntries(Object.entries(g).map(([n, t]) => [mmsaOf.get(n) ?? n, fingerprintOf(t.dataSync())])));
      step(g);
    };
    const stages = runStages(ir, p);
    const epochs = [];
    for (let epoch = 1; epoch <= e.epochs.length; epoch++) {
      const it = trainEpoch({
        ir, pipeline: p, data, stages, callbacks: [], seed: 1, epoch, batches: (split) => first(split), runId: 'parity', stepsPerEpoch: 1,
        emit: (body) => ({ v: 1, t: 0, ...body }) as never,
      });
      const events = [];
      let res = await it.next();
      while (!res.done) {
        events.push(res.value);
        res = await it.next();
      }
      expect([events.length, res.value.optimizerSteps]).toEqual([1, 1]);
      const ev = events[0]!;
      // Parameters and buffers after the step, outside BERT (the tool saved those), keyed by MMSA's names.
      const after = new Map<string, Float32Array>();
      for (const n of naming.names) if (n.mmsa && !n.mmsa.includes('text_model')) after.set(n.mmsa, p.model.store.get(n.key).dataSync() as Float32Array);
      epochs.push({
        pred_loss: ev.taskLosses['main']!,
        gen: ev.taskLosses['gen']!,
        gen_terms: Object.fromEntries(modalities.map((m, i) => [m, terms[i]!])),
        loss: ev.loss,
        lrs: stages[0]!.groups.map((g) => g.lr),
        grads: steps[epoch - 1]!,
        after,
      });
    }
    return { epochs, naming, ckpt };
  } finally {
    p.optimizer.dispose();
    p.model.dispose();
  }
}

/** The attention key biases' slice of a packed in_proj_bias [q; k; v]: [E, 2E). */
function isKeyBias(name: string, i: number, n: number): boolean {
  return name.endsWith('self_attn.in_proj_bias') && i >= n / 3 && i < (2 * n) / 3;
}

interface Misses {
  /** Largest loss miss: the L1, each generator's term, the weighted sum, the loss stepped on (relative above 1). */
  loss: number;
  /** Whether the same tensors got gradients (and so stepped). */
  sameGradSet: boolean;
  /** Largest gradient fingerprint miss relative to the tensor's gradient norm. */
  grad: number;
  /** Largest parameter or buffer miss after the step, outside the attention key biases. */
  param: number;
  /** Largest miss of an attention key bias after the step. */
  keyBias: number;
  where: string[];
}

function missesOf(got: Awaited<ReturnType<typeof runSteps>>): Misses[] {
  return e.epochs.map((want, k) => {
    const g = got.epochs[k]!;
    const where: string[] = [];
    const track = (cur: number, v: number, what: string) => {
      if (v > cur) where.push(`${what}: ${v.toExponential(2)}`);
      return Math.max(cur, v);
    };
    let loss = 0;
    loss = track(loss, Math.abs(g.pred_loss - want.pred_loss), 'L1');
    for (const m of modalities) loss = track(loss, Math.abs(g.gen_terms[m]! - want.gen_terms[m]), `${m} RECLoss`);
    // The model's gen_loss (weight_gen_loss x the terms) is what the gen task adds from epoch 2; in epoch 1 it adds 0.
    loss = track(loss, Math.abs(g.gen - (want.epoch > 1 ? want.gen_loss : 0)) / Math.max(1, want.gen_loss), 'gen task');
    loss = track(loss, Math.abs(g.loss - want.loss) / Math.max(1, want.loss), 'loss');
    const sameGradSet = JSON.stringify(Object.keys(g.grads).sort()) === JSON.stringify(Object.keys(want.grads).sort());
    let grad = 0;
    for (const [name, [s, n, d]] of Object.entries(want.grads)) {
      const f = g.grads[name];
      if (!f) continue;
      grad = track(grad, Math.max(Math.abs(f[0] - s), Math.abs(f[1] - n), Math.abs(f[2] - d)) / Math.max(n, 1e-6), `gradient ${name}`);
    }
    let param = 0;
    let keyBias = 0;
    for (const [name, t] of readMmsaCheckpoint(join(dir, `after-epoch-${want.epoch}.pth`)).tensors) {
      const v = g.after.get(name);
      if (!v) continue;
      const w = toFloat32(t);
      for (let i = 0; i < w.length; i++) {
        const miss = Math.abs(v[i]! - w[i]!);
        if (isKeyBias(name, i, w.length)) keyBias = Math.max(keyBias, miss);
        else param = track(param, miss, `parameter ${name}`);
      }
    }
    return { loss, sameGradSet, grad, param, keyBias, where };
  });
}

describe("TFR-Net's training step equals MMSA's own trainer's (dropout at p 0)", () => {
  it('loss terms, gradients and parameters after one step in epoch 1 and one in epoch 2', { timeout: 300_000 }, async () => {
    const got = await runSteps();
    for (const [k, want] of e.epochs.entries()) {
      const g = got.epochs[k]!;
      expect(g.lrs).toEqual(want.lrs);
      const m = missesOf(got)[k]!;
      const at = `epoch ${want.epoch}: ${m.where.slice(-3).join('; ')}`;
      expect(m.loss, at).toBeLessThan(1e-5);
      // Epoch 1: the generators and the final transformers (read only by the reconstruction loss) get no gradient
      // and do not step, as torch's Adam skips parameters whose .grad is None.
      expect(m.sameGradSet, at).toBe(true);
      expect(m.grad, at).toBeLessThan(1e-3);
      expect(m.param, at).toBeLessThan(1e-5);
      // An attention key bias has an exactly zero gradient (softmax is invariant to it); float rounding leaves values
      // near 1e-9 that Adam, dividing by their root mean square, turns into steps of up to about lr on either side.
      expect(m.keyBias, at).toBeLessThan(2 * want.lrs[2]!);
    }
    // Epoch 1 steps on the L1 alone, epoch 2 on the L1 plus the weighted reconstruction terms.
    expect(Object.keys(e.epochs[0]!.grads).some((n) => n.includes('generator'))).toBe(false);
    expect(Object.keys(e.epochs[1]!.grads).filter((n) => n.includes('generator')).length).toBe(6);
  });

  // The comparison sees a reconstruction term dropped, mis-weighted or switched on in epoch 1.
  const variants: [string, Variant][] = [
    ['the vision term dropped', { genWeights: [e.weight_gen_loss[0]!, e.weight_gen_loss[1]!, 0] }],
    ['the audio term weighted 5 instead of 2', { genWeights: [e.weight_gen_loss[0]!, 5, e.weight_gen_loss[2]!] }],
    ['the reconstruction loss on in epoch 1', { fromEpoch: 1 }],
  ];
  it.each(variants)('%s: the step no longer matches', { timeout: 300_000 }, async (_, variant) => {
    const m = missesOf(await runSteps(variant));
    const fails = m.some((x) => x.loss >= 1e-5 || !x.sameGradSet || x.grad >= 1e-3 || x.param >= 1e-5);
    expect(fails).toBe(true);
    // Each mistake shows in the loss stepped on already.
    expect(Math.max(...m.map((x) => x.loss))).toBeGreaterThan(1e-3);
  });
});
