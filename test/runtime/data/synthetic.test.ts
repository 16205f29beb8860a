import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileFileAsync } from '../../../src/compiler/compile.js';
import type { ResolvedDataset } from '../../../src/compiler/ir/types.js';
import { syntheticLayout, type SyntheticSettings } from '../../../src/compiler/spec/synthetic-layout.js';
import { pipelinesDir } from '../../../src/paths.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import type { LoadedDataset } from '../../../src/runtime/data/types.js';
import { makeIr, type ModalityInput } from './data-test-helpers.js';
import { fromSynthetic } from '../../../src/compiler/spec/resolve-dataset.js';

function synthDataset(s: SyntheticSettings): ResolvedDataset {
  return fromSynthetic(s, { file: '<test>', start: 0, end: 0 });
}

const SEQ: Record<string, ModalityInput> = { text: { feature: 'text' }, audio: { feature: 'audio' }, vision: { feature: 'vision' } };
const MEAN: Record<string, ModalityInput> = { text: { feature: 'text' }, audio: { feature: 'audio', preprocess: { time_mean: true } }, vision: { feature: 'vision', preprocess: { time_mean: true } } };

function load(s: Partial<SyntheticSettings>, mods = SEQ): Promise<LoadedDataset> {
  const full: SyntheticSettings = { like: 'mosi', aligned: false, n_train: 48, n_valid: 16, n_test: 16, seed: 1, noise: 0.5, ...s };
  const ds = synthDataset(full);
  return loadDataset(makeIr(ds, mods, Object.keys(ds.labels)));
}

/** Ridge regression fit on train, R^2 on test (features centred with the train means; Cholesky solve). */
function ridgeR2(xTr: Float64Array[], yTr: ArrayLike<number>, xTe: Float64Array[], yTe: ArrayLike<number>, lambda: number): number {
  const p = xTr[0]!.length;
  const n = xTr.length;
  const mx = new Float64Array(p);
  for (const r of xTr) for (let j = 0; j < p; j++) mx[j]! += r[j]! / n;
  let my = 0;
  for (let i = 0; i < n; i++) my += yTr[i]! / n;
  const A = new Float64Array(p * p);
  const b = new Float64Array(p);
  const c = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const r = xTr[i]!;
    for (let j = 0; j < p; j++) c[j] = r[j]! - mx[j]!;
    const yi = yTr[i]! - my;
    for (let j = 0; j < p; j++) {
      const cj = c[j]!;
      b[j]! += cj * yi;
      const row = j * p;
      for (let k = 0; k <= j; k++) A[row + k]! += cj * c[k]!;
    }
  }
  for (let j = 0; j < p; j++) A[j * p + j]! += lambda;
  // Cholesky (lower triangle) then two triangular solves.
  for (let j = 0; j < p; j++) {
    for (let k = 0; k < j; k++) {
      let s = A[j * p + k]!;
      for (let m = 0; m < k; m++) s -= A[j * p + m]! * A[k * p + m]!;
      A[j * p + k] = s / A[k * p + k]!;
    }
    let d = A[j * p + j]!;
    for (let m = 0; m < j; m++) d -= A[j * p + m]! ** 2;
    A[j * p + j] = Math.sqrt(d);
  }
  const z = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    let s = b[j]!;
    for (let m = 0; m < j; m++) s -= A[j * p + m]! * z[m]!;
    z[j] = s / A[j * p + j]!;
  }
  const w = new Float64Array(p);
  for (let j = p - 1; j >= 0; j--) {
    let s = z[j]!;
    for (let m = j + 1; m < p; m++) s -= A[m * p + j]! * w[m]!;
    w[j] = s / A[j * p + j]!;
  }
  let ssRes = 0;
  let ssTot = 0;
  let mTe = 0;
  for (let i = 0; i < xTe.length; i++) mTe += yTe[i]! / xTe.length;
  for (let i = 0; i < xTe.length; i++) {
    let pred = my;
    for (let j = 0; j < p; j++) pred += w[j]! * (xTe[i]![j]! - mx[j]!);
    ssRes += (yTe[i]! - pred) ** 2;
    ssTot += (yTe[i]! - mTe) ** 2;
  }
  return 1 - ssRes / ssTot;
}

function rows(data: Float32Array | Int32Array, n: number, stride: number, width: number): Float64Array[] {
  return Array.from({ length: n }, (_, i) => Float64Array.from(data.subarray(i * stride, i * stride + width)));
}

function sameBytes(a: Float32Array | Int32Array, b: Float32Array | Int32Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

function corr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('synthetic datasets', () => {
  it('are deterministic per seed, and different seeds give different data', async () => {
    const a = await load({ seed: 7 });
    const b = await load({ seed: 7 });
    const c = await load({ seed: 8 });
    for (const s of ['train', 'valid', 'test'] as const) {
      for (const m of ['text', 'audio', 'vision']) expect(sameBytes(a[s].features[m]!.data, b[s].features[m]!.data)).toBe(true);
      expect(a[s].labels).toEqual(b[s].labels);
      expect(a[s].lengths).toEqual(b[s].lengths);
      expect(a[s].ids).toEqual(b[s].ids);
    }
    expect(sameBytes(a.train.features['text']!.data, c.train.features['text']!.data)).toBe(false);
    expect(sameBytes(a.train.features['audio']!.data, c.train.features['audio']!.data)).toBe(false);
    expect(a.train.labels['M']).not.toEqual(c.train.labels['M']);
    // Splits are different samples, not copies.
    expect(sameBytes(a.valid.features['text']!.data, a.train.features['text']!.data.subarray(0, a.valid.features['text']!.data.length))).toBe(false);
    expect(a.provenance.source).toBe('synthetic');
    expect(a.provenance.synthetic).toMatchObject({ like: 'mosi', seed: 7 });
  });

  it('a key does not depend on which other keys were requested', async () => {
    const all = await load({ seed: 3 });
    const only = await load({ seed: 3 }, { audio: { feature: 'audio' } });
    expect(only.test.features['audio']!.data).toEqual(all.test.features['audio']!.data);
    expect(only.test.labels).toEqual(all.test.labels);
  });

  it('match the layout: shapes, zero padding after the true lengths, lengths >= 1', async () => {
    const d = await load({ like: 'sims', seq_lens: { text: 10, audio: 30, vision: 12 } });
    const L = syntheticLayout({ like: 'sims', aligned: false, n_train: 48, n_valid: 16, n_test: 16, seed: 1, noise: 0.5, seq_lens: { text: 10, audio: 30, vision: 12 } });
    expect(d.train.features['text']!.shape).toEqual([48, ...L.features['text']!.shape]);
    expect(d.train.features['audio']!.shape).toEqual([48, 30, 33]);
    expect(d.test.features['vision']!.shape).toEqual([16, 12, 709]);
    const a = d.train.features['audio']!.data;
    const lens = d.train.lengths['audio']!;
    for (let i = 0; i < 48; i++) {
      const l = lens[i]!;
      expect(l).toBeGreaterThanOrEqual(1);
      expect(l).toBeLessThanOrEqual(30);
      expect(a.subarray((i * 30 + l) * 33, (i + 1) * 30 * 33).every((x) => x === 0)).toBe(true);
      expect(a.subarray((i * 30 + l - 1) * 33, (i * 30 + l) * 33).some((x) => x !== 0)).toBe(true);
    }
    expect(new Set(lens).size).toBeGreaterThan(3);
    expect(d.train.ids[0]).toMatch(/\$_\$/);
  });

  it('text_bert tokens are consistent with a random length: [CLS] ids [SEP], mask, segments, raw text', async () => {
    const d = await load({ like: 'mosi', seq_lens: { text: 12 } }, { text: { feature: 'text_bert' } });
    const t = d.train.features['text']!;
    expect(t.shape).toEqual([48, 3, 12]);
    expect(t.data).toBeInstanceOf(Int32Array);
    for (let i = 0; i < 48; i++) {
      const ids = t.data.subarray(i * 36, i * 36 + 12);
      const mask = t.data.subarray(i * 36 + 12, i * 36 + 24);
      const seg = t.data.subarray(i * 36 + 24, i * 36 + 36);
      const len = Array.from(mask).reduce((s, x) => s + x, 0);
      expect(len).toBeGreaterThanOrEqual(3);
      expect(Array.from(mask)).toEqual(Array.from({ length: 12 }, (_, k) => (k < len ? 1 : 0)));
      expect(ids[0]).toBe(101);
      expect(ids[len - 1]).toBe(102);
      expect(Array.from(ids.subarray(len)).every((x) => x === 0)).toBe(true);
      expect(Array.from(seg).every((x) => x === 0)).toBe(true);
      expect(d.train.rawText![i]!.split(' ')).toHaveLength(len - 2);
    }
  });

  it("text_bert ids fit the dataset's BERT vocabulary: bert-base-chinese's 21128 entries for SIMS-like data", async () => {
    const maxId = async (like: 'mosi' | 'sims' | 'simsv2') => {
      const d = await load({ like, n_train: 200, seq_lens: { text: 40 } }, { text: { feature: 'text_bert' } });
      const t = d.train.features['text']!.data;
      let m = 0;
      for (let i = 0; i < 200; i++) for (let k = 0; k < 40; k++) m = Math.max(m, t[i * 120 + k]!);
      return m;
    };
    expect(await maxId('sims')).toBeLessThan(21128);
    expect(await maxId('simsv2')).toBeLessThan(21128);
    expect(await maxId('mosi')).toBeGreaterThan(21128); // English-like data spans bert-base-uncased's words
  });

  it('aligned data has the text length for audio/vision with zero [CLS] frames', async () => {
    const d = await load({ like: 'mosi', aligned: true, seq_lens: { text: 14 } });
    expect(d.train.features['audio']!.shape).toEqual([48, 14, 5]);
    expect(d.train.features['vision']!.shape).toEqual([48, 14, 20]);
    const a = d.train.features['audio']!.data;
    for (let i = 0; i < 48; i++) expect(Array.from(a.subarray(i * 14 * 5, i * 14 * 5 + 5)).every((x) => x === 0)).toBe(true);
  });

  it('labels lie on the dataset grid with exact zeros; SIMS unimodal labels correlate with M', async () => {
    const m = await load({ like: 'mosi', n_train: 400 });
    const y = Array.from(m.train.labels['M']!);
    expect(y.every((v) => v >= -3 && v <= 3 && Math.abs(v * 5 - Math.round(v * 5)) < 1e-4)).toBe(true);
    expect(y.filter((v) => v === 0).length).toBeGreaterThan(10);
    expect(new Set(y).size).toBeGreaterThan(15);
    expect(Math.min(...y)).toBeLessThan(-1.5);
    expect(Math.max(...y)).toBeGreaterThan(1.5);
    expect(Object.keys(m.train.labels)).toEqual(['M']);
    const s = await load({ like: 'sims', n_train: 400 });
    expect(Object.keys(s.train.labels).sort()).toEqual(['A', 'M', 'T', 'V']);
    for (const k of ['M', 'T', 'A', 'V']) {
      const v = Array.from(s.train.labels[k]!);
      expect(v.every((x) => x >= -1 && x <= 1 && Math.abs(x * 5 - Math.round(x * 5)) < 1e-4)).toBe(true);
      if (k !== 'M') {
        const r = corr(v, s.train.labels['M']!);
        expect(r).toBeGreaterThan(0.5);
        expect(r).toBeLessThan(0.999);
      }
    }
  });

  it('plants a learnable signal: the [CLS] row explains the labels clearly, audio/vision time means less but not nothing', async () => {
    const n = { n_train: 600, n_valid: 8, n_test: 300 };
    const d = await load({ like: 'mosi', seed: 11, ...n }, MEAN);
    const { train, test } = d;
    const L = 16;
    const cls = (s: typeof train) => rows(s.features['text']!.data, s.n, L * 768, 768);
    const r2Text = ridgeR2(cls(train), train.labels['M']!, cls(test), test.labels['M']!, 50);
    const mean = (s: typeof train, m: string, dim: number) => rows(s.features[m]!.data, s.n, dim, dim);
    const r2Audio = ridgeR2(mean(train, 'audio', 5), train.labels['M']!, mean(test, 'audio', 5), test.labels['M']!, 1);
    const r2Vision = ridgeR2(mean(train, 'vision', 20), train.labels['M']!, mean(test, 'vision', 20), test.labels['M']!, 1);
    // A constant predictor has R^2 <= 0 on held-out data.
    expect(r2Text).toBeGreaterThan(0.5);
    expect(r2Audio).toBeGreaterThan(0.05);
    expect(r2Vision).toBeGreaterThan(0.05);
    expect(r2Audio).toBeLessThan(r2Text - 0.2);
    expect(r2Vision).toBeLessThan(r2Text - 0.2);
    // Labels shuffled against features: the probe finds nothing (guards against a leak through the test split).
    const shuffled = Float32Array.from(test.labels['M']!).reverse();
    expect(ridgeR2(cls(train), train.labels['M']!, cls(test), shuffled, 50)).toBeLessThan(0.2);
  });

  // Compiles and loads every demo (25 of them): well under a minute on a quiet machine, longer under load.
  it('every shipped demo pipeline loads its synthetic data in the compiled types', { timeout: 180_000 }, async () => {
    const demos = readdirSync(pipelinesDir()).filter((f) => /^demo_.*\.(yaml|mmsa)$/.test(f));
    expect(demos.length).toBeGreaterThan(0);
    for (const f of demos) {
      const r = await compileFileAsync(`${pipelinesDir()}/${f}`, { env: {} });
      expect(r.diagnostics.filter((x) => x.severity === 'error'), f).toEqual([]);
      const d = await loadDataset(r.ir!);
      for (const node of r.ir!.nodes.filter((x) => x.kind === 'input')) {
        expect(d.train.features[node.name]!.shape, `${f} ${node.name}`).toEqual([d.train.n, ...node.output.shape.slice(1)]);
      }
      for (const t of r.ir!.tasks) for (const target of t.targets) expect(d.test.labels[target], `${f} ${target}`).toBeDefined();
    }
  });
});
