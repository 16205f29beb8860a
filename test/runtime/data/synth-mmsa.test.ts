// The project's own generator of MMSA-layout synthetic files (benchmarks and tests): layout and dtypes as MMSA's
// feature files, labels on the dataset's grid, a planted signal a linear model recovers, deterministic per seed.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPickle, type NDArray } from '../../../src/runtime/data/pickle/read-pickle.js';
import { SYNTH_SMALL_SIZES, writeSynthMmsa } from '../../../src/runtime/data/synth-mmsa.js';
import { pearson } from '../../../src/runtime/metrics/index.js';
import { hasPythonNumpy, runPython } from './pickle/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsa-synth-'));
const small = { sizes: [200, 40, 120] as [number, number, number], textDim: 12, audioDim: 5, visionDim: 6, textLen: 10, audioLen: 20, visionLen: 15 };

type Split = Map<string, unknown>;
async function read(file: string): Promise<Map<string, Split>> {
  return (await readPickle(file)) as Map<string, Split>;
}

/** Least squares y ~ X b (normal equations, tiny ridge), fitted on one split and applied to another. */
function fitPredict(Xtr: number[][], ytr: number[], Xte: number[][]): number[] {
  const d = Xtr[0]!.length + 1;
  const A = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  const b = new Array<number>(d).fill(0);
  Xtr.forEach((x, i) => {
    const r = [1, ...x];
    for (let p = 0; p < d; p++) {
      b[p]! += r[p]! * ytr[i]!;
      for (let q = 0; q < d; q++) A[p]![q]! += r[p]! * r[q]!;
    }
  });
  for (let p = 0; p < d; p++) A[p]![p]! += 1e-6;
  // Gaussian elimination.
  for (let c = 0; c < d; c++) {
    let piv = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[piv]![c]!)) piv = r;
    [A[c], A[piv]] = [A[piv]!, A[c]!];
    [b[c], b[piv]] = [b[piv]!, b[c]!];
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = A[r]![c]! / A[c]![c]!;
      for (let q = c; q < d; q++) A[r]![q]! -= f * A[c]![q]!;
      b[r]! -= f * b[c]!;
    }
  }
  const w = b.map((v, p) => v / A[p]![p]!);
  return Xte.map((x) => [1, ...x].reduce((s, v, p) => s + v * w[p]!, 0));
}

describe('MMSA-layout synthetic files', () => {
  it('have MMSA\'s keys, shapes and dtypes, and labels on the MOSI grid', async () => {
    const file = join(dir, 'mosi.pkl');
    writeSynthMmsa(file, { ...small, seed: 3 });
    const d = await read(file);
    expect([...d.keys()]).toEqual(['train', 'valid', 'test']);
    const tr = d.get('train')!;
    expect([...tr.keys()]).toEqual(['raw_text', 'audio', 'vision', 'id', 'text', 'text_bert', 'audio_lengths', 'vision_lengths', 'regression_labels', 'classification_labels', 'annotations']);
    const arr = (k: string) => tr.get(k) as NDArray;
    expect([arr('text').dtype, arr('text').shape]).toEqual(['float32', [200, 10, 12]]);
    expect([arr('audio').dtype, arr('audio').shape]).toEqual(['float32', [200, 20, 5]]);
    expect([arr('vision').dtype, arr('vision').shape]).toEqual(['float32', [200, 15, 6]]);
    expect([arr('text_bert').dtype, arr('text_bert').shape]).toEqual(['int64', [200, 3, 10]]);
    expect(arr('audio_lengths').dtype).toBe('int64');
    expect((tr.get('id') as string[]).slice(0, 6)).toEqual(['synth00000$_$1', 'synth00000$_$2', 'synth00000$_$3', 'synth00000$_$4', 'synth00000$_$5', 'synth00001$_$1']);
    const y = Array.from(arr('regression_labels').data as Float32Array);
    for (const v of y) {
      expect(Math.abs(v)).toBeLessThanOrEqual(3);
      expect(Math.abs(v / 0.2 - Math.round(v / 0.2))).toBeLessThan(1e-4);
    }
    expect(y.some((v) => v === 0)).toBe(true);
    expect(y.some((v) => v > 0) && y.some((v) => v < 0)).toBe(true);
    const cls = Array.from(arr('classification_labels').data as Float32Array);
    expect(cls).toEqual(y.map((v) => (v < 0 ? 0 : v > 0 ? 2 : 1)));
    expect(tr.get('annotations')).toEqual(y.map((v) => (v < 0 ? 'Negative' : v > 0 ? 'Positive' : 'Neutral')));
    // Frames past the length are zero; text_bert rows are [CLS] ... [SEP] [PAD]... with the mask.
    const al = arr('audio_lengths').data as Float64Array;
    const audio = arr('audio').data as Float32Array;
    expect(audio.slice((0 * 20 + al[0]!) * 5, 20 * 5).every((v) => v === 0)).toBe(true);
    const tb = arr('text_bert').data as Float64Array;
    expect(tb[0]).toBe(101);
    const tlen = Array.from(tb.slice(10, 20)).reduce((a, b) => a + b, 0);
    expect(tb[tlen - 1]).toBe(102);
    expect(Array.from(tb.slice(tlen, 10)).every((v) => v === 0)).toBe(true);
  });

  it('plants a signal in the [CLS] features that a linear model recovers on the test split', async () => {
    const file = join(dir, 'signal.pkl');
    writeSynthMmsa(file, { ...small, seed: 5 });
    const d = await read(file);
    const xy = (s: string) => {
      const sp = d.get(s)!;
      const t = (sp.get('text') as NDArray).data as Float32Array;
      const n = (sp.get('text') as NDArray).shape[0]!;
      const X = Array.from({ length: n }, (_, i) => Array.from(t.slice(i * 120, i * 120 + 12)));
      return { X, y: Array.from((sp.get('regression_labels') as NDArray).data as Float32Array) };
    };
    const tr = xy('train');
    const te = xy('test');
    const pred = fitPredict(tr.X, tr.y, te.X);
    // The text part of the signal is non-linear (tanh, a product), so a linear fit does not reach 1.
    expect(pearson(Float32Array.from(pred), Float32Array.from(te.y))).toBeGreaterThan(0.6);
  });

  it('SIMS variant has unimodal labels in [-1, 1]; the same seed gives the same bytes, another seed others', async () => {
    const a = join(dir, 'sims-a.pkl');
    const b = join(dir, 'sims-b.pkl');
    const c = join(dir, 'sims-c.pkl');
    writeSynthMmsa(a, { ...small, variant: 'sims', seed: 1 });
    writeSynthMmsa(b, { ...small, variant: 'sims', seed: 1 });
    writeSynthMmsa(c, { ...small, variant: 'sims', seed: 2 });
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    expect(sha(a)).toBe(sha(b));
    expect(sha(a)).not.toBe(sha(c));
    const tr = (await read(a)).get('train')!;
    for (const m of ['regression_labels', 'regression_labels_T', 'regression_labels_A', 'regression_labels_V']) {
      const y = Array.from((tr.get(m) as NDArray).data as Float32Array);
      expect(Math.max(...y.map(Math.abs)), m).toBeLessThanOrEqual(1);
    }
  });

  it("word-piece ids stay inside the vocabulary of the dataset's BERT (bert-base-chinese's 21128 for SIMS, 30522 otherwise)", async () => {
    const idRange = async (variant: 'mosi' | 'sims') => {
      const file = join(dir, `ids-${variant}.pkl`);
      writeSynthMmsa(file, { ...small, sizes: [400, 40, 40], textLen: 30, variant, seed: 4 });
      const tb = (await read(file)).get('train')!.get('text_bert') as NDArray;
      const lt = tb.shape[2]!;
      let max = 0;
      for (let i = 0; i < tb.shape[0]!; i++) for (let p = 0; p < lt; p++) max = Math.max(max, Number(tb.data[i * 3 * lt + p]));
      return max;
    };
    const sims = await idRange('sims');
    expect(sims).toBeLessThan(21128);
    expect(sims).toBeGreaterThan(20000); // the whole range is drawn, not a narrower one
    expect(await idRange('mosi')).toBeGreaterThan(21128);
    expect(await idRange('mosi')).toBeLessThan(30522);
  });

  it("with bertVocab, ids stay below a small BERT's vocabulary and the cue words still follow the text factor; other arrays unchanged", async () => {
    const base = join(dir, 'vocab-base.pkl');
    const smallVocab = join(dir, 'vocab-2048.pkl');
    writeSynthMmsa(base, { ...small, sizes: [600, 40, 40], textLen: 30, seed: 5 });
    writeSynthMmsa(smallVocab, { ...small, sizes: [600, 40, 40], textLen: 30, seed: 5, bertVocab: 2048 });
    const a = (await read(base)).get('train')!;
    const b = (await read(smallVocab)).get('train')!;
    for (const k of ['text', 'audio', 'vision', 'regression_labels']) expect((b.get(k) as NDArray).data, k).toEqual((a.get(k) as NDArray).data);
    const tb = b.get('text_bert') as NDArray;
    const lt = tb.shape[2]!;
    let max = 0;
    const good: number[] = [];
    const bad: number[] = [];
    const y = (b.get('regression_labels') as NDArray).data as Float32Array;
    for (let i = 0; i < tb.shape[0]!; i++) {
      let g = 0;
      let n = 0;
      for (let p = 0; p < lt; p++) {
        const id = Number(tb.data[i * 3 * lt + p]);
        max = Math.max(max, id);
        if (id >= 1000 && id <= 1103) g++;
        if (id >= 1104 && id <= 1207) n++;
      }
      good.push(g);
      bad.push(n);
    }
    expect(max).toBeLessThan(2048);
    expect(max).toBeGreaterThan(2000);
    // The cue: more "good" ids in positive samples, more "bad" ids in negative ones.
    expect(pearson(good, Array.from(y))).toBeGreaterThan(0.2);
    expect(pearson(bad, Array.from(y))).toBeLessThan(-0.2);
    expect(() => writeSynthMmsa(join(dir, 'x.pkl'), { ...small, bertVocab: 500 })).toThrow(/at least 1100/);
  });

  it('bertCueRate / bertCueWords make the cue stronger and change only text_bert and raw_text; the defaults write the same bytes as before the options', async () => {
    const opts = { ...small, sizes: [600, 40, 40] as [number, number, number], textLen: 30, seed: 5, bertVocab: 2048 };
    const weak = join(dir, 'cue-weak.pkl');
    const strong = join(dir, 'cue-strong.pkl');
    writeSynthMmsa(weak, opts);
    writeSynthMmsa(strong, { ...opts, bertCueRate: 0.5, bertCueWords: 4 });
    const a = (await read(weak)).get('train')!;
    const b = (await read(strong)).get('train')!;
    for (const k of ['text', 'audio', 'vision', 'regression_labels', 'classification_labels', 'audio_lengths', 'vision_lengths']) expect((b.get(k) as NDArray).data, k).toEqual((a.get(k) as NDArray).data);
    expect(b.get('id')).toEqual(a.get('id'));
    expect(b.get('annotations')).toEqual(a.get('annotations'));
    const y = Array.from((b.get('regression_labels') as NDArray).data as Float32Array);
    const cue = (tb: NDArray) => {
      const lt = tb.shape[2]!;
      const net: number[] = [];
      const ids = new Set<number>();
      for (let i = 0; i < tb.shape[0]!; i++) {
        let s = 0;
        for (let p = 0; p < lt; p++) {
          const id = Number(tb.data[i * 3 * lt + p]);
          if (id >= 1000 && id <= 1207) ids.add(id);
          s += id >= 1000 && id <= 1103 ? 1 : id >= 1104 && id <= 1207 ? -1 : 0;
        }
        net.push(s);
      }
      return { r: pearson(net, y), ids: [...ids].sort((p, q) => p - q) };
    };
    const weakCue = cue(a.get('text_bert') as NDArray);
    const strongCue = cue(b.get('text_bert') as NDArray);
    // Four ids per band (good 1000-1003, bad 1104-1107), each seen far more often; the net count of cue words
    // (good minus bad) follows the label more closely.
    expect(strongCue.ids).toEqual([1000, 1001, 1002, 1003, 1104, 1105, 1106, 1107]);
    expect(weakCue.ids.length).toBeGreaterThan(150);
    // (the label also follows zT2..zT4, audio and vision, so even a perfect count of zT1 stays well below 1)
    expect(strongCue.r).toBeGreaterThan(0.5);
    expect(strongCue.r).toBeGreaterThan(weakCue.r + 0.05);
    const cueWords = (sp: Split) => (sp.get('raw_text') as string[]).join(' ').match(/\b(good|bad)\b/g)?.length ?? 0;
    expect(cueWords(b)).toBeGreaterThan(2.5 * cueWords(a));
    // Defaults unchanged: these digests are the files the generator wrote before the cue options existed.
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    const plain = join(dir, 'cue-default.pkl');
    writeSynthMmsa(plain, { ...small, seed: 5 });
    expect(sha(plain)).toBe('ec79fe646d61bbe6b5d3e1b7ae1a190df5a66938689156e694b15a610df77337');
    writeSynthMmsa(plain, { ...small, seed: 5, bertVocab: 2048 });
    expect(sha(plain)).toBe('14cdfa41661b6f2d3e40be2c09bd3fd99302c245f7a06e4dce6dc41478632cb2');
    writeSynthMmsa(plain, { ...small, seed: 5, bertVocab: 2048, bertCueRate: 0.15 });
    expect(sha(plain)).toBe('14cdfa41661b6f2d3e40be2c09bd3fd99302c245f7a06e4dce6dc41478632cb2');
    expect(() => writeSynthMmsa(join(dir, 'x.pkl'), { ...small, bertCueRate: 1.5 })).toThrow(/bertCueRate must lie in \[0, 1\]/);
    expect(() => writeSynthMmsa(join(dir, 'x.pkl'), { ...small, bertVocab: 2048, bertCueWords: 200 })).toThrow(/bertCueWords must be an integer from 1 to 104/);
  });

  it('aligned files have audio and vision as long as the text', async () => {
    const file = join(dir, 'aligned.pkl');
    writeSynthMmsa(file, { ...small, sizes: SYNTH_SMALL_SIZES, aligned: true });
    const tr = (await read(file)).get('train')!;
    expect((tr.get('audio') as NDArray).shape).toEqual([64, 10, 5]);
    expect(Array.from((tr.get('audio_lengths') as NDArray).data as Float64Array)).toEqual(Array.from((tr.get('vision_lengths') as NDArray).data as Float64Array));
  });

  it('loads in CPython with numpy as MMSA\'s loader reads it (float32 features, int64 lengths)', (ctx) => {
    if (!hasPythonNumpy()) {
      ctx.skip('needs python3 with numpy');
      return;
    }
    const file = join(dir, 'py.pkl');
    writeSynthMmsa(file, { ...small, sizes: SYNTH_SMALL_SIZES, variant: 'sims' });
    const out = runPython(
      `
import pickle, sys, json
d = pickle.load(open(sys.argv[1], 'rb'))
t = d['test']
print(json.dumps({k: [str(v.dtype), list(v.shape)] if hasattr(v, 'dtype') else type(v).__name__ for k, v in t.items()}))
`,
      [file],
    );
    expect(JSON.parse(out)).toEqual({
      raw_text: 'list', audio: ['float32', [32, 20, 5]], vision: ['float32', [32, 15, 6]], id: 'list', text: ['float32', [32, 10, 12]],
      text_bert: ['int64', [32, 3, 10]], audio_lengths: ['int64', [32]], vision_lengths: ['int64', [32]], regression_labels: ['float32', [32]],
      classification_labels: ['float32', [32]], annotations: 'list', regression_labels_T: ['float32', [32]], regression_labels_A: ['float32', [32]],
      regression_labels_V: ['float32', [32]],
    });
  });
});
