import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/compile.js';
import { MmsaError } from '../../../src/errors.js';
import { loadDataset, neededKeys } from '../../../src/runtime/data/load-dataset.js';
import { NDArray, readPickle } from '../../../src/runtime/data/pickle/read-pickle.js';
import { FIXTURES, customDataset, fixture, makeIr, mosi, sims } from './data-test-helpers.js';

const SIMS_LABELS = { M: 'regression_labels', T: 'regression_labels_T', A: 'regression_labels_A', V: 'regression_labels_V' };

/** The raw arrays of one split of a fixture, as the pickle reader returns them. */
async function raw(file: string, split: string): Promise<Map<unknown, unknown>> {
  const top = (await readPickle(fixture(file))) as Map<unknown, unknown>;
  return top.get(split) as Map<unknown, unknown>;
}
const arr = (m: Map<unknown, unknown>, k: string) => m.get(k) as NDArray;
const nums = (v: unknown): number[] => (v instanceof NDArray ? Array.from(v.data as ArrayLike<number>, Number) : (v as number[]).map(Number));

async function caught(p: Promise<unknown>): Promise<MmsaError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof MmsaError) return e;
    throw e;
  }
  throw new Error('expected an MmsaError');
}

describe('loadDataset on the MOSI fixtures', () => {
  const ir = (file: string) => makeIr(customDataset(fixture(file), mosi(), { M: 'regression_labels' }), { text: { feature: 'text' }, audio: { feature: 'audio' }, vision: { feature: 'vision' } });

  it('loads every split with shapes, lengths, labels, ids and raw text from the file', async () => {
    const d = await loadDataset(ir('mosi_unaligned_tiny.p4.pkl'));
    expect([d.train.n, d.valid.n, d.test.n]).toEqual([8, 4, 4]);
    expect(d.train.features['text']!.shape).toEqual([8, 10, 768]);
    expect(d.train.features['audio']!.shape).toEqual([8, 30, 5]);
    expect(d.train.features['vision']!.shape).toEqual([8, 40, 20]);
    const r = await raw('mosi_unaligned_tiny.p4.pkl', 'train');
    expect(Array.from(d.train.features['audio']!.data)).toEqual(Array.from(arr(r, 'audio').data as Float32Array));
    expect(Array.from(d.train.lengths['audio']!)).toEqual(nums(r.get('audio_lengths')));
    expect(Array.from(d.train.lengths['vision']!)).toEqual(nums(r.get('vision_lengths')));
    expect(d.train.lengths['text']).toBeUndefined();
    expect(d.train.labels['M']).toBeInstanceOf(Float32Array);
    expect(Array.from(d.train.labels['M']!)).toEqual(nums(r.get('regression_labels')));
    expect(d.train.ids[0]).toBe('synth00000$_$1');
    expect(d.train.rawText?.[0]).toBe('w7760 w19723 w15965 bad');
    expect(d.provenance).toEqual({ source: 'custom', path: fixture('mosi_unaligned_tiny.p4.pkl') });
  });

  it('gives identical results for pickle protocols 2 to 5', async () => {
    const ref = await loadDataset(ir('mosi_unaligned_tiny.p4.pkl'));
    for (const p of [2, 3, 5]) {
      const d = await loadDataset(ir(`mosi_unaligned_tiny.p${p}.pkl`));
      expect(d.test.features['vision']!.data).toEqual(ref.test.features['vision']!.data);
      expect(d.test.labels).toEqual(ref.test.labels);
      expect(d.test.ids).toEqual(ref.test.ids);
    }
  });

  it('reads only the keys the pipeline needs (text is never requested for text_bert)', () => {
    const keys = neededKeys(makeIr(customDataset('x', mosi(), { M: 'regression_labels' }), { text: { feature: 'text_bert' }, audio: { feature: 'audio' } }));
    expect(keys).not.toContain('text');
    expect(keys).not.toContain('vision');
    expect(keys).not.toContain('classification_labels');
    expect(new Set(keys)).toEqual(new Set(['text_bert', 'audio', 'audio_lengths', 'regression_labels', 'id', 'raw_text']));
  });

  it('turns int64 BERT tokens into Int32Array [N, 3, L]', async () => {
    const d = await loadDataset(makeIr(customDataset(fixture('mosi_aligned_tiny.p4.pkl'), mosi(true), { M: 'regression_labels' }), { text: { feature: 'text_bert' } }));
    const t = d.train.features['text']!;
    expect(t.data).toBeInstanceOf(Int32Array);
    expect(t.shape).toEqual([8, 3, 10]);
    const r = await raw('mosi_aligned_tiny.p4.pkl', 'train');
    expect(Array.from(t.data)).toEqual(nums(r.get('text_bert')));
    expect(t.data[0]).toBe(101);
  });

  it('loads classification labels as class indexes', async () => {
    const ds = customDataset(fixture('mosi_unaligned_tiny.p4.pkl'), mosi(), { M: 'classification_labels' }, { task: 'classification', numClasses: 3 });
    const d = await loadDataset(makeIr(ds, { text: { feature: 'text' } }));
    const v = Array.from(d.train.labels['M']!);
    expect(v.every((x) => x === 0 || x === 1 || x === 2)).toBe(true);
    expect(v).toEqual(nums((await raw('mosi_unaligned_tiny.p4.pkl', 'train')).get('classification_labels')));
  });
});

describe('loadDataset preprocessing on the SIMS fixtures', () => {
  const ds = (file: string, feats = sims()) => customDataset(fixture(file), feats, SIMS_LABELS);

  it('sets audio -inf to 0 (sims_quirks, float64 audio); with neg_inf_to_zero off the -inf is refused where it is', async () => {
    const tiny = await loadDataset(makeIr(ds('sims_tiny.p4.pkl'), { audio: { feature: 'audio' } }));
    const q = await loadDataset(makeIr(ds('sims_quirks.p4.pkl'), { audio: { feature: 'audio' } }));
    const a = q.train.features['audio']!.data;
    // -inf cells of the train split: [0, 0, 0] and [7, 1, 32] (see the fixture manifest).
    const cells = [0, (7 * 20 + 1) * 33 + 32];
    for (const c of cells) expect(a[c]).toBe(0);
    const t = tiny.train.features['audio']!.data;
    for (let i = 0; i < a.length; i++) if (!cells.includes(i)) expect(a[i]).toBe(t[i]);
    expect(a.some((x) => x === -Infinity)).toBe(false);
    const e = await caught(loadDataset(makeIr(ds('sims_quirks.p4.pkl'), { audio: { feature: 'audio', preprocess: { neg_inf_to_zero: false } } })));
    expect(e.code).toBe('MSA6025');
    expect(e.message).toContain("split 'train', key 'audio'");
    expect(e.message).toMatch(/-inf in sample 0 \(id "[^"]+"\) at \[0, 0\] \(2 non-finite values in all\)/);
    expect(e.hint).toContain('neg_inf_to_zero: true');
    expect(e.details).toMatchObject({ split: 'train', key: 'audio', sample: 0, position: [0, 0], value: '-inf', count: 2 });
  });

  it('reads big-endian vision, float64 labels, float64 text_bert and list / int32 lengths like the clean file', async () => {
    const mods = { text: { feature: 'text_bert' }, vision: { feature: 'vision' }, audio: { feature: 'audio' } };
    const q = await loadDataset(makeIr(ds('sims_quirks.p4.pkl'), mods));
    const t = await loadDataset(makeIr(ds('sims_tiny.p4.pkl'), mods));
    for (const s of ['train', 'valid', 'test'] as const) {
      expect(q[s].features['vision']!.data).toEqual(t[s].features['vision']!.data);
      expect(q[s].features['text']!.data).toEqual(t[s].features['text']!.data);
      expect(q[s].features['text']!.data).toBeInstanceOf(Int32Array);
      expect(q[s].lengths).toEqual(t[s].lengths);
      expect(q[s].labels).toEqual(t[s].labels);
      expect(q[s].ids).toEqual(t[s].ids);
      expect(q[s].rawText).toEqual(t[s].rawText);
    }
    expect(Object.keys(q.train.labels).sort()).toEqual(['A', 'M', 'T', 'V']);
  });

  it('time_mean averages over the full padded time axis (padding included) giving [N, D]', async () => {
    const d = await loadDataset(makeIr(ds('sims_quirks.p4.pkl'), { audio: { feature: 'audio', preprocess: { time_mean: true } }, vision: { feature: 'vision', preprocess: { time_mean: true } } }));
    const a = d.train.features['audio']!;
    expect(a.shape).toEqual([8, 33]);
    const r = await raw('sims_quirks.p4.pkl', 'train');
    const src = arr(r, 'audio').data as Float32Array;
    const lens = nums(r.get('audio_lengths'));
    // Hand computation for sample 2, channel 5: sum of its 20 frames (the padding frames add 0) / 20.
    for (const [s, c] of [[2, 5], [7, 32], [0, 0]] as const) {
      let sum = 0;
      for (let t = 0; t < 20; t++) {
        const v = src[(s * 20 + t) * 33 + c]!;
        sum += v === -Infinity ? 0 : v;
      }
      expect(a.data[s * 33 + c]).toBeCloseTo(sum / 20, 6);
      // Not the mean over the true frames: the padded mean is scaled by len/20.
      expect(lens[s]).toBeLessThan(20);
    }
    expect(d.train.features['vision']!.shape).toEqual([8, 709]);
  });

  it('truncates and zero-pads to seq_len, capping the lengths', async () => {
    const d = await loadDataset(makeIr(ds('sims_tiny.p4.pkl'), { audio: { feature: 'audio', preprocess: { seq_len: 11 } }, vision: { feature: 'vision', preprocess: { seq_len: 12 } } }));
    const full = await loadDataset(makeIr(ds('sims_tiny.p4.pkl'), { audio: { feature: 'audio' }, vision: { feature: 'vision' } }));
    const a = d.train.features['audio']!;
    expect(a.shape).toEqual([8, 11, 33]);
    const f = full.train.features['audio']!.data;
    expect(Array.from(a.data.subarray(11 * 33, 12 * 33))).toEqual(Array.from(f.subarray(20 * 33, 20 * 33 + 33)));
    expect(Array.from(d.train.lengths['audio']!)).toEqual(Array.from(full.train.lengths['audio']!, (l) => Math.min(l, 11)));
    const v = d.train.features['vision']!;
    expect(v.shape).toEqual([8, 12, 709]);
    expect(Array.from(v.data.subarray(9 * 709, 12 * 709)).every((x) => x === 0)).toBe(true);
    expect(Array.from(v.data.subarray(0, 9 * 709))).toEqual(Array.from(full.train.features['vision']!.data.subarray(0, 9 * 709)));
  });

  it('avg_pool aligns audio/vision to the text length as AlignSubNet does', async () => {
    const mods = { text: { feature: 'text' }, audio: { feature: 'audio', align: 'avg_pool' as const }, vision: { feature: 'vision', align: 'avg_pool' as const } };
    const d = await loadDataset(makeIr(ds('sims_tiny.p4.pkl'), mods));
    const full = await loadDataset(makeIr(ds('sims_tiny.p4.pkl'), { audio: { feature: 'audio' }, vision: { feature: 'vision' } }));
    const a = d.valid.features['audio']!;
    expect(a.shape).toEqual([4, 12, 33]);
    const src = full.valid.features['audio']!.data;
    // 20 -> 12: pad 4 copies of the last frame (frame 19), pool 2.
    const frame = (s: number, t: number, c: number) => src[(s * 20 + Math.min(t, 19)) * 33 + c]!;
    for (const [s, q, c] of [[1, 0, 0], [3, 4, 7], [2, 9, 32], [0, 11, 3]] as const) {
      expect(a.data[(s * 12 + q) * 33 + c]).toBeCloseTo((frame(s, 2 * q, c) + frame(s, 2 * q + 1, c)) / 2, 6);
    }
    // 9 -> 12: pool 1, the last 3 outputs are copies of frame 8.
    const v = d.valid.features['vision']!;
    const vs = full.valid.features['vision']!.data;
    expect(v.shape).toEqual([4, 12, 709]);
    expect(Array.from(v.data.subarray(0, 9 * 709))).toEqual(Array.from(vs.subarray(0, 9 * 709)));
    for (let q = 9; q < 12; q++) expect(Array.from(v.data.subarray(q * 709, (q + 1) * 709))).toEqual(Array.from(vs.subarray(8 * 709, 9 * 709)));
    // Lengths are carried unchanged (TETFN passes them through the alignment).
    expect(d.valid.lengths['audio']).toEqual(full.valid.lengths['audio']);
  });

  it('lengths: clamped to >= 1 and capped at seq_len, clamp switchable', async () => {
    const capped = await loadDataset(makeIr(ds('sims_tiny.p4.pkl'), { vision: { feature: 'vision', preprocess: { seq_len: 1 } } }));
    expect(Array.from(capped.train.lengths['vision']!).every((l) => l === 1)).toBe(true);
    const none = await loadDataset(makeIr(ds('sims_tiny.p4.pkl'), { vision: { feature: 'vision', lengths: null } }));
    expect(none.train.lengths['vision']).toBeUndefined();
  });
});

describe('loadDataset errors', () => {
  it('a feature shape that differs from the spec names file, split, key, expected and found', async () => {
    const feats = sims({ audio: { key: 'audio', shape: [20, 32], dtype: 'float', lengths: 'audio_lengths' } });
    const e = await caught(loadDataset(makeIr(customDataset(fixture('sims_tiny.p4.pkl'), feats, SIMS_LABELS), { audio: { feature: 'audio' } })));
    expect(e.code).toBe('MSA6021');
    expect(e.message).toContain(fixture('sims_tiny.p4.pkl'));
    expect(e.message).toContain("split 'train'");
    expect(e.message).toContain("key 'audio'");
    expect(e.message).toContain('expected [N, 20, 32]');
    expect(e.message).toContain('found [8, 20, 33]');
    expect(e.details).toMatchObject({ split: 'train', key: 'audio', expected: '[N, 20, 32]', found: '[8, 20, 33]' });
  });

  it('a different time axis is an error unless seq_len / time_mean / avg_pool make it irrelevant', async () => {
    const feats = sims({}, 12, 25);
    const ir = (pre: object) => makeIr(customDataset(fixture('sims_tiny.p4.pkl'), feats, SIMS_LABELS), { audio: { feature: 'audio', preprocess: pre } });
    const e = await caught(loadDataset(ir({})));
    expect(e.message).toContain('expected [N, 25, 33], found [8, 20, 33]');
    const ok = await loadDataset(ir({ seq_len: 25 }));
    expect(ok.train.features['audio']!.shape).toEqual([8, 25, 33]);
  });

  it('a split size that differs from the manifest is reported with both sizes', async () => {
    const d = customDataset(fixture('sims_tiny.p4.pkl'), sims(), SIMS_LABELS, { source: 'manifest', name: 'sims', root: '/', path: fixture('sims_tiny.p4.pkl'), splits: { train: 8, valid: 5, test: 4 } });
    const e = await caught(loadDataset(makeIr(d, { text: { feature: 'text' } })));
    expect(e.code).toBe('MSA6021');
    expect(e.message).toMatch(/split 'valid'.*expected 5 samples \(from the manifest\), found 4/);
  });

  it('a missing key lists the keys found', async () => {
    const e = await caught(loadDataset(makeIr(customDataset(fixture('mosi_unaligned_tiny.p4.pkl'), mosi(), { M: 'regression_labels', T: 'regression_labels_T' }), { text: { feature: 'text' } }, ['M', 'T'])));
    expect(e.code).toBe('MSA6023');
    expect(e.message).toContain("no key 'regression_labels_T'");
    expect(e.message).toContain('regression_labels');
    // A label no task reads is simply skipped when the file lacks it.
    const d = await loadDataset(makeIr(customDataset(fixture('mosi_unaligned_tiny.p4.pkl'), mosi(), { M: 'regression_labels', T: 'regression_labels_T' }), { text: { feature: 'text' } }, ['M']));
    expect(Object.keys(d.train.labels)).toEqual(['M']);
  });

  it('a missing manifest file says where it is expected, how to change the root and where to get it', async () => {
    const d = customDataset('', mosi(), { M: 'regression_labels' }, { source: 'manifest', name: 'mosi', file: 'unaligned_50', root: '/nonexistent/root', path: 'MOSI/Processed/unaligned_50.pkl', sourceHint: 'MMSA README, Google Drive https://example' });
    const e = await caught(loadDataset(makeIr(d, { text: { feature: 'text' } })));
    expect(e.code).toBe('MSA6020');
    expect(e.message).toContain('/nonexistent/root/MOSI/Processed/unaligned_50.pkl');
    expect(e.hint).toContain('--data-root');
    expect(e.hint).toContain('MMSA_DATA_ROOT');
    expect(e.hint).toContain('Google Drive https://example');
  });

  it('--data-root overrides the resolved root', async () => {
    const d = customDataset('', mosi(), { M: 'regression_labels' }, { source: 'manifest', name: 'mosi', root: '/nonexistent/root', path: 'mosi_unaligned_tiny.p3.pkl' });
    const out = await loadDataset(makeIr(d, { text: { feature: 'text' } }), { dataRoot: FIXTURES });
    expect(out.test.n).toBe(4);
    expect(out.provenance.path).toBe(fixture('mosi_unaligned_tiny.p3.pkl'));
  });

  it('reports reading progress', async () => {
    const seen: [number, number][] = [];
    await loadDataset(makeIr(customDataset(fixture('sims_tiny.p4.pkl'), sims(), SIMS_LABELS), { text: { feature: 'text' } }), { onProgress: (a, b) => seen.push([a, b]) });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)![0]).toBe(seen.at(-1)![1]);
  });
});

describe('loadDataset on a compiled custom-dataset spec', () => {
  it('compiles an lf_dnn spec over sims_tiny and loads it in the IR types', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsa-data-'));
    const spec = join(dir, 'custom.yaml');
    writeFileSync(
      spec,
      [
        'version: 1',
        'extends: lf_dnn',
        'dataset:',
        `  path: ${fixture('sims_tiny.p4.pkl')}`,
        '  task: regression',
        '  label_range: [-1, 1]',
        '  metrics: sims',
        '  features:',
        '    text: {key: text, shape: [12, 768]}',
        '    audio: {key: audio, shape: [20, 33], lengths: audio_lengths}',
        '    vision: {key: vision, shape: [9, 709], lengths: vision_lengths}',
        '  labels: {M: regression_labels, T: regression_labels_T, A: regression_labels_A, V: regression_labels_V}',
        'encoders:',
        '  audio: {type: subnet, hidden: 8}',
        '  vision: {type: subnet, hidden: 8}',
        '  text: {type: text_lstm, hidden: 8, out: 8}',
        'eval: {metrics: sims, head: M}',
        '',
      ].join('\n'),
    );
    const r = compileFile(spec, { env: {} });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const d = await loadDataset(r.ir!);
    for (const n of r.ir!.nodes.filter((x) => x.kind === 'input')) {
      expect(d.train.features[n.name]!.shape.slice(1)).toEqual(n.output.shape.slice(1));
    }
    expect(d.train.features['audio']!.shape).toEqual([8, 33]);
    expect(Object.keys(d.train.labels).sort()).toEqual(['A', 'M', 'T', 'V']);
  });
});
