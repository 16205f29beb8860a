// The memory plan: every shipped BERT paper config fits the wasm heap at its batch size with room to spare (ALMT's and
// CENET's in micro-batches), a model too large stops before training with a located MSA6901 / MSA6902 that says what
// to change, and 'auto' falls back to recomputing activations, then to micro-batches, when keeping them does not fit.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileFile, type CompileResult } from '../../../src/compiler/compile.js';
import { MmsaError } from '../../../src/errors.js';
import { batchCouplings, checkMemoryPlan, estimateMemory, evalMicroBatches, planEvalMicroBatches, planFittingBatch, planMemory, WASM_HEAP_LIMIT, type MemoryLimits } from '../../../src/runtime/memory/plan-memory.js';
import { bertStepMemory, ceSavedFloats } from '../../../src/components/encoders/bert/memory.js';
import { attentionLayerFloats } from '../../../src/components/attention-memory.js';
import { KNOWN_BERT_MODELS } from '../../../src/components/encoders/bert/define.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const WASM: MemoryLimits = { backendBytes: WASM_HEAP_LIMIT, hostBytes: 16e9 };

function compileWith(extra: string, base = 'pipelines/self_mm_mosi.yaml'): CompileResult {
  const dir = mkdtempSync(join(tmpdir(), 'mmsa-mem-'));
  const f = join(dir, 'spec.yaml');
  writeFileSync(f, `version: 1\nextends: ${join(repo, base)}\n${extra}`);
  const r = compileFile(f, { env: {} });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r;
}

/** The error checkMemoryPlan throws for a plan, or undefined when it throws none. */
function planError(...args: Parameters<typeof checkMemoryPlan>): MmsaError | undefined {
  try {
    checkMemoryPlan(...args);
  } catch (e) {
    return e as MmsaError;
  }
  return undefined;
}

/** The shipped paper configs that fine-tune BERT. */
const bertConfigs = readdirSync(join(repo, 'pipelines')).filter((f) => {
  const text = f.endsWith('.yaml') ? readFileSync(join(repo, 'pipelines', f), 'utf8') : '';
  return /type: bert/.test(text) && !/finetune: false/.test(text);
});

describe('memory plan', () => {
  it('finds the shipped BERT paper configs', () => {
    expect(bertConfigs.sort()).toEqual([
      'almt_mosei.yaml', 'almt_mosi.yaml', 'almt_sims.yaml',
      'bert_mag_mosei.yaml', 'bert_mag_mosi.yaml', 'bert_mag_sims.yaml', 'cenet_mosei.yaml', 'cenet_mosi.yaml', 'cenet_sims.yaml', 'cenet_simsv2.yaml',
      'demo_almt.yaml', 'demo_bert_mag.yaml', 'demo_cenet.yaml', 'demo_misa.yaml', 'demo_mmim.yaml', 'demo_tetfn.yaml', 'demo_tfr_net.yaml',
      'misa_mosei.yaml', 'misa_mosi.yaml', 'misa_sims.yaml', 'misa_simsv2.yaml',
      'mmim_mosei.yaml', 'mmim_mosi.yaml', 'mmim_sims.yaml',
      'self_mm_mosei.yaml', 'self_mm_mosi.yaml', 'self_mm_sims.yaml', 'self_mm_simsv2.yaml',
      'tetfn_mosei.yaml', 'tetfn_mosi.yaml', 'tetfn_sims.yaml', 'tetfn_simsv2.yaml',
      'tfr_net_mosei.yaml', 'tfr_net_mosi.yaml',
    ]);
  });

  // TFN's fused vector is the largest activation of the other models ([B, 549153] on SIMS v2 at batch 128).
  const otherConfigs = readdirSync(join(repo, 'pipelines')).filter((f) => /^(tfn|lmf|lf_dnn|ef_lstm)_\w+\.yaml$/.test(f));
  it('every other shipped paper config fits the wasm heap at its batch size, keeping activations', () => {
    expect(otherConfigs).toHaveLength(16);
    for (const file of otherConfigs) {
      const plan = planMemory(compileFile(join(repo, 'pipelines', file), { env: {} }).ir!, WASM);
      expect(plan.fits, file).toBe(true);
      expect(plan.activations, file).toBe('keep');
    }
  });

  // MISA on MOSEI fine-tunes bert-base at batch 64 x 50 tokens: it fits by recomputing the layers' activations. TETFN
  // fine-tunes bert-base at batch 64 (MOSI, SIMS, SIMS v2) beside nine transformers: recompute; MOSEI's batch 32 keeps.
  // TFR-Net on MOSEI (batch 24, bert-base run twice) keeps its gradient sums over update_epochs' 4 batches: recompute.
  const recomputes = new Set(['misa_mosei.yaml', 'tetfn_mosi.yaml', 'tetfn_sims.yaml', 'tetfn_simsv2.yaml', 'tfr_net_mosei.yaml']);
  // Unsplit, refused at the paper's batch 64: ALMT's ViT-style encoders attend over every unaligned frame (MOSI's
  // vision: 508 positions x 8 heads) and keep about 220 [B, T, 128] tensors per layer; CENET's CE lifts every audio
  // and video frame (MOSI 375 / 500, MOSEI 500, SIMS v2 925 / 232) to BERT's width and holds about 20 such tensors per
  // modality until the backward pass ends (measured: cenet_mosi at batch 64 runs out of the heap in its first step).
  // Planned in micro-batches (the fewest chunks that fit; recomputing BERT's layers where that saves a chunk).
  const split = new Map<string, readonly [number, string]>([
    ['almt_mosi.yaml', [3, 'recompute']], ['almt_mosei.yaml', [3, 'recompute']], ['almt_sims.yaml', [2, 'keep']],
    ['cenet_mosi.yaml', [2, 'recompute']], ['cenet_mosei.yaml', [2, 'recompute']], ['cenet_simsv2.yaml', [3, 'keep']],
  ]);
  it.each(bertConfigs)('%s fits the wasm heap (keeping activations where they fit), at its own batch size and token length, in micro-batches where the whole batch does not', (file) => {
    const r = compileFile(join(repo, 'pipelines', file), { env: {} });
    const ir = r.ir!;
    const plan = planMemory(ir, WASM);
    expect(plan.fits).toBe(true);
    const chunks = split.get(file);
    if (chunks) {
      expect([plan.microBatches, plan.activations]).toEqual(chunks);
      expect(ir.schedule.microBatches).toBe('auto');
      expect(batchCouplings(ir)).toEqual([]);
      // The fewest that fit: one chunk less does not (in either mode), and the whole batch is refused as before.
      expect(planMemory(ir, WASM, { microBatches: chunks[0] - 1 }).fits).toBe(false);
      const whole = planMemory(ir, WASM, { microBatches: 1 });
      expect(planError(ir, whole, r.host)?.code).toBe('MSA6901');
      // The chunks' gradient sums live outside the heap.
      expect(plan.gradientSums).toBe('host');
      expect(plan.estimate.host.gradientSums).toBe(4 * plan.parameters.trainable);
      // The whole batch's MSA6901 still names a smaller batch with accumulation first; that setting is what
      // `npm run bench -- bert` falls back to when a plan refuses the paper batch.
      const hint = planError(ir, whole, r.host)!.hint!;
      const g = /set train\.batch_size: (\d+) with train\.grad_accum_steps: (\d+)/.exec(hint);
      expect(g).not.toBeNull();
      expect(planFittingBatch(ir, WASM)).toMatchObject({ batch: Number(g![1]), steps: Number(g![2]) });
      return;
    }
    expect(plan.microBatches).toBe(1);
    expect(plan.activations).toBe(recomputes.has(file) ? 'recompute' : 'keep');
    if (recomputes.has(file)) expect(planMemory(ir, WASM, { activations: 'keep', microBatches: 1 }).fits).toBe(false);
    expect(plan.optimizerState).toBe('host');
    // Self-MM accumulates over 4 batches (its sums live outside the heap); BERT-MAG steps every batch.
    if (file.startsWith('self_mm') || file.startsWith('tfr_net')) expect(plan.gradientSums).toBe('host');
    const e = plan.estimate;
    // bert-base: ~110M parameters, weights and gradients 4 bytes each, Adam's two moments outside the heap (CENET's
    // frozen embeddings, 23.8M, have neither gradients nor moments)
    expect(plan.parameters.trainable).toBeGreaterThan(file.includes('cenet') ? 90e6 : 100e6);
    expect(e.backend.weights).toBe(4 * plan.parameters.total);
    expect(e.backend.gradients).toBe(4 * plan.parameters.trainable);
    expect(e.host.optimizerState).toBe(8 * plan.parameters.trainable);
    expect(plan.budget.backendBytes).toBeLessThan(WASM_HEAP_LIMIT);
    expect(plan.budget.backendBytes).toBeGreaterThan(e.backend.total);
  });

  it('adds up bert-base at batch 16 x 50 as measured (keep: ~1.0 GB above the weights; recompute: ~0.6 GB)', () => {
    const c = KNOWN_BERT_MODELS['bert-base-uncased']!;
    const keep = bertStepMemory(c, 16, 50, 'keep');
    const rec = bertStepMemory(c, 16, 50, 'recompute');
    const grads = 4 * 109.5e6;
    // Measured peak live bytes above the weights for a 12-layer step: keep 1033 MB, recompute 606 MB (32 x 50: 1734
    // and 881 MB); the estimate may exceed them by a little, never fall short.
    expect(keep.saved + keep.transient + grads).toBeGreaterThan(1033e6);
    expect(keep.saved + keep.transient + grads).toBeLessThan(1.25 * 1033e6);
    expect(rec.saved + rec.transient + grads).toBeGreaterThan(606e6);
    expect(rec.saved + rec.transient + grads).toBeLessThan(1.25 * 606e6);
    const keep32 = bertStepMemory(c, 32, 50, 'keep');
    const rec32 = bertStepMemory(c, 32, 50, 'recompute');
    expect(keep32.saved + keep32.transient + grads).toBeGreaterThan(1734e6);
    expect(rec32.saved + rec32.transient + grads).toBeGreaterThan(881e6);
  });

  it("'auto' recomputes when keeping the activations does not fit, and records why in the estimate", () => {
    const ir = compileWith('train: {batch_size: 128}\n').ir!;
    const keep = planMemory(ir, WASM, { activations: 'keep', microBatches: 1 });
    expect(keep.fits).toBe(false);
    const auto = planMemory(ir, WASM);
    expect(auto.fits).toBe(true);
    expect(auto.activations).toBe('recompute');
    expect(auto.estimate.backend.activations).toBeLessThan(keep.estimate.backend.activations / 5);
  });

  it('a model too large for the heap stops with MSA6901 at the encoder, naming the micro-batches, the batch size, a frozen encoder and a smaller model', () => {
    const r = compileWith('train: {batch_size: 256, micro_batches: 1}\n');
    const ir = r.ir!;
    const plan = planMemory(ir, WASM);
    expect(plan.fits).toBe(false);
    const err = planError(ir, plan, r.host);
    expect(err).toBeInstanceOf(MmsaError);
    expect(err!.code).toBe('MSA6901');
    // located at the BERT encoder in the file that declares it
    const node = ir.nodes.find((n) => n.id === 'encoders.text')!;
    const pos = r.host.get(node.span.file)!.positionAt(node.span.start);
    expect(err!.message.startsWith(`${node.span.file}:${pos.line}:${pos.column}: 'encoders.text' does not fit the tensor backend`)).toBe(true);
    expect(err!.message).toMatch(/batch size 256 needs a heap of about \d+ MB \(\d+ MB weights, \d+ MB gradients, \d+ MB activations, and room between them\), the wasm heap holds 4295 MB/);
    // micro_batches written too small: the count that fits comes first (the same optimizer step).
    const mb = /^set train\.micro_batches: (\d+) \(or auto; the same optimizer step per batch\)/.exec(err!.hint!.split(': ').slice(1).join(': '));
    expect(mb, err!.hint).not.toBeNull();
    expect(planMemory(ir, WASM, { microBatches: Number(mb![1]) }).fits).toBe(true);
    expect(planMemory(ir, WASM, { microBatches: Number(mb![1]) - 1 }).fits).toBe(false);
    const m = /set train\.batch_size: (\d+) with train\.grad_accum_steps: (\d+)/.exec(err!.hint!);
    expect(m).not.toBeNull();
    const [b, k] = [Number(m![1]), Number(m![2])];
    expect(b * k).toBe(256 * 4); // the same samples per optimizer step
    // and that suggestion really fits
    expect(planMemory(ir, WASM, { batchSize: b, gradAccumSteps: k }).fits).toBe(true);
    expect(err!.hint).toMatch(/freeze the encoder: encoders\.text\.finetune: false/);
    expect(err!.hint).toMatch(/smaller model for encoders\.text/);
  });

  it("with grad_accum_mode step_every_batch the MSA6901 hint shrinks the batch only and says it is not the same training", () => {
    const r = compileWith('train: {batch_size: 256, grad_accum_steps: 4, grad_accum_mode: step_every_batch, micro_batches: 1}\n');
    const ir = r.ir!;
    const plan = planMemory(ir, WASM);
    expect(plan.fits).toBe(false);
    const err = planError(ir, plan, r.host);
    expect(err!.code).toBe('MSA6901');
    const m = /set train\.batch_size: (\d+) \(grad_accum_mode step_every_batch steps after every batch, so a smaller batch means more, smaller steps: not the same training\)/.exec(err!.hint!);
    expect(m, err!.hint).not.toBeNull();
    expect(err!.hint).not.toMatch(/grad_accum_steps/);
    expect(planMemory(ir, WASM, { batchSize: Number(m![1]), gradAccumSteps: 4 }).fits).toBe(true);
  });

  it('a paper config whose maths couples its batch (MISA: CMD and diff over the batch) never splits: MSA6901 when the batch does not fit', () => {
    const r = compileWith('train: {batch_size: 512}\n', 'pipelines/misa_mosi.yaml');
    const ir = r.ir!;
    expect([...new Set(batchCouplings(ir).map((c) => c.type))].sort()).toEqual(['cmd', 'diff']);
    const plan = planMemory(ir, WASM);
    expect([plan.fits, plan.microBatches]).toEqual([false, 1]);
    // Chunks would fit the heap, but would not add up to the batch's gradient.
    expect(planMemory(ir, WASM, { microBatches: 8 }).fits).toBe(true);
    const err = planError(ir, plan, r.host);
    expect(err?.code).toBe('MSA6901');
    expect(err!.hint).not.toMatch(/micro_batches/);
    expect(err!.hint).toMatch(/set train\.batch_size: \d+ with train\.grad_accum_steps: \d+/);
  });

  it('on a machine short of free memory the MSA6901 hint still names the batch size that fits the heap, and the memory it needs', () => {
    const r = compileWith('train: {batch_size: 256, micro_batches: 1}\n');
    const ir = r.ir!;
    const limits: MemoryLimits = { backendBytes: WASM_HEAP_LIMIT, hostBytes: 2e9 };
    const plan = planMemory(ir, limits);
    const err = planError(ir, plan, r.host);
    expect(err!.code).toBe('MSA6901');
    const m = /set train\.batch_size: (\d+) with train\.grad_accum_steps: (\d+) \(the same 1024 samples per optimizer step\) once about (\d+) MB of memory are free \(2000 MB are now\)/.exec(err!.hint!);
    expect(m).not.toBeNull();
    const fitting = planMemory(ir, { ...limits, hostBytes: 64e9 }, { batchSize: Number(m![1]), gradAccumSteps: Number(m![2]) });
    expect(fitting.fits).toBe(true);
    expect(Number(m![3])).toBe(Math.round(fitting.budget.processBytes / 1e6));
    expect(Number(m![3])).toBeGreaterThan(2000);
  });

  it('a machine without the memory for the host-side state stops with MSA6902', () => {
    const r = compileWith('');
    const plan = planMemory(r.ir!, { backendBytes: WASM_HEAP_LIMIT, hostBytes: 2e9 });
    expect(plan.fits).toBe(false);
    expect(() => checkMemoryPlan(r.ir!, plan, r.host)).toThrowError(/does not fit this machine's memory: the run needs about \d+ MB/);
    try {
      checkMemoryPlan(r.ir!, plan, r.host);
    } catch (e) {
      expect((e as MmsaError).code).toBe('MSA6902');
    }
  });

  it('a frozen encoder needs neither gradients nor optimizer state nor saved activations for it', () => {
    const ir = compileWith('').ir!;
    const tuned = estimateMemory(ir, 'keep');
    const frozen = estimateMemory(ir, 'keep', { frozen: new Set(['encoders.text']) });
    expect(frozen.parameters.trainable).toBeLessThan(1e6);
    expect(frozen.backend.weights).toBe(tuned.backend.weights);
    expect(frozen.backend.activations).toBeLessThan(tuned.backend.activations / 15);
    expect(frozen.host.optimizerState).toBeLessThan(8e6);
  });
});

describe('memory plan of attention layers (ALMT, CENET)', () => {
  it("counts ALMT's ViT-style encoders' attention over every frame (MOSI's vision: 508 positions x 8 heads at batch 64)", () => {
    const ir = compileFile(join(repo, 'pipelines/almt_mosi.yaml'), { env: {} }).ir!;
    const node = (id: string) => ir.nodes.find((n) => n.id === id)!;
    // The vision encoder alone keeps its attention weights (64 x 8 x 508 x 508 floats) and about 100 more
    // [B, T, 128]-sized tensors per layer for its backward.
    const b = 64;
    const vision = estimateMemory({ ...ir, nodes: [node('encoders.vision')] }, 'keep', { batchSize: b });
    expect(vision.backend.activations).toBeGreaterThan(4 * (b * 8 * 508 * 508 + 100 * b * 508 * 128));
    const audio = estimateMemory({ ...ir, nodes: [node('encoders.audio')] }, 'keep', { batchSize: b });
    expect(audio.backend.activations).toBeGreaterThan(4 * (b * 8 * 383 * 383 + 100 * b * 383 * 128));
    // Its layers have no recomputing op: 'recompute' (which BERT's layers follow) keeps them all the same.
    expect(estimateMemory({ ...ir, nodes: [node('encoders.vision')] }, 'recompute', { batchSize: b }).backend.activations).toBe(vision.backend.activations);
    // So the paper's batch does not fit in either mode, and half of it neither; 16 does; three chunks of 22 do.
    expect(planMemory(ir, WASM, { microBatches: 1 }).fits).toBe(false);
    expect(planMemory(ir, WASM, { batchSize: 32, microBatches: 1 }).fits).toBe(false);
    expect(planMemory(ir, WASM, { batchSize: 16, microBatches: 1 }).fits).toBe(true);
    const auto = planMemory(ir, WASM);
    expect([auto.fits, auto.microBatches]).toEqual([true, 3]);
    // The count depends on the heap, not on the memory the machine has free: short of it, the run stops with MSA6902.
    const short = planMemory(ir, { backendBytes: WASM_HEAP_LIMIT, hostBytes: 2e9 });
    expect([short.fits, short.microBatches]).toEqual([false, 3]);
    expect(planError(ir, short)?.code).toBe('MSA6902');
    expect(auto.estimate.backend.activations).toBe(estimateMemory(ir, auto.activations, { batchSize: 22, microBatches: 1 }).backend.activations);
  });

  it("counts an evaluation batch as every node's forward at once, as measured for ALMT on MOSI's lengths", () => {
    // The evaluation runs the whole forward in one tf.tidy scope: the vision and audio encoders' attention weights are
    // live together. Peak live tensor bytes (each heap buffer once, weights included) of an evaluation pass over one
    // batch of almt_mosi on bert-base shapes (npm run bench -- plan-vs-measured with BENCH_EVAL_ONLY=1): 3.71 GB at 64
    // in one chunk, 1.57 GB in three, 0.86 GB at batch 8. The largest node alone (what the plan used to count) is far
    // below.
    const ir = compileFile(join(repo, 'pipelines/almt_mosi.yaml'), { env: {} }).ir!;
    const evalAt = (batchSize: number, microBatches: number) => estimateMemory(ir, 'keep', { batchSize, microBatches }).evalBackend;
    for (const [b, k, measured] of [[64, 1, 3.71e9], [64, 3, 1.57e9], [8, 1, 0.86e9]] as const) {
      expect(evalAt(b, k), `${b} in ${k}`).toBeGreaterThan(measured);
      expect(evalAt(b, k), `${b} in ${k}`).toBeLessThan(1.2 * measured);
    }
    const weights = estimateMemory(ir, 'keep').backend.weights;
    const alone = (id: string) => estimateMemory({ ...ir, nodes: [ir.nodes.find((n) => n.id === id)!] }, 'keep', { batchSize: 64, microBatches: 1 }).evalBackend;
    expect(alone('encoders.vision') + weights).toBeLessThan(0.7 * 3.71e9);
    // A whole batch of 64 does not fit the heap with its allowance for gaps (the pass above took a 3.86 GB heap of
    // 4.29 in a fresh process); the plan's three chunks do, for training and evaluation alike.
    const whole = planMemory(ir, WASM, { microBatches: 1, activations: 'recompute' });
    expect(whole.estimate.evalBackend / 0.8).toBeGreaterThan(WASM_HEAP_LIMIT);
    const auto = planMemory(ir, WASM);
    expect(auto.microBatches).toBe(3);
    expect(auto.budget.backendBytes).toBeGreaterThanOrEqual(auto.estimate.evalBackend / 0.8);
  });

  it("adds up one ViT-style layer as measured on the wasm heap at ALMT's widths", () => {
    // Heap growth of one training step (forward and backward) of 'vit' layers, d 128, 8 heads x 64, mlp 128, in
    // [B, T, 128]-sized units: 1 layer over 58 positions 138, 383: 180, 508: 218; 2 layers over 508: 350. The heap grows
    // in steps of up to a fifth of its size, so the smaller heaps overstate what was live.
    const units = (T: number, layers: number) => {
      const f = attentionLayerFloats({ batch: 16, tq: T, tk: T, d: 128, heads: 8, inner: 512, mlp: 128 }, 'keep');
      return (layers * f.saved + f.transient) / (16 * T * 128);
    };
    for (const [T, layers, measured] of [[508, 1, 218], [508, 2, 350], [383, 1, 180], [58, 1, 138]] as const) {
      expect(units(T, layers), `${T} x ${layers}`).toBeGreaterThan(0.95 * measured);
      expect(units(T, layers), `${T} x ${layers}`).toBeLessThan(1.15 * measured);
    }
  });

  it("counts CENET's CE as measured: about 20 [B, T, 768] tensors per modality until the backward ends", () => {
    // Heap growth of CE's forward and backward at MOSI's 50 tokens, 375 audio and 500 video frames, hidden 768:
    // 933 MB at batch 16, 1643 MB at batch 32 (with CE's own weights and gradients, 47 MB).
    const measured = [[16, 933e6], [32, 1643e6]] as const;
    for (const [b, bytes] of measured) {
      const plan = 4 * ceSavedFloats(768, b, 50, { audio: 375, vision: 500 });
      expect(plan, `batch ${b}`).toBeGreaterThan(bytes - 47e6);
      expect(plan, `batch ${b}`).toBeLessThan(1.15 * bytes);
    }
  });
});

describe("memory plan of MulT's transformer layers", () => {
  it("MOSI-length MulT fits the wasm heap at the paper's batch 16 by recomputing its layers in the backward pass, at batch 8 keeping them; the estimate is the measured heap's", () => {
    const ir = compileFile(join(repo, 'pipelines/mult_mosi.yaml'), { env: {} }).ir!;
    const b16 = planMemory(ir, WASM);
    expect(b16.fits).toBe(true);
    expect(b16.activations).toBe('recompute');
    // Measured: one epoch at batch 16 recomputing (48 / 16 / 16 samples of MOSI's 50 / 375 / 500 frames) peaked at a
    // 2.88 GB heap; the plan's heap (live bytes with its allowance for gaps) must cover it without refusing what runs.
    expect(b16.budget.backendBytes).toBeGreaterThan(2.88e9);
    expect(b16.budget.backendBytes).toBeLessThan(1.15 * 2.88e9);
    // Keeping holds the vision memory's 4 layers of 16 x 10 x 496 x 496 attention weights (~630 MB) among the rest.
    const keep = estimateMemory(ir, 'keep');
    const recompute = estimateMemory(ir, 'recompute');
    expect(keep.backend.activations - recompute.backend.activations).toBeGreaterThan(4 * 4 * 16 * 10 * 496 * 496);
    expect(recompute.backend.activations).toBeLessThan(keep.backend.activations / 4);
    // The weights' dropout masks stay in JS memory until the backward pass in both modes.
    expect(recompute.host.stepScratch).toBeGreaterThan(4 * 3 * 16 * 10 * 496 * 496);
    const b8 = planMemory(compileWith('train: {batch_size: 8}', 'pipelines/mult_mosi.yaml').ir!, WASM);
    expect(b8.fits).toBe(true);
    expect(b8.activations).toBe('keep');
    // Twice the paper's batch does not fit even recomputing: two micro-batches of 16 do; unsplit, it is refused before
    // training, with a batch that fits.
    const auto32 = planMemory(compileWith('train: {batch_size: 32}', 'pipelines/mult_mosi.yaml').ir!, WASM);
    expect([auto32.fits, auto32.microBatches, auto32.activations]).toEqual([true, 2, 'recompute']);
    const b32 = compileWith('train: {batch_size: 32, micro_batches: 1}', 'pipelines/mult_mosi.yaml');
    const p32 = planMemory(b32.ir!, WASM);
    expect(p32.fits).toBe(false);
    const err = planError(b32.ir!, p32, b32.host);
    expect(err?.code).toBe('MSA6901');
    expect(err?.hint).toMatch(/set train\.batch_size: 16 with train\.grad_accum_steps: 16/);
    expect(planMemory(compileFile(join(repo, 'pipelines/mult_sims.yaml'), { env: {} }).ir!, WASM).fits).toBe(true);
    // SIMS v2's 925 audio frames: the paper's batch fits by recomputing too.
    const v2 = planMemory(compileFile(join(repo, 'pipelines/mult_simsv2.yaml'), { env: {} }).ir!, WASM);
    expect([v2.fits, v2.activations]).toEqual([true, 'recompute']);
  });

  it("counts an evaluation batch as every cross-modal and memory layer's forward at once, as measured at MOSI's lengths", () => {
    // Peak live tensor bytes (each heap buffer once, the 0.01 GB of weights included) of an evaluation pass over one
    // batch of mult_mosi at MOSI's 50 / 375 / 500 frames (npm run bench -- plan-vs-measured with BENCH_EVAL_ONLY=1):
    // 0.28 GB at batch 2, 0.54 GB at 4, 1.06 GB at 8. Evaluation runs the whole forward in one tf.tidy scope, so the 6
    // cross-modal encoders' 4 layers and the 3 memories' 3 layers all stay until the end; the largest layer alone (what
    // the estimate used to count) was 0.3x of it.
    const ir = compileFile(join(repo, 'pipelines/mult_mosi.yaml'), { env: {} }).ir!;
    for (const [b, measured] of [[2, 0.28e9], [4, 0.54e9], [8, 1.06e9]] as const) {
      const e = estimateMemory(ir, 'keep', { batchSize: b, microBatches: 1 }).evalBackend;
      expect(e, `batch ${b}`).toBeGreaterThan(measured);
      expect(e, `batch ${b}`).toBeLessThan(1.2 * measured);
      // Evaluation has no backward pass: the activation mode does not change it.
      expect(estimateMemory(ir, 'recompute', { batchSize: b, microBatches: 1 }).evalBackend).toBe(e);
    }
  });

  it('commands that only evaluate take the fewest chunks whose evaluation fits the heap, whatever a training step would keep', () => {
    const mult = compileFile(join(repo, 'pipelines/mult_mosi.yaml'), { env: {} }).ir!;
    // The training plan's count depends on the activation mode: keeping MulT's layers takes 2 chunks of the paper's
    // batch of 16, recomputing them 1. An evaluation batch of 16 fits whole in either case.
    expect(planMemory(mult, WASM, { activations: 'keep' }).microBatches).toBe(2);
    expect(planMemory(mult, WASM, { activations: 'recompute' }).microBatches).toBe(1);
    expect(evalMicroBatches(mult, WASM)).toBe(1);
    expect(estimateMemory(mult, 'keep', { microBatches: 1 }).evalBackend / 0.8).toBeLessThan(WASM_HEAP_LIMIT);
    // ALMT trains its batch of 64 in 3 chunks (recomputing BERT's layers); its evaluation does not fit whole (the
    // test above) but fits in 2. The count is the heap's, not the free memory's: the same on any machine.
    const almt = compileFile(join(repo, 'pipelines/almt_mosi.yaml'), { env: {} }).ir!;
    expect(planMemory(almt, WASM).microBatches).toBe(3);
    expect(planEvalMicroBatches(almt, 'wasm')).toBe(2);
    expect(estimateMemory(almt, 'keep', { microBatches: 2 }).evalBackend / 0.8).toBeLessThan(WASM_HEAP_LIMIT);
    // A count the spec writes is the run's, evaluation included.
    expect(evalMicroBatches(compileWith('train: {micro_batches: 3}', 'pipelines/mult_mosi.yaml').ir!, WASM)).toBe(3);
    // A pipeline that couples its batch (TETFN's time-major positions) never splits, even short of heap.
    const tetfn = compileFile(join(repo, 'pipelines/tetfn_mosi.yaml'), { env: {} }).ir!;
    expect(evalMicroBatches(tetfn, { backendBytes: 1e8, hostBytes: 16e9 })).toBe(1);
    // Without a heap (tensors in host memory), the process's memory decides: the evaluation with the loaded dataset.
    const whole = estimateMemory(mult, 'keep', { microBatches: 1 });
    const host = whole.evalBackend / 0.8 + whole.host.dataset;
    expect(evalMicroBatches(mult, { backendBytes: null, hostBytes: host + 1e6, baseBytes: 0 })).toBe(1);
    expect(evalMicroBatches(mult, { backendBytes: null, hostBytes: host - 1e6, baseBytes: 0 })).toBe(2);
  });
});
