// Tiny random BERT (2 layers, hidden 32) saved as safetensors and as an old-style pytorch_model.bin: both load to
// identical outputs that match an independent float64 forward; names/shapes are checked; fine-tuning lowers a loss.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmsaError } from '../../../src/errors.js';
import { bertParams, resolveBertConfig } from '../../../src/components/encoders/bert/define.js';
import { activeNativeKernels, setNativeMatMul, setupBackend } from '../../../src/runtime/backend.js';
import { mulberry32 } from '../../helpers/prng.js';
import { nativeDisabled } from '../../helpers/native.js';
import { loadBert, openBertSync } from '../../../src/runtime/bert/load-bert.js';
import { bertParamGroups, createBert, embeddingLookup, noGrad, parseBertConfig } from '../../../src/runtime/nn/bert/index.js';
import { ParamStore, trainCtx, evalCtx, createLinear } from '../../../src/runtime/nn/index.js';
import { Adam } from '../../../src/runtime/train/optim/adam.js';
import { writeSafetensors } from '../../../src/runtime/weights/safetensors.js';
import { bertRef, randomWeights, TINY_CONFIG, writeBinDir, writeSafetensorsDir } from './helpers.js';
import { writeFileSync } from 'node:fs';

let tmp: string;
const weights = randomWeights(11);

beforeAll(async () => {
  await setupBackend('wasm');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mmsa-bert-'));
  writeSafetensorsDir(path.join(tmp, 'st'), weights);
  writeBinDir(path.join(tmp, 'bin'), weights);
  writeBinDir(path.join(tmp, 'bin-deflated'), weights, TINY_CONFIG, { deflatePickle: true });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// 3 examples of length 7: padding, token types 1, an id at the top of the vocab
const IDS = [
  [2, 5, 9, 13, 3, 0, 0],
  [2, 39, 1, 7, 22, 31, 3],
  [2, 3, 0, 0, 0, 0, 0],
];
const MASK = [
  [1, 1, 1, 1, 1, 0, 0],
  [1, 1, 1, 1, 1, 1, 1],
  [1, 1, 0, 0, 0, 0, 0],
];
const TYPES = [
  [0, 0, 0, 0, 0, 0, 0],
  [0, 0, 0, 1, 1, 1, 1],
  [0, 0, 0, 0, 0, 0, 0],
];

describe('loading', () => {
  it('safetensors and old-style pytorch_model.bin give identical [CLS] outputs matching an independent forward', async () => {
    const a = await loadBert(path.join(tmp, 'st'));
    const b = await loadBert(path.join(tmp, 'bin'));
    const c = await loadBert(path.join(tmp, 'bin-deflated'));
    const ca = a.cls(IDS, MASK, TYPES);
    const cb = b.cls(IDS, MASK, TYPES);
    const cc = c.cls(tf.tensor2d(IDS, undefined, 'int32'), tf.tensor2d(MASK), tf.tensor2d(TYPES, undefined, 'int32'));
    expect(ca.shape).toEqual([3, 32]);
    const va = ca.dataSync();
    expect(Array.from(cb.dataSync())).toEqual(Array.from(va));
    expect(Array.from(cc.dataSync())).toEqual(Array.from(va));
    const seq = a.sequence(IDS, MASK, TYPES);
    expect(seq.shape).toEqual([3, 7, 32]);
    const sv = seq.dataSync();
    const cfg = { ...TINY_CONFIG };
    let maxErr = 0;
    for (let i = 0; i < IDS.length; i++) {
      const ref = bertRef(weights, cfg, IDS[i]!, MASK[i]!, TYPES[i]!);
      for (let p = 0; p < 7; p++) for (let d = 0; d < 32; d++) maxErr = Math.max(maxErr, Math.abs(ref[p]![d]! - sv[(i * 7 + p) * 32 + d]!));
      for (let d = 0; d < 32; d++) expect(Math.abs(ref[0]![d]! - va[i * 32 + d]!)).toBeLessThan(1e-4);
    }
    expect(maxErr).toBeLessThan(1e-4);
    // the bin's extras were dropped, and the reason is known
    const ignored = b.checkpoint.ignored.map((i) => i.name).sort();
    expect(ignored).toEqual(['bert.embeddings.position_ids', 'cls.predictions.bias', 'cls.predictions.decoder.weight']);
    for (const x of [ca, cb, cc, seq]) x.dispose();
    a.dispose();
    b.dispose();
    c.dispose();
  });

  it('padding ids do not change real positions (additive key mask)', async () => {
    const m = await loadBert(path.join(tmp, 'st'));
    const ids2 = IDS.map((r, i) => r.map((v, j) => (MASK[i]![j] ? v : 17)));
    const x = m.cls(IDS, MASK, TYPES).dataSync();
    const y = m.cls(ids2, MASK, TYPES).dataSync();
    for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!)).toBeLessThan(1e-3);
    // and without the mask they do change
    const ones = MASK.map((r) => r.map(() => 1));
    const z = m.cls(ids2, ones, TYPES).dataSync();
    expect(Math.max(...Array.from(x, (v, i) => Math.abs(v - z[i]!)))).toBeGreaterThan(1e-2);
    m.dispose();
  });

  it('registers exactly the catalog parameter names and shapes under the module path', () => {
    const store = new ParamStore({ seed: 1 });
    const config = parseBertConfig(TINY_CONFIG);
    const bert = createBert(store, 'text_model.bert', config);
    const catalog = bertParams(resolveBertConfig({ pretrained: 'x', config: TINY_CONFIG } as never).config);
    expect(store.entries().map((e) => e.key)).toEqual(catalog.map((p) => `text_model.bert.${p.name}`));
    expect(store.entries().map((e) => e.shape)).toEqual(catalog.map((p) => p.shape));
    expect(bert.keys.length).toBe(catalog.length);
    const g = bertParamGroups(store, 'text_model.bert');
    expect(g.noDecay.every((e) => /bias$|LayerNorm\.weight$/.test(e.key))).toBe(true);
    expect(g.decay.length + g.noDecay.length).toBe(catalog.length);
    expect(g.decay.some((e) => e.key.endsWith('LayerNorm.weight'))).toBe(false);
    store.dispose();
  });

  it('a wrong shape names the tensor, the file and the config values', () => {
    const bad = new Map(weights);
    bad.set('encoder.layer.1.intermediate.dense.weight', { shape: [60, 32], values: new Float32Array(60 * 32) });
    const dir = path.join(tmp, 'bad-shape');
    writeSafetensorsDir(dir, bad);
    const store = new ParamStore({ seed: 1 });
    let err: unknown;
    try {
      openBertSync(dir, store, '');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MmsaError);
    const e = err as MmsaError;
    expect(e.code).toBe('MSA6808');
    expect(e.message).toContain("'encoder.layer.1.intermediate.dense.weight'");
    expect(e.message).toContain('[60, 32]');
    expect(e.message).toContain('intermediate_size 64');
    expect(e.message).toContain('model.safetensors');
    expect(store.entries()).toHaveLength(0);
  });

  it('missing tensors and extra layers are refused by name; a missing pooler is tolerated', () => {
    const noWord = new Map(weights);
    noWord.delete('embeddings.word_embeddings.weight');
    writeSafetensorsDir(path.join(tmp, 'missing'), noWord);
    expect(() => openBertSync(path.join(tmp, 'missing'), new ParamStore({ seed: 1 }), '')).toThrow(/embeddings\.word_embeddings\.weight/);

    const extra = new Map(weights);
    extra.set('encoder.layer.2.output.dense.bias', { shape: [32], values: new Float32Array(32) });
    writeSafetensorsDir(path.join(tmp, 'extra'), extra);
    expect(() => openBertSync(path.join(tmp, 'extra'), new ParamStore({ seed: 1 }), '')).toThrow(/encoder\.layer\.2\.output\.dense\.bias.*num_hidden_layers 2/);

    const noPooler = new Map([...weights].filter(([k]) => !k.startsWith('pooler.')));
    writeSafetensorsDir(path.join(tmp, 'nopool'), noPooler);
    const r = openBertSync(path.join(tmp, 'nopool'), new ParamStore({ seed: 1 }), 'bert');
    expect(r.checkpoint.missingOptional).toEqual(['pooler.dense.weight', 'pooler.dense.bias']);

    // a bad config.json is named
    writeFileSync(path.join(tmp, 'nopool', 'config.json'), JSON.stringify({ ...TINY_CONFIG, hidden_act: 'swish' }));
    expect(() => openBertSync(path.join(tmp, 'nopool'), new ParamStore({ seed: 1 }), '')).toThrow(/config\.json: 'hidden_act' "swish" is not supported/);
  });

  it('refuses f16 safetensors only when the shape is wrong (f16 weights convert)', () => {
    const t = new Map([...weights].map(([k, v]) => [k, { ...v, dtype: 'F16' as const }]));
    const dir = path.join(tmp, 'f16');
    writeSafetensorsDir(dir, new Map());
    writeFileSync(path.join(dir, 'model.safetensors'), writeSafetensors(t));
    const r = openBertSync(dir, new ParamStore({ seed: 1 }), '');
    expect(r.model.keys).toHaveLength(weights.size);
  });
});

describe('embedding lookup', () => {
  it('its scatter-add gradient equals the one-hot matMul gradient, repeated ids included', () => {
    const table = tf.variable(tf.tensor2d(Array.from({ length: 6 * 3 }, (_, i) => Math.sin(i)), [6, 3]));
    const ids = tf.tensor1d([4, 1, 4, 0], 'int32');
    const w = tf.tensor2d([[1, 2, 3], [-1, 0, 2], [0.5, 0.5, 0.5], [3, -2, 1]]);
    const a = tf.variableGrads(() => tf.sum(tf.mul(embeddingLookup(table, ids), w)) as tf.Scalar, [table]);
    const b = tf.variableGrads(() => tf.sum(tf.mul(tf.matMul(tf.oneHot(ids, 6), table), w)) as tf.Scalar, [table]);
    expect(Array.from(a.grads[table.name]!.dataSync())).toEqual(Array.from(b.grads[table.name]!.dataSync()));
    expect(a.value.dataSync()[0]).toBeCloseTo(b.value.dataSync()[0]!, 5);
    tf.dispose([table, ids, w, a.value, b.value]);
    tf.dispose(a.grads);
    tf.dispose(b.grads);
  });

  it("with a padding index (HF's padding_idx = pad_token_id) the padding row's gradient is zero, the others unchanged", () => {
    const table = tf.variable(tf.tensor2d(Array.from({ length: 6 * 3 }, (_, i) => Math.cos(i)), [6, 3]));
    const ids = tf.tensor1d([4, 0, 1, 0], 'int32');
    const w = tf.tensor2d([[1, 2, 3], [-1, 0, 2], [0.5, 0.5, 0.5], [3, -2, 1]]);
    const gradOf = (pad: number | null) => {
      const g = tf.variableGrads(() => tf.sum(tf.mul(embeddingLookup(table, ids, pad), w)) as tf.Scalar, [table]);
      const out = Array.from(g.grads[table.name]!.dataSync());
      tf.dispose([g.value, ...Object.values(g.grads)]);
      return out;
    };
    const plain = gradOf(null);
    const padded = gradOf(0);
    // Row 0 (looked up twice) gets w[1] + w[3] without padding, nothing with it; rows 4 and 1 as before.
    expect(plain.slice(0, 3)).toEqual([2, -2, 3]);
    expect(padded.slice(0, 3)).toEqual([0, 0, 0]);
    expect(padded.slice(3)).toEqual(plain.slice(3));
    // The forward still reads the padding row.
    expect(Array.from(embeddingLookup(table, ids, 0).dataSync())).toEqual(Array.from(tf.gather(table, ids).dataSync()));
    tf.dispose([table, ids, w]);
  });

  it('config.json: pad_token_id defaults to 0 (BertConfig), null turns the padding row off, out of range is refused', () => {
    expect(parseBertConfig(TINY_CONFIG).pad_token_id).toBe(0);
    expect(parseBertConfig({ ...TINY_CONFIG, pad_token_id: 3 }).pad_token_id).toBe(3);
    expect(parseBertConfig({ ...TINY_CONFIG, pad_token_id: null }).pad_token_id).toBe(null);
    expect(() => parseBertConfig({ ...TINY_CONFIG, pad_token_id: 1e6 }, 'x/config.json')).toThrow(/x\/config.json: 'pad_token_id' must be null or an integer/);
  });

  it.skipIf(nativeDisabled)('the native scatter-add gives the bits of the JS one (a 1000 x 64 table, 500 ids with repeats)', () => {
    const r = mulberry32(3);
    const table = tf.variable(tf.tensor2d(Float32Array.from({ length: 1000 * 64 }, () => r() - 0.5), [1000, 64]));
    const ids = tf.tensor1d(Int32Array.from({ length: 500 }, () => Math.floor(r() * 120)), 'int32');
    const w = tf.tensor2d(Float32Array.from({ length: 500 * 64 }, () => r() - 0.5), [500, 64]);
    const grad = () => {
      const g = tf.variableGrads(() => tf.sum(tf.mul(embeddingLookup(table, ids), w)) as tf.Scalar, [table]);
      const out = Float32Array.from(g.grads[table.name]!.dataSync());
      tf.dispose([g.value, ...Object.values(g.grads)]);
      return out;
    };
    const native = grad();
    const saved = activeNativeKernels();
    setNativeMatMul(undefined);
    const js = grad();
    setNativeMatMul(saved?.mod, saved?.threads);
    expect(Buffer.from(native.buffer).equals(Buffer.from(js.buffer))).toBe(true);
    expect(native.some((x) => x !== 0)).toBe(true);
    tf.dispose([table, ids, w]);
  });

  it('refuses ids outside the vocabulary and mismatched input shapes', async () => {
    const m = await loadBert(path.join(tmp, 'st'));
    expect(() => m.cls([[2, 40, 3]], [[1, 1, 1]])).toThrow(/token id 40 at flat position 1 is outside \[0, 40\)/);
    expect(() => m.cls([[2, 5, 3]], [[1, 1, 1]], [[0, 2, 0]])).toThrow(/token type id 2/);
    expect(() => m.cls([[2, 5, 3]], [[1, 1]])).toThrow(/attention mask has shape \[1, 2\], expected \[1, 3\]/);
    expect(() => m.cls([Array(17).fill(2)], [Array(17).fill(1)])).toThrow(/max_position_embeddings/);
    m.dispose();
  });
});

describe('training', () => {
  it('fine-tuning the tiny BERT + a linear head with Adam lowers the loss', async () => {
    const m = await loadBert(path.join(tmp, 'st'));
    const store = m.store;
    const head = createLinear(store, 'head', 32, 1);
    // toy task: does the sequence contain token 9?
    const N = 16;
    const ids: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < N; i++) {
      const row = [2];
      for (let j = 0; j < 5; j++) row.push(10 + ((i * 7 + j * 3) % 25));
      if (i % 2 === 0) row[1 + (i % 5)] = 9;
      row.push(3);
      ids.push(row);
      y.push(i % 2 === 0 ? 1 : 0);
    }
    const mask = ids.map((r) => r.map(() => 1));
    const types = ids.map((r) => r.map(() => 0));
    const idsT = tf.tensor2d(ids, undefined, 'int32');
    const maskT = tf.tensor2d(mask);
    const typesT = tf.tensor2d(types, undefined, 'int32');
    const yT = tf.tensor2d(y, [N, 1]);
    const groups = bertParamGroups(store, '');
    const opt = new Adam([
      { name: 'bert_decay', params: groups.decay.filter((e) => !e.key.startsWith('head')), lr: 1e-3, weightDecay: 1e-3 },
      { name: 'bert_no_decay', params: groups.noDecay.filter((e) => !e.key.startsWith('head')), lr: 1e-3 },
      { name: 'head', params: store.select({ prefix: 'head' }), lr: 1e-2 },
    ]);
    const losses: number[] = [];
    for (let step = 0; step < 25; step++) {
      const ctx = trainCtx(step + 1);
      const { value, grads } = tf.variableGrads(() => {
        const { cls } = m.model.apply(idsT, maskT, typesT, ctx);
        return tf.losses.sigmoidCrossEntropy(yT, head.apply(cls)) as tf.Scalar;
      }, opt.variables());
      // the embeddings get gradients through the gather
      expect(grads[store.get('embeddings.word_embeddings.weight').name]).toBeDefined();
      opt.step(grads);
      losses.push(value.dataSync()[0]!);
      value.dispose();
      tf.dispose(grads);
    }
    const first = (losses[0]! + losses[1]! + losses[2]!) / 3;
    const last = (losses[22]! + losses[23]! + losses[24]!) / 3;
    expect(last).toBeLessThan(first * 0.5);
    opt.dispose();
    m.dispose();
  });

  it('a frozen BERT (noGrad) keeps nothing on the tape and gives gradients only to the head', async () => {
    const m = await loadBert(path.join(tmp, 'st'), { trainable: false });
    const head = createLinear(m.store, 'head', 32, 1);
    const before = m.store.get('encoder.layer.0.attention.self.query.weight').dataSync().slice();
    const idsT = tf.tensor2d(IDS, undefined, 'int32');
    const maskT = tf.tensor2d(MASK);
    const typesT = tf.tensor2d(TYPES, undefined, 'int32');
    const { grads, value } = tf.variableGrads(() => {
      const cls = noGrad((a, b, c) => m.model.apply(a, b, c, trainCtx(3)).cls, idsT, maskT, typesT);
      return tf.mean(head.apply(cls)) as tf.Scalar;
    });
    expect(Object.keys(grads).every((k) => k.includes('/head.'))).toBe(true);
    expect(Object.keys(grads)).toHaveLength(2);
    expect(Array.from(m.store.get('encoder.layer.0.attention.self.query.weight').dataSync())).toEqual(Array.from(before));
    tf.dispose([value, idsT, maskT, typesT]);
    tf.dispose(grads);
    // eval mode is deterministic, train mode applies dropout
    const e1 = m.cls(IDS, MASK, TYPES).dataSync();
    const e2 = m.cls(IDS, MASK, TYPES, evalCtx()).dataSync();
    const t1 = m.cls(IDS, MASK, TYPES, trainCtx(5)).dataSync();
    expect(Array.from(e1)).toEqual(Array.from(e2));
    expect(Array.from(t1)).not.toEqual(Array.from(e1));
    m.dispose();
  });
});
