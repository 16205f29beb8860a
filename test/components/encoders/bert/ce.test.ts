// CENET's parts of the bert encoder as a user writes them: the cross-modal enhancement hook before layer 1 (against
// plain-JS maths of MMSA's CE on the same hidden states and weights, and its gradients against central differences),
// frozen embeddings (no gradient, the same forward), the shape rule's names and diagnostics, and the CENET preset's
// optimizer groups, clipping and import names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { KNOWN_BERT_MODELS } from '../../../../src/components/encoders/bert/define.js';
import { bertStepMemory, ceSavedFloats } from '../../../../src/components/encoders/bert/memory.js';
import { compileFile } from '../../../../src/compiler/compile.js';
import { mapMmsaNames } from '../../../../src/compiler/ir/mmsa-names.js';
import { packageRoot } from '../../../../src/paths.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { makeBatches } from '../../../../src/runtime/data/batching.js';
import { loadDataset } from '../../../../src/runtime/data/load-dataset.js';
import { lowerPipeline } from '../../../../src/runtime/lower/lower-pipeline.js';
import { clipGradNorm, disposeGrads } from '../../../../src/runtime/train/optim/adam.js';
import { matchMmsaCheckpoint, readMmsaCheckpoint } from '../../../../src/runtime/weights/import-mmsa.js';
import { openBertSync } from '../../../../src/runtime/bert/load-bert.js';
import { evalCtx, ParamStore, trainCtx } from '../../../../src/runtime/nn/params.js';
import { TINY_CONFIG } from '../../../runtime/bert/helpers.js';
import { HOOK_B, HOOK_L, hookTokenRows, lin, writeTinyBert } from './hook-helpers.js';
import { randn } from '../../../runtime/nn/ref.js';
import { runInfer, seq, tokens, vec } from '../../../compiler/components/fake-context.js';
import { expectCentralDifferences, lowerOne, value } from '../../helpers.js';

const H = TINY_CONFIG.hidden_size;
const B = HOOK_B;
const L = HOOK_L;
const TA = 9;
const TV = 4;
const DA = 5;
const DV = 6;
let dir = '';

beforeAll(async () => {
  await setupBackend('wasm');
  dir = writeTinyBert('mmsa-bert-ce-', 11);
});

const base = () => ({ type: 'bert', pretrained: dir, finetune: true, freeze_embeddings: false, output: 'cls', hidden_states: true, config: TINY_CONFIG });
const ce = { type: 'ce', layer: 1, audio: 'audio', vision: 'vision' };
// Audio and vision are not aligned to the tokens (nor to each other): CE attends over their own steps.
const INPUTS: Array<[string, ReturnType<typeof tokens>]> = [['text', tokens(L)], ['audio', seq(TA, DA)], ['vision', seq(TV, DV)]];



/** CENET's SelfAttention with one head on one sample: softmax(8 Q K^T) V, no mask, no 1/sqrt(d). */
function attend(W: (k: string) => number[], name: string, text: number[][], x: number[][]): number[][] {
  const K = x.map((r) => lin(W(`${name}.Wk.weight`), W(`${name}.Wk.bias`), r));
  const V = x.map((r) => lin(W(`${name}.Wv.weight`), W(`${name}.Wv.bias`), r));
  return text.map((t) => {
    const q = lin(W(`${name}.Wq.weight`), W(`${name}.Wq.bias`), t);
    const s = K.map((k) => 8 * k.reduce((a, kv, i) => a + kv * q[i]!, 0));
    const m = Math.max(...s);
    const e = s.map((v) => Math.exp(v - m));
    const z = e.reduce((a, b) => a + b, 0);
    return Array.from({ length: H }, (_, d) => e.reduce((a, p, j) => a + (p / z) * V[j]![d]!, 0));
  });
}

/** MMSA's CE forward on one sample. */
function ceRef(W: (k: string) => number[], text: number[][], audio: number[][], vision: number[][]): number[][] {
  const transform = (name: string, x: number[][]) => x.map((r) => lin(W(`${name}.2.weight`), W(`${name}.2.bias`), lin(W(`${name}.0.weight`), W(`${name}.0.bias`), r).map((v) => Math.max(0, v))));
  const v = attend(W, 'hv', text, transform('visual_transform', vision));
  const a = attend(W, 'ha', text, transform('acoustic_transform', audio));
  return text.map((t, i) => lin(W('cat_connect.weight'), W('cat_connect.bias'), [...v[i]!, ...a[i]!]).map((s, d) => s + t[d]!));
}

/** Gives CE's weights a spread that makes its shift visible (init leaves them at normal(0, 0.02)). */
function spreadCe(store: ParamStore, seed: number): void {
  for (const e of store.entries().filter((x) => x.key.includes('encoder.CE.'))) {
    e.variable.assign(tf.reshape(tf.tensor(randn(seed++, e.variable.size).map((x) => 0.3 * x)), e.variable.shape));
  }
}

describe('CE hook', () => {
  it("rewrites the states entering layer 1 as MMSA's CE does (eval mode); the encoder output follows from them", () => {
    const audio = tf.tensor3d(randn(71, B * TA * DA), [B, TA, DA]);
    const vision = tf.tensor3d(randn(72, B * TV * DV), [B, TV, DV]);
    const hooked = lowerOne('encoder', { ...base(), hooks: { before_layer: ce } } as never, INPUTS);
    spreadCe(hooked.store, 80);
    const out = hooked.lowered.apply([value(hookTokenRows()), value(audio), value(vision)], evalCtx());
    // hidden_1 is what layer 0 returned, before CE (as CENET's encoder records it).
    const h1 = out.outputs!['hidden_1']!.arraySync() as number[][][];
    const W = (k: string) => hooked.values(`encoder.CE.${k}`);
    const a = audio.arraySync();
    const v = vision.arraySync();
    const want = h1.map((t, b) => ceRef(W, t, a[b]!, v[b]!));
    // The same BERT without CE, its layer 1 fed the plain-JS CE output: the hooked encoder's last layer and [CLS].
    const plainStore = new ParamStore({ seed: 1 });
    const { model } = openBertSync(dir, plainStore, 'p', {});
    const rows = hookTokenRows();
    const [ids, mask, types] = [0, 1, 2].map((r) => tf.reshape(tf.slice(rows, [0, r, 0], [B, 1, L]), [B, L]));
    const ref = model.apply(ids!, mask!, types!, evalCtx(), { hiddenStates: true, beforeLayer: new Map([[1, () => tf.tensor3d(want)]]) });
    const diff = (x: tf.Tensor, y: tf.Tensor) => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0]!;
    expect(diff(out.outputs!['hidden_2']!, ref.sequence)).toBeLessThan(1e-4);
    expect(diff(out.tensor, ref.cls)).toBeLessThan(1e-4);
    expect(diff(out.outputs!['hidden_1']!, ref.hidden![1]!)).toBe(0);
    // CE moved the states: without it layer 1 reads something else.
    const plain = model.apply(ids!, mask!, types!, evalCtx());
    expect(diff(plain.sequence, ref.sequence)).toBeGreaterThan(1e-2);
    plainStore.dispose();
    hooked.dispose();
  });

  it("gradients through CE (its weights, BERT's, the audio input) match central differences", () => {
    const hooked = lowerOne('encoder', { ...base(), hooks: { before_layer: ce } } as never, INPUTS);
    spreadCe(hooked.store, 90);
    const audio = tf.variable(tf.tensor3d(randn(73, B * TA * DA), [B, TA, DA]));
    const vision = tf.tensor3d(randn(74, B * TV * DV), [B, TV, DV]);
    const r = tf.tensor2d(randn(75, B * H), [B, H]);
    const loss = () => tf.sum(tf.mul(hooked.lowered.apply([value(hookTokenRows()), value(audio), value(vision)], evalCtx()).tensor, r)) as tf.Scalar;
    const names = ['encoder.CE.visual_transform.0.weight', 'encoder.CE.hv.Wk.weight', 'encoder.CE.ha.Wq.weight', 'encoder.CE.cat_connect.weight', 'encoder.layer.1.attention.self.query.weight', 'encoder.layer.0.output.dense.weight'];
    const vars = names.map((k) => hooked.store.get(`encoders.n.${k}`));
    expectCentralDifferences(loss, [...vars, audio], 2e-2);
    hooked.dispose();
  });
});

describe('freeze_embeddings', () => {
  it('the same forward (train mode, same dropout seed); the embeddings get no gradient and are not trainable, the layers are', () => {
    const audio = tf.tensor3d(randn(76, B * TA * DA), [B, TA, DA]);
    const vision = tf.tensor3d(randn(77, B * TV * DV), [B, TV, DV]);
    const p = { ...base(), hidden_states: false, hooks: { before_layer: ce } };
    const open = lowerOne('encoder', p as never, INPUTS);
    const frozen = lowerOne('encoder', { ...p, freeze_embeddings: true } as never, INPUTS);
    expect(frozen.node.params.filter((d) => !d.trainable).map((d) => d.name)).toEqual([
      'embeddings.word_embeddings.weight', 'embeddings.position_embeddings.weight', 'embeddings.token_type_embeddings.weight', 'embeddings.LayerNorm.weight', 'embeddings.LayerNorm.bias',
    ]);
    const run = (n: typeof open) => n.lowered.apply([value(hookTokenRows()), value(audio), value(vision)], trainCtx(5)).tensor.dataSync();
    expect(Array.from(run(frozen))).toEqual(Array.from(run(open)));
    const r = tf.tensor2d(randn(78, B * H), [B, H]);
    const vars = frozen.store.trainableVariables();
    expect(vars.some((v) => v.name.includes('embeddings'))).toBe(false);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(frozen.lowered.apply([value(hookTokenRows()), value(audio), value(vision)], trainCtx(5)).tensor, r)) as tf.Scalar, vars);
    const g = (k: string) => grads[frozen.store.get(`encoders.n.${k}`).name];
    expect(g('encoder.layer.0.attention.self.query.weight')!.dataSync().some((x) => x !== 0)).toBe(true);
    expect(g('encoder.CE.cat_connect.weight')!.dataSync().some((x) => x !== 0)).toBe(true);
    expect(frozen.store.entries().filter((e) => e.key.includes('.embeddings.')).every((e) => !e.variable.trainable)).toBe(true);
    open.dispose();
    frozen.dispose();
  });
});

describe('the memory plan', () => {
  it("frozen embeddings drop the embeddings' activations and the word-table gradient; CE adds its frame-level activations", () => {
    const c = KNOWN_BERT_MODELS['bert-base-uncased']!;
    const plain = bertStepMemory(c, 64, 50, 'recompute');
    const frozen = bertStepMemory(c, 64, 50, 'recompute', { freezeEmbeddings: true });
    expect(plain.host - frozen.host).toBe(4 * 30522 * 768);
    expect(plain.saved - frozen.saved).toBe(4 * 12 * 64 * 50 * 768);
    const mosi = { audio: 375, vision: 500 };
    const ce = bertStepMemory(c, 64, 50, 'recompute', { freezeEmbeddings: true, ce: mosi });
    expect(ce.saved - frozen.saved).toBe(4 * ceSavedFloats(768, 64, 50, mosi));
    // At MOSI's frame counts the [B, T, 768] tensors and their gradients (about 20 per modality, measured) are most
    // of it: over 3 GB at batch 64, more than bert-base's weights, gradients and moments together.
    expect(4 * 20 * 64 * (375 + 500) * 768).toBeGreaterThan(3e9);
    expect(4 * ceSavedFloats(768, 64, 50, mosi)).toBeGreaterThan(4 * 20 * 64 * (375 + 500) * 768);
    expect(4 * ceSavedFloats(768, 64, 50, mosi)).toBeLessThan(1.2 * 4 * 20 * 64 * (375 + 500) * 768);
    // A frozen BERT under a hook keeps its activations (the hook trains) but makes no word-table gradient.
    const frozenWeights = bertStepMemory(c, 64, 50, 'recompute', { frozenWeights: true });
    expect(frozenWeights.saved).toBe(plain.saved);
    expect(plain.host - frozenWeights.host).toBe(4 * 30522 * 768);
  });
});

describe('the shape rule', () => {
  const def = () => getComponent('encoder', 'bert')!;

  it("declares CE's parameters with MMSA's names after the layers, before the pooler, sized from audio and vision", () => {
    const run = runInfer(def(), { ...base(), hooks: { before_layer: ce } } as never, INPUTS);
    expect(run.reports).toEqual([]);
    const names = run.result!.params.map((p) => [p.name, p.shape]);
    const at = names.findIndex(([n]) => n === 'encoder.CE.visual_transform.0.weight');
    expect(names[at - 1]![0]).toBe('encoder.layer.1.output.LayerNorm.bias');
    expect(names.slice(at)).toEqual([
      ['encoder.CE.visual_transform.0.weight', [H, DV]], ['encoder.CE.visual_transform.0.bias', [H]],
      ['encoder.CE.visual_transform.2.weight', [H, H]], ['encoder.CE.visual_transform.2.bias', [H]],
      ['encoder.CE.acoustic_transform.0.weight', [H, DA]], ['encoder.CE.acoustic_transform.0.bias', [H]],
      ['encoder.CE.acoustic_transform.2.weight', [H, H]], ['encoder.CE.acoustic_transform.2.bias', [H]],
      ...['hv', 'ha'].flatMap((m) => ['Wq', 'Wk', 'Wv'].flatMap((w) => [[`encoder.CE.${m}.${w}.weight`, [H, H]], [`encoder.CE.${m}.${w}.bias`, [H]]])),
      ['encoder.CE.cat_connect.weight', [H, 2 * H]], ['encoder.CE.cat_connect.bias', [H]],
      ['pooler.dense.weight', [H, H]], ['pooler.dense.bias', [H]],
    ]);
    // paramNames (what `mmsa check` lists before shapes are known) names the same parameters.
    expect(def().paramNames!({ ...base(), hooks: { before_layer: ce } } as never)).toEqual(run.result!.params.map((p) => p.name));
    expect(def().reads!({ ...base(), hooks: { before_layer: ce } } as never, 'text')).toEqual([
      { name: 'modalities.text', path: [] },
      { name: 'audio', path: ['hooks', 'before_layer', 'audio'] },
      { name: 'vision', path: ['hooks', 'before_layer', 'vision'] },
    ]);
  });

  it('names a layer the BERT lacks, both hooks at once, and inputs that are not sequences', () => {
    const late = runInfer(def(), { ...base(), hooks: { before_layer: { ...ce, layer: 2 } } } as never, INPUTS);
    expect(late.reports.map((r) => r.code)).toEqual(['MSA4004']);
    expect(JSON.stringify(late.reports[0])).toContain('the CE hook runs before layer 2, but this BERT has layers 0 to 1');
    const both = runInfer(def(), { ...base(), hooks: { before_layer: ce, embeddings: { type: 'mag', audio: 'audio', vision: 'vision', beta_shift: 1, dropout_prob: 0.5 } } } as never, INPUTS);
    expect(both.reports.map((r) => r.code)).toEqual(['MSA4004']);
    expect(JSON.stringify(both.reports[0])).toContain('both `embeddings` (MAG) and `before_layer` (CE) are set');
    const vector = runInfer(def(), { ...base(), hooks: { before_layer: ce } } as never, [['text', tokens(L)], ['audio', seq(TA, DA)], ['vision', vec(DV)]]);
    expect(vector.reports.map((r) => r.code)).toEqual(['MSA4002']);
  });
});

describe('the CENET preset', () => {
  const fixtures = join(packageRoot(), 'test/fixtures/mmsa-checkpoints');

  it("trains as CENET's trainer: CE and the rest at one learning rate, weight decay but not on the rest's biases and LayerNorm weights, clip norm 2", () => {
    const r = compileFile(join(packageRoot(), 'pipelines/cenet_mosi.yaml'), { env: {} });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ir = r.ir!;
    const [ceGroup, other] = ir.groups;
    expect(ceGroup).toMatchObject({ name: 'ce', lr: 1e-5, weightDecay: 1e-4, noDecayParams: [] });
    expect(ceGroup!.params).toHaveLength(22);
    expect(ceGroup!.params).toContain('encoders.text.encoder.CE.hv.Wq.bias');
    expect(other).toMatchObject({ name: 'other', lr: 1e-5, weightDecay: 1e-4 });
    expect(other!.noDecayParams).toContain('heads.M.out.bias');
    expect(other!.noDecayParams).toContain('encoders.text.encoder.layer.0.output.LayerNorm.weight');
    expect(other!.params).toContain('heads.M.layers.0.weight');
    expect(other!.params.some((p) => p.includes('bias') || p.includes('LayerNorm.weight'))).toBe(false);
    expect(ir.schedule.clip).toEqual({ type: 'norm', max: 2, when: 'backward' });
    expect(ir.schedule.optimizer).toMatchObject({ type: 'adam', eps: 3e-8 });
    // The embeddings are frozen: bert-base's 23.8M embedding parameters are not counted as trainable.
    expect(ir.totalParams - ir.trainableParams).toBe(30522 * 768 + 512 * 768 + 2 * 768 + 2 * 768);
  });

  it("steps as CENET's trainer: CE with decay, the rest's biases and LayerNorm weights without, the frozen embeddings and the unread pooler not at all", async () => {
    const ir = compileFile(join(fixtures, 'cenet_mosi/pipeline.yaml'), { env: {} }).ir!;
    const p = lowerPipeline(ir, { seed: 1, trainSize: 48 });
    const byName = new Map(p.optimizer.groups.map((g) => [g.name, g]));
    expect([...byName.keys()]).toEqual(['ce', 'other', 'other_no_decay']);
    const keysOf = (g: string) => new Set(byName.get(g)!.params.map((v) => p.model.store.entries().find((e) => e.variable === v)!.key));
    expect(keysOf('ce').size).toBe(22);
    expect(byName.get('ce')!.weightDecay).toBe(1e-4);
    expect(byName.get('other')!.weightDecay).toBe(1e-4);
    expect(byName.get('other_no_decay')!.weightDecay).toBe(0);
    // The fixture pipeline sets the case's lr (1e-3); decay and eps are cenet_mosi.yaml's.
    expect(new Set(p.optimizer.groups.map((g) => g.lr))).toEqual(new Set([1e-3]));
    expect(new Set(p.optimizer.groups.map((g) => g.eps))).toEqual(new Set([3e-8]));
    const stepped = new Set([...keysOf('ce'), ...keysOf('other'), ...keysOf('other_no_decay')]);
    expect([...stepped].some((k) => k.includes('.embeddings.'))).toBe(false);
    expect(keysOf('other_no_decay').has('heads.M.layers.0.bias')).toBe(true);
    expect(keysOf('other').has('encoders.text.pooler.dense.weight')).toBe(true);
    const batch = makeBatches((await loadDataset(ir)).train, { batchSize: 16, shuffle: false, seed: 1 })[0]!;
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.abs(p.model.forward(batch, trainCtx(2)).heads['M']!)) as tf.Scalar, p.optimizer.variables());
    const got = new Set(p.model.store.entries().filter((e) => grads[e.variable.name] !== undefined).map((e) => e.key));
    // Like torch's .grad None, the pooler (computed by MMSA, read by nothing) gets no gradient, so Adam skips it.
    expect(got).toEqual(new Set([...stepped].filter((k) => !k.includes('.pooler.'))));
    value.dispose();
    disposeGrads(grads);
    p.optimizer.dispose();
    p.model.store.dispose();
  });

  it.each(['cenet_mosi', 'cenet_sims'])("%s: two training steps from MMSA's checkpoint land where MMSA's own trainer's do (dropout off)", async (c) => {
    const r = compileFile(join(fixtures, c, 'pipeline.yaml'), { env: {} });
    const ir = r.ir!;
    const modules = r.spec!.mmsa_modules ?? {};
    const e = JSON.parse(readFileSync(join(fixtures, c, 'expected.json'), 'utf8')) as { ids: string[]; preds: number[]; two_steps: { batch_ids: string[][]; preds: number[] } };
    const p = lowerPipeline(ir, { seed: 1, trainSize: 48 });
    const match = matchMmsaCheckpoint(readMmsaCheckpoint(join(fixtures, c, 'checkpoint.pth')), mapMmsaNames(ir, modules), ir, modules);
    for (const [key, w] of match.weights) p.model.store.get(key).assign(tf.tensor(w.values, w.shape));
    const data = await loadDataset(ir);
    const batches = makeBatches(data.train, { batchSize: 16, shuffle: false, seed: 1 }).slice(0, 2);
    expect(batches.map((b) => Array.from(b.indexes, (i) => data.train.ids[i]!))).toEqual(e.two_steps.batch_ids);
    // The training loop's step (train-epoch.ts) with the forward in eval mode: nn.L1Loss, clip_grad_norm_(2), Adam.
    for (const b of batches) {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.abs(tf.sub(tf.reshape(p.model.forward(b, evalCtx()).heads['M']!, [-1]), tf.tensor1d(b.labels['M']!)))) as tf.Scalar, p.optimizer.variables());
      const clipped = clipGradNorm(grads, ir.schedule.clip!.max);
      p.optimizer.step(clipped.grads);
      value.dispose();
      disposeGrads(grads);
      disposeGrads(clipped.grads);
    }
    const got = new Map<string, number>();
    for (const b of makeBatches(data.test, { batchSize: 16, shuffle: false, seed: 1 })) {
      const y = p.model.forward(b, evalCtx()).heads['M']!.dataSync();
      b.indexes.forEach((i, k) => got.set(data.test.ids[i]!, y[k]!));
    }
    const worst = Math.max(...e.ids.map((id, i) => Math.abs(got.get(id)! - e.two_steps.preds[i]!)));
    expect(worst).toBeLessThan(1e-4);
    // The steps moved the predictions far more than that.
    expect(Math.max(...e.ids.map((id, i) => Math.abs(got.get(id)! - e.preds[i]!)))).toBeGreaterThan(0.1);
    p.optimizer.dispose();
    p.model.store.dispose();
  });

  it("names every parameter as MMSA's CENET saves it, and skips exactly the embedding tables its forward never reads", () => {
    const r = compileFile(join(fixtures, 'cenet_mosi/pipeline.yaml'), { env: {} });
    const naming = mapMmsaNames(r.ir!, r.spec!.mmsa_modules);
    const saved = Object.keys((JSON.parse(readFileSync(join(fixtures, 'cenet_mosi/expected.json'), 'utf8')) as { state_dict: Record<string, number[]> }).state_dict);
    expect(naming.clashes).toEqual([]);
    expect(naming.unused).toEqual([]);
    expect([...naming.ignored].sort()).toEqual(['Model.bert.embeddings.polarity_embeddings.weight', 'Model.bert.embeddings.pos_tag_embeddings.weight', 'Model.bert.embeddings.senti_embeddings.weight']);
    expect([...naming.names.map((n) => n.mmsa!), ...naming.ignored].sort()).toEqual([...saved].sort());
  });
});
