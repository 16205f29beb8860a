// Test helpers for BERT: a tiny random checkpoint, writers for safetensors dirs and torch.save zips (protocol-2 pickle
// + stored/deflated zip), and an independent plain-JS (float64) BertModel forward. Test helper only.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { writeSafetensors } from '../../../src/runtime/weights/safetensors.js';
import { randn } from '../nn/ref.js';
import { crc32 } from 'node:zlib';

export const TINY_CONFIG = {
  architectures: ['BertModel'],
  model_type: 'bert',
  vocab_size: 40,
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 64,
  max_position_embeddings: 16,
  type_vocab_size: 2,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  layer_norm_eps: 1e-12,
  initializer_range: 0.02,
};

export type Weights = Map<string, { shape: number[]; values: Float32Array }>;

/** Local BertModel names and shapes written out independently of the runtime's table. */
export function tinyShapes(c = TINY_CONFIG): [string, number[]][] {
  const H = c.hidden_size;
  const I = c.intermediate_size;
  const out: [string, number[]][] = [
    ['embeddings.word_embeddings.weight', [c.vocab_size, H]],
    ['embeddings.position_embeddings.weight', [c.max_position_embeddings, H]],
    ['embeddings.token_type_embeddings.weight', [c.type_vocab_size, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `encoder.layer.${i}`;
    for (const n of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) out.push([`${l}.${n}.weight`, [H, H]], [`${l}.${n}.bias`, [H]]);
    out.push([`${l}.attention.output.LayerNorm.weight`, [H]], [`${l}.attention.output.LayerNorm.bias`, [H]]);
    out.push([`${l}.intermediate.dense.weight`, [I, H]], [`${l}.intermediate.dense.bias`, [I]]);
    out.push([`${l}.output.dense.weight`, [H, I]], [`${l}.output.dense.bias`, [H]]);
    out.push([`${l}.output.LayerNorm.weight`, [H]], [`${l}.output.LayerNorm.bias`, [H]]);
  }
  out.push(['pooler.dense.weight', [H, H]], ['pooler.dense.bias', [H]]);
  return out;
}

export function randomWeights(seed = 7, c = TINY_CONFIG): Weights {
  const w: Weights = new Map();
  let s = seed;
  for (const [name, shape] of tinyShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const r = randn(s++, n);
    let values: number[];
    if (name.includes('LayerNorm.weight')) values = r.map((v) => 1 + 0.1 * v);
    else if (name.endsWith('bias')) values = r.map((v) => 0.1 * v);
    else if (name.startsWith('embeddings.')) values = r.map((v) => 0.5 * v);
    else values = r.map((v) => v / Math.sqrt(shape[1]!));
    w.set(name, { shape, values: Float32Array.from(values) });
  }
  return w;
}

/** A model directory with config.json + model.safetensors (modern names). */
export function writeSafetensorsDir(dir: string, w: Weights, config: object = TINY_CONFIG): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(path.join(dir, 'model.safetensors'), writeSafetensors(w));
}

// ------------------------------------------------------------------------------------------- pickle writer (p2)

class PickleWriter {
  private bytes: number[] = [];
  op(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  global(mod: string, name: string): this {
    return this.op(0x63, ...Buffer.from(`${mod}\n${name}\n`, 'latin1'));
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.op(0x58, ...u32(b.length), ...b);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    if (n >= -(2 ** 31) && n < 2 ** 31) return this.op(0x4a, ...u32(n >>> 0));
    const b: number[] = [];
    let v = BigInt(n);
    for (let i = 0; i < 8; i++) {
      b.push(Number(v & 0xffn));
      v >>= 8n;
    }
    return this.op(0x8a, 8, ...b);
  }
  tuple(items: (() => void)[]): this {
    this.op(0x28);
    for (const f of items) f();
    return this.op(0x74);
  }
  orderedDict(): this {
    return this.global('collections', 'OrderedDict').op(0x29, 0x52);
  }
  done(): Uint8Array {
    return Uint8Array.from([...this.bytes, 0x2e]);
  }
}

function u32(n: number): number[] {
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
}

export interface BinTensor {
  /** Storage key; tensors with the same key share a storage. */
  key: string;
  storageType: 'FloatStorage' | 'LongStorage' | 'HalfStorage';
  storageNumel: number;
  offset: number;
  shape: number[];
  stride: number[];
}

/** torch.save's data.pkl for an OrderedDict state_dict (protocol 2, persistent ids, _metadata BUILD). */
export function torchPickle(entries: [string, BinTensor][]): Uint8Array {
  const w = new PickleWriter();
  w.op(0x80, 0x02).orderedDict().op(0x28);
  for (const [name, t] of entries) {
    w.str(name);
    w.global('torch._utils', '_rebuild_tensor_v2');
    w.tuple([
      () => {
        w.tuple([() => w.str('storage'), () => w.global('torch', t.storageType), () => w.str(t.key), () => w.str('cpu'), () => w.int(t.storageNumel)]);
        w.op(0x51); // BINPERSID
      },
      () => w.int(t.offset),
      () => w.tuple(t.shape.map((d) => () => w.int(d))),
      () => w.tuple(t.stride.map((d) => () => w.int(d))),
      () => w.op(0x89),
      () => w.orderedDict(),
    ]);
    w.op(0x52);
  }
  w.op(0x75); // SETITEMS
  w.op(0x7d).str('_metadata').orderedDict().op(0x73, 0x62); // {'_metadata': OrderedDict()} BUILD
  return w.done();
}

// ------------------------------------------------------------------------------------------- zip writer

/** Zip with stored entries (deflated for names in `deflate`), data aligned to 64 bytes like torch's writer. */
export function writeZip(entries: [string, Uint8Array][], deflate: ReadonlySet<string> = new Set()): Uint8Array {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let off = 0;
  for (const [name, data] of entries) {
    const nameB = Buffer.from(name, 'utf8');
    const method = deflate.has(name) ? 8 : 0;
    const body = method === 8 ? deflateRawSync(data) : Buffer.from(data);
    const padLen = (64 - ((off + 30 + nameB.length + 4) % 64)) % 64;
    const extra = Buffer.alloc(4 + padLen);
    extra.writeUInt16LE(0x4246, 0); // "FB" padding record, as PyTorchFileWriter
    extra.writeUInt16LE(padLen, 2);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(method, 8);
    h.writeUInt32LE(crc32(data), 14);
    h.writeUInt32LE(body.length, 18);
    h.writeUInt32LE(data.length, 22);
    h.writeUInt16LE(nameB.length, 26);
    h.writeUInt16LE(extra.length, 28);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(method, 10);
    c.writeUInt32LE(crc32(data), 16);
    c.writeUInt32LE(body.length, 20);
    c.writeUInt32LE(data.length, 24);
    c.writeUInt16LE(nameB.length, 28);
    c.writeUInt32LE(off, 42);
    central.push(c, nameB);
    chunks.push(h, nameB, extra, body);
    off += 30 + nameB.length + extra.length + body.length;
  }
  return closeZip(chunks, central, entries.length, off);
}

/** The archive from its local parts and central directory entries: appends the end-of-central-directory record. */
export function closeZip(local: Buffer[], central: Buffer[], count: number, cdOffset: number): Uint8Array {
  const cd = Buffer.concat(central);
  const e = Buffer.alloc(22);
  e.writeUInt32LE(0x06054b50, 0);
  e.writeUInt16LE(count, 8);
  e.writeUInt16LE(count, 10);
  e.writeUInt32LE(cd.length, 12);
  e.writeUInt32LE(cdOffset, 16);
  return new Uint8Array(Buffer.concat([...local, cd, e]));
}

function f32bytes(v: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(v).buffer);
}

/**
 * pytorch_model.bin in the old naming style: `bert.` prefix, LayerNorm gamma/beta, a `cls.predictions.bias` head,
 * a tied `cls.predictions.decoder.weight` sharing the word-embedding storage, an int64 position_ids buffer, and
 * one weight stored transposed (a strided view) to exercise stride handling.
 */
export function writeOldStyleBin(w: Weights, opts: { deflatePickle?: boolean } = {}): Uint8Array {
  const entries: [string, BinTensor][] = [];
  const files: [string, Uint8Array][] = [];
  let k = 0;
  const oldName = (n: string) => `bert.${n.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta')}`;
  for (const [name, t] of w) {
    const key = String(k++);
    if (name === 'encoder.layer.0.attention.self.query.weight') {
      // store W^T contiguously, expose W as a view with swapped strides
      const [r, c] = t.shape as [number, number];
      const tr = new Float32Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) tr[j * r + i] = t.values[i * c + j]!;
      files.push([`archive/data/${key}`, f32bytes(tr)]);
      entries.push([oldName(name), { key, storageType: 'FloatStorage', storageNumel: r * c, offset: 0, shape: [r, c], stride: [1, r] }]);
      continue;
    }
    if (name === 'embeddings.LayerNorm.bias') {
      // a view at an offset inside a larger storage
      const big = new Float32Array(t.values.length + 5);
      big.set(t.values, 5);
      files.push([`archive/data/${key}`, f32bytes(big)]);
      entries.push([oldName(name), { key, storageType: 'FloatStorage', storageNumel: big.length, offset: 5, shape: t.shape, stride: [1] }]);
      continue;
    }
    files.push([`archive/data/${key}`, f32bytes(t.values)]);
    const stride = t.shape.length === 2 ? [t.shape[1]!, 1] : [1];
    entries.push([oldName(name), { key, storageType: 'FloatStorage', storageNumel: t.values.length, offset: 0, shape: t.shape, stride }]);
    if (name === 'embeddings.word_embeddings.weight') {
      entries.push(['cls.predictions.decoder.weight', { key, storageType: 'FloatStorage', storageNumel: t.values.length, offset: 0, shape: t.shape, stride }]);
    }
  }
  const V = w.get('embeddings.word_embeddings.weight')!.shape[0]!;
  const P = w.get('embeddings.position_embeddings.weight')!.shape[0]!;
  files.push([`archive/data/${k}`, f32bytes(new Float32Array(V).fill(0.5))]);
  entries.push(['cls.predictions.bias', { key: String(k++), storageType: 'FloatStorage', storageNumel: V, offset: 0, shape: [V], stride: [1] }]);
  const pos = new BigInt64Array(P);
  for (let i = 0; i < P; i++) pos[i] = BigInt(i);
  files.push([`archive/data/${k}`, new Uint8Array(pos.buffer)]);
  entries.push(['bert.embeddings.position_ids', { key: String(k++), storageType: 'LongStorage', storageNumel: P, offset: 0, shape: [1, P], stride: [P, 1] }]);
  const pkl = torchPickle(entries);
  const all: [string, Uint8Array][] = [['archive/data.pkl', pkl], ...files, ['archive/version', Buffer.from('3\n')]];
  return writeZip(all, opts.deflatePickle ? new Set(['archive/data.pkl']) : new Set());
}

export function writeBinDir(dir: string, w: Weights, config: object = TINY_CONFIG, opts: { deflatePickle?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(path.join(dir, 'pytorch_model.bin'), writeOldStyleBin(w, opts));
}

// ------------------------------------------------------------------------------------------- reference forward

/** erf by its Maclaurin series / continued fraction (|error| < 1e-12 on the range used here). */
export function erfRef(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    // erf x = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 80; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

type Vec = number[];

function lnRef(x: Vec, g: ArrayLike<number>, b: ArrayLike<number>, eps: number): Vec {
  const n = x.length;
  const mean = x.reduce((s, v) => s + v, 0) / n;
  const varc = x.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
  return x.map((v, i) => ((v - mean) / Math.sqrt(varc + eps)) * g[i]! + b[i]!);
}

function dense(x: Vec, w: { shape: number[]; values: Float32Array }, b: { values: Float32Array }): Vec {
  const [out, inp] = w.shape as [number, number];
  const y = new Array<number>(out);
  for (let o = 0; o < out; o++) {
    let s = b.values[o]!;
    for (let i = 0; i < inp; i++) s += w.values[o * inp + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

/** BertModel forward (eval) in float64, one example at a time; returns the last-layer hidden states [L][H]. */
export function bertRef(w: Weights, c: typeof TINY_CONFIG, ids: number[], mask: number[], types: number[]): Vec[] {
  const H = c.hidden_size;
  const nh = c.num_attention_heads;
  const dh = H / nh;
  const L = ids.length;
  const get = (n: string) => w.get(n)!;
  const row = (n: string, r: number) => Array.from(get(n).values.subarray(r * H, (r + 1) * H));
  let x: Vec[] = ids.map((id, p) => {
    const a = row('embeddings.word_embeddings.weight', id);
    const b = row('embeddings.position_embeddings.weight', p);
    const t = row('embeddings.token_type_embeddings.weight', types[p]!);
    return lnRef(a.map((v, i) => v + b[i]! + t[i]!), get('embeddings.LayerNorm.weight').values, get('embeddings.LayerNorm.bias').values, c.layer_norm_eps);
  });
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    const lin = (n: string, v: Vec) => dense(v, get(`${p}.${n}.weight`), get(`${p}.${n}.bias`));
    const q = x.map((v) => lin('attention.self.query', v));
    const k = x.map((v) => lin('attention.self.key', v));
    const val = x.map((v) => lin('attention.self.value', v));
    const ctx: Vec[] = x.map(() => new Array<number>(H).fill(0));
    for (let h = 0; h < nh; h++) {
      for (let i = 0; i < L; i++) {
        const s: number[] = [];
        for (let j = 0; j < L; j++) {
          let d = 0;
          for (let e = 0; e < dh; e++) d += q[i]![h * dh + e]! * k[j]![h * dh + e]!;
          s.push(d / Math.sqrt(dh) + (1 - mask[j]!) * -10000);
        }
        const m = Math.max(...s);
        const ex = s.map((v) => Math.exp(v - m));
        const z = ex.reduce((a, b) => a + b, 0);
        for (let j = 0; j < L; j++) for (let e = 0; e < dh; e++) ctx[i]![h * dh + e]! += (ex[j]! / z) * val[j]![h * dh + e]!;
      }
    }
    const attn = x.map((v, i) => {
      const o = lin('attention.output.dense', ctx[i]!);
      return lnRef(o.map((a, d) => a + v[d]!), get(`${p}.attention.output.LayerNorm.weight`).values, get(`${p}.attention.output.LayerNorm.bias`).values, c.layer_norm_eps);
    });
    x = attn.map((a) => {
      const inter = lin('intermediate.dense', a).map((v) => 0.5 * v * (1 + erfRef(v / Math.SQRT2)));
      const o = lin('output.dense', inter);
      return lnRef(o.map((v, d) => v + a[d]!), get(`${p}.output.LayerNorm.weight`).values, get(`${p}.output.LayerNorm.bias`).values, c.layer_norm_eps);
    });
  }
  return x;
}

/** BERT config of the tiny end-to-end specs (`tinyBertSpec`): BERT's own vocabulary size, one small layer. */
export const TINY_RUN_CONFIG = { ...TINY_CONFIG, vocab_size: 30522, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32 };

/**
 * A spec that trains a tiny BERT (TINY_RUN_CONFIG) with two LSTMs on synthetic MOSI-like data for one epoch, seed 7.
 * `bert` is the rest of the encoder's flow mapping after `type: bert, ` (e.g. `pretrained: ./bert, `).
 */
export function tinyBertSpec(bert: string): string {
  return `version: 1
dataset: {type: synthetic, like: mosi, n_train: 16, n_valid: 8, n_test: 8, seed: 2, dims: {audio: 5, vision: 7}, seq_lens: {text: 8, audio: 6, vision: 6}}
modalities:
  text: {feature: text_bert}
  audio: {feature: audio}
  vision: {feature: vision}
encoders:
  text: {type: bert, ${bert}config: {vocab_size: 30522, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 16}}
  audio: {type: lstm, hidden: 4}
  vision: {type: lstm, hidden: 4}
fusion: {type: concat, inputs: [text, audio, vision]}
heads:
  M: {type: regression, input: fusion, hidden: [8]}
tasks:
  main: {type: l1, head: M}
train: {batch_size: 8, max_epochs: 1}
seeds: [7]
`;
}
