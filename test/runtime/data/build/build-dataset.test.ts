// `mmsa data build`: a dataset made of a samples table, .npy and per-frame CSV files written here round-trips into an
// MMSA-layout pickle (read back by our reader and by CPython with numpy, as MMSA's data_loader.py reads it); bad
// input names the line, the id, the file and the problem, and nothing is written.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../../src/cli/main.js';
import { thrown } from './thrown.js';
import { buildDataset } from '../../../../src/runtime/data/build/build-dataset.js';
import { encodeNpy } from '../../../../src/runtime/data/build/write-npy.js';
import { NDArray, readPickle } from '../../../../src/runtime/data/pickle/read-pickle.js';
import { WordPieceTokenizer, parseVocabTxt } from '../../../../src/runtime/tokenizer/index.js';
import { captureIo } from '../../../cli/io.js';
import { hasPythonNumpy, runPython } from '../pickle/helpers.js';

const VOCAB = ['[PAD]', '[unused0]', '[UNK]', '[CLS]', '[SEP]', 'the', 'movie', 'was', 'great', 'bad', 'not', '##s', 'film', ','];

/** A dataset folder: 7 samples, audio as .npy (frames vary), vision as OpenFace CSVs (one sample without), text. */
function makeDataset(o: { extraRows?: string[]; header?: string } = {}): { dir: string; table: string; audio: Float32Array[]; vision: number[][][] } {
  const dir = mkdtempSync(join(tmpdir(), 'mmsa-build-'));
  mkdirSync(join(dir, 'feats'));
  const rows = [o.header ?? 'id,split,label,label_T,text,audio,vision'];
  const audio: Float32Array[] = [];
  const vision: number[][][] = [];
  const splits = ['train', 'train', 'train', 'valid', 'dev', 'test', 'test'];
  for (let i = 0; i < 7; i++) {
    const frames = 2 + i;
    const a = Float32Array.from({ length: frames * 3 }, (_, k) => i + k / 10);
    audio.push(a);
    writeFileSync(join(dir, 'feats', `a${i}.npy`), encodeNpy(a, [frames, 3]));
    const v = Array.from({ length: 1 + (i % 3) }, (_, f) => [f / 4 + i, -i]);
    vision.push(v);
    writeFileSync(join(dir, 'feats', `v${i}.csv`), ` frame, face_id, timestamp, confidence, success, AU06_r, AU12_r\n${v.map((r, f) => `${f + 1}, 0, ${f / 30}, 0.9, 1, ${r[0]}, ${r[1]}`).join('\n')}\n`);
    const text = i === 2 ? '"the movie, was great"' : `the film was ${i % 2 ? 'bad' : 'not bad'}`;
    rows.push(`clip${i},${splits[i]},${(i - 3) / 2},${i % 2},${text},feats/a${i}.npy,${i === 4 ? '' : `feats/v${i}.csv`}`);
  }
  rows.push(...(o.extraRows ?? []));
  const table = join(dir, 'samples.csv');
  writeFileSync(table, `${rows.join('\n')}\n`);
  return { dir, table, audio, vision };
}

type Split = Map<string, unknown>;
const arr = (s: Split, k: string) => s.get(k) as NDArray;


describe('mmsa data build', () => {
  it('round-trips .npy and CSV features into the MMSA layout: padding, lengths, labels, ids, text, a missing modality', async () => {
    const { dir, table, audio, vision } = makeDataset();
    const out = join(dir, 'built.pkl');
    const r = buildDataset(table, out);
    expect(r.splits).toEqual({ train: 3, valid: 2, test: 2 });
    expect(r.modalities.map((m) => [m.name, m.frames, m.dims, m.missing])).toEqual([
      ['audio', 8, 3, 0],
      ['vision', 3, 2, 1],
    ]);
    expect(r.labels.map((l) => l.key)).toEqual(['regression_labels', 'regression_labels_T']);
    const top = (await readPickle(out)) as Map<string, Split>;
    expect([...top.keys()]).toEqual(['train', 'valid', 'test']);
    const valid = top.get('valid')!;
    expect([...valid.keys()]).toEqual(['id', 'raw_text', 'audio', 'audio_lengths', 'vision', 'vision_lengths', 'regression_labels', 'regression_labels_T']);
    // 'dev' is the valid split; samples keep the table's order within a split.
    expect(valid.get('id')).toEqual(['clip3', 'clip4']);
    expect(top.get('train')!.get('raw_text')).toEqual(['the film was not bad', 'the film was bad', 'the movie, was great']);
    const a = arr(valid, 'audio');
    expect([a.dtype, a.shape]).toEqual(['float32', [2, 8, 3]]);
    const ad = a.data as Float32Array;
    expect(Array.from(ad.subarray(0, 15))).toEqual(Array.from(audio[3]!));
    expect(ad.subarray(15, 24).every((x) => x === 0)).toBe(true);
    expect(Array.from(ad.subarray(24, 24 + 18))).toEqual(Array.from(audio[4]!));
    expect(Array.from(arr(valid, 'audio_lengths').data as Float64Array)).toEqual([5, 6]);
    expect(arr(valid, 'audio_lengths').dtype).toBe('int64');
    // clip4 has no vision file: zeros and length 0.
    const v = arr(valid, 'vision');
    expect(v.shape).toEqual([2, 3, 2]);
    expect(Array.from((v.data as Float32Array).subarray(0, 2))).toEqual(vision[3]![0]!.map(Math.fround));
    expect((v.data as Float32Array).subarray(6).every((x) => x === 0)).toBe(true);
    expect(Array.from(arr(valid, 'vision_lengths').data as Float64Array)).toEqual([1, 0]);
    expect(Array.from(arr(valid, 'regression_labels').data as Float32Array)).toEqual([0, 0.5]);
    expect(Array.from(arr(valid, 'regression_labels_T').data as Float32Array)).toEqual([1, 0]);
  });

  it('adds text_bert rows from a vocab with the WordPiece tokenizer, padded to --text-len', async () => {
    const { dir, table } = makeDataset();
    writeFileSync(join(dir, 'vocab.txt'), `${VOCAB.join('\n')}\n`);
    const out = join(dir, 'bert.pkl');
    const r = buildDataset(table, out, { vocab: join(dir, 'vocab.txt'), textLen: 6 });
    expect(r.textBert).toEqual({ length: 6, truncated: 4 });
    const tr = ((await readPickle(out)) as Map<string, Split>).get('train')!;
    const tb = arr(tr, 'text_bert');
    expect([tb.dtype, tb.shape]).toEqual(['int64', [3, 3, 6]]);
    const tok = new WordPieceTokenizer(parseVocabTxt(`${VOCAB.join('\n')}\n`));
    const e = tok.encode('the movie, was great', 6);
    const d = Array.from(tb.data as Float64Array);
    expect(d.slice(2 * 18, 2 * 18 + 6)).toEqual(e.ids);
    expect(d.slice(2 * 18 + 6, 2 * 18 + 12)).toEqual(e.mask);
    expect(d.slice(2 * 18 + 12, 2 * 18 + 18)).toEqual([0, 0, 0, 0, 0, 0]);
    // Default length: the longest text with [CLS] and [SEP].
    expect(buildDataset(table, join(dir, 'bert2.pkl'), { vocab: join(dir, 'vocab.txt') }).textBert).toEqual({ length: 7, truncated: 0 });
  });

  it.runIf(hasPythonNumpy())("loads with CPython's pickle and numpy as MMSA's data_loader.py reads it, and numpy sees the same arrays", async () => {
    const { dir, table } = makeDataset();
    writeFileSync(join(dir, 'vocab.txt'), `${VOCAB.join('\n')}\n`);
    const out = join(dir, 'mmsa.pkl');
    buildDataset(table, out, { vocab: join(dir, 'vocab.txt') });
    // The keys and conversions of MMSA's MMDataset (use_bert, unaligned): text_bert, audio, vision as float32,
    // raw_text, id, regression_labels, audio/vision lengths, -inf -> 0.
    const code = `
import pickle, sys, json, hashlib
import numpy as np
with open(sys.argv[1], 'rb') as f:
    data = pickle.load(f)
out = {}
for mode in ('train', 'valid', 'test'):
    d = data[mode]
    text = d['text_bert'].astype(np.float32)
    audio = d['audio'].astype(np.float32)
    vision = d['vision'].astype(np.float32)
    audio[audio == -np.inf] = 0
    labels = np.array(d['regression_labels']).astype(np.float32)
    out[mode] = {
        'n': len(labels), 'ids': list(d['id']), 'raw_text': list(d['raw_text']),
        'shapes': [list(text.shape), list(audio.shape), list(vision.shape)],
        'audio_lengths': [int(x) for x in d['audio_lengths']], 'vision_lengths': [int(x) for x in d['vision_lengths']],
        'sha': {k: hashlib.sha256(np.ascontiguousarray(d[k]).tobytes()).hexdigest() for k in ('audio', 'vision', 'text_bert', 'regression_labels', 'regression_labels_T')},
        'dtypes': {k: str(d[k].dtype) for k in ('audio', 'text_bert', 'audio_lengths', 'regression_labels')},
    }
print(json.dumps(out))
`;
    const py = JSON.parse(runPython(code, [out])) as Record<string, { n: number; ids: string[]; raw_text: string[]; shapes: number[][]; audio_lengths: number[]; sha: Record<string, string>; dtypes: Record<string, string> }>;
    const ours = (await readPickle(out, { floatAs: 'native', intAs: 'native' })) as Map<string, Split>;
    const { createHash } = await import('node:crypto');
    for (const mode of ['train', 'valid', 'test']) {
      const s = ours.get(mode)!;
      expect(py[mode]!.ids).toEqual(s.get('id'));
      expect(py[mode]!.raw_text).toEqual(s.get('raw_text'));
      expect(py[mode]!.dtypes).toEqual({ audio: 'float32', text_bert: 'int64', audio_lengths: 'int64', regression_labels: 'float32' });
      for (const k of ['audio', 'vision', 'text_bert', 'regression_labels', 'regression_labels_T']) {
        const d = arr(s, k).data as Float32Array;
        expect([mode, k, createHash('sha256').update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)).digest('hex')]).toEqual([mode, k, py[mode]!.sha[k]]);
      }
    }
    expect(py['train']!.shapes).toEqual([[3, 3, 7], [3, 8, 3], [3, 3, 2]]);
    expect(py['valid']!.audio_lengths).toEqual([5, 6]);
  });

  it('names the line, id, file and problem of every bad row, and writes nothing', () => {
    const { dir, table } = makeDataset({
      extraRows: [
        'clip7,train,1.0,0,x,feats/nope.npy,feats/v0.csv',
        'clip8,test,9,0,x,feats/a0.npy,',
        'clip9,holdout,0,0,x,feats/a0.npy,',
        'clip1,train,0,0,x,feats/a0.npy,',
        'clip10,train,oops,0,x,feats/ragged.npy,',
        'clip11,train,0,0,x,feats/nan.npy,',
      ],
    });
    writeFileSync(join(dir, 'feats', 'ragged.npy'), encodeNpy(new Float32Array(8), [2, 4]));
    writeFileSync(join(dir, 'feats', 'nan.npy'), encodeNpy(Float32Array.of(1, NaN, 3, 4, Infinity, 6), [2, 3]));
    const out = join(dir, 'never.pkl');
    const e = thrown(() => buildDataset(table, out, { labelRange: [-3, 3] }));
    expect(e.code).toBe('MSA6040');
    const m = e.message;
    expect(m).toContain('7 problems');
    expect(m).toContain("samples.csv:9 (id clip7), column 'audio': feats/nope.npy: no such file");
    expect(m).toContain("samples.csv:10 (id clip8), column 'label': label 9 is outside the label range [-3, 3] [MSA6045]");
    expect(m).toContain("samples.csv:11 (id clip9), column 'split': split 'holdout' is not train, valid (or dev) or test");
    expect(m).toContain("samples.csv:12 (id clip1), column 'id': id 'clip1' is also on line 3");
    expect(m).toContain("samples.csv:13 (id clip10), column 'label': label 'oops' is not a finite number");
    expect(m).toContain("samples.csv:13 (id clip10), column 'audio': feats/ragged.npy: 4 feature dims, but feats/a0.npy (line 2) has 3 [MSA6043]");
    expect(m).toMatch(/samples\.csv:14 \(id clip11\), column 'audio': feats\/nan\.npy: 1 NaN and 1 infinite values \(first at frame 0, dim 1\); clean the file, or pass --nan zero to replace them by 0 \[MSA6044\]/);
    expect(m).toContain('nothing was written');
    // Listed in the table's line order.
    const lines = [...m.matchAll(/samples\.csv:(\d+) /g)].map((x) => Number(x[1]));
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('tmp'))).toEqual([]);
  });

  it('--nan zero replaces NaN / Inf and says where; one problem keeps its own code', async () => {
    const { dir, table } = makeDataset({ extraRows: ['clip11,train,0,0,x,feats/nan.npy,'] });
    writeFileSync(join(dir, 'feats', 'nan.npy'), encodeNpy(Float32Array.of(1, NaN, 3, 4, Infinity, 6), [2, 3]));
    const e = thrown(() => buildDataset(table, join(dir, 'x.pkl')));
    expect(e.code).toBe('MSA6044');
    const r = buildDataset(table, join(dir, 'x.pkl'), { nan: 'zero' });
    expect(r.notes.join('\n')).toMatch(/nan\.npy \(id clip11, audio\): 1 NaN and 1 infinite values replaced by 0/);
    const tr = ((await readPickle(join(dir, 'x.pkl'))) as Map<string, Split>).get('train')!;
    expect(Array.from((arr(tr, 'audio').data as Float32Array).subarray(3 * 24, 3 * 24 + 6))).toEqual([1, 0, 3, 4, 0, 6]);
  });

  it('needs id, split, label and a modality column; a split without samples is an error', () => {
    const { table } = makeDataset({ header: 'id,part,label_T,score,text,audio,vision' });
    const e = thrown(() => buildDataset(table, join(tmpdir(), 'never.pkl')));
    expect(e.message).toContain("no 'split' column");
    expect(e.message).toContain("no 'label' (or 'label_M') column");
    const dir = mkdtempSync(join(tmpdir(), 'mmsa-build-'));
    writeFileSync(join(dir, 'feats.npy'), encodeNpy(new Float32Array(4), [2, 2]));
    writeFileSync(join(dir, 's.csv'), 'id,split,label,audio\na,train,1,feats.npy\nb,test,0,feats.npy\n');
    expect(thrown(() => buildDataset(join(dir, 's.csv'), join(dir, 'o.pkl'))).message).toContain("no sample in split 'valid'");
  });

  it('never replaces an existing file without force', () => {
    const { dir, table } = makeDataset();
    const out = join(dir, 'keep.pkl');
    writeFileSync(out, 'precious');
    expect(thrown(() => buildDataset(table, out)).code).toBe('MSA6047');
    expect(readFileSync(out, 'utf8')).toBe('precious');
    buildDataset(table, out, { force: true });
    expect(readFileSync(out).subarray(0, 2)).toEqual(Buffer.from([0x80, 4]));
  });
});

describe('mmsa data build (command line)', () => {
  it('takes column selections, max frames and the label range from flags or an options file', async () => {
    const { dir, table } = makeDataset();
    writeFileSync(join(dir, 'opts.yaml'), 'label_range: [-2, 2]\nmax_frames: {audio: 4}\nmodalities:\n  vision: {columns: ["AU12*"]}\n');
    const io = captureIo(dir);
    expect(await main(['data', 'build', 'samples.csv', '--out', 'o.pkl', '--options', 'opts.yaml'], io)).toBe(0);
    expect(io.stdout()).toContain('audio: [N, 4, 3] float32');
    expect(io.stdout()).toContain('vision: [N, 3, 1] float32 + vision_lengths; missing for 1 sample(s) (zeros, length 0); columns AU12_r');
    expect(io.stdout()).toContain('note: audio: 4 sample(s) cut to 4 frames');
    // Flags win over the file: --columns picks AU06 instead.
    const io2 = captureIo(dir);
    expect(await main(['data', 'build', 'samples.csv', '--out', 'o.pkl', '--options', 'opts.yaml', '--columns', 'vision=AU06_r', '--force', '--format', 'json'], io2)).toBe(0);
    expect((JSON.parse(io2.stdout()) as { modalities: { columns?: string[] }[] }).modalities[1]!.columns).toEqual(['AU06_r']);
    // A narrower label range rejects labels (exit 1, nothing written).
    const io3 = captureIo(dir);
    expect(await main(['data', 'build', 'samples.csv', '--out', 'n.pkl', '--label-range', '-1,1'], io3)).toBe(1);
    expect(io3.stderr()).toContain('outside the label range [-1, 1]');
    expect(existsSync(join(dir, 'n.pkl'))).toBe(false);
    void table;
  });

  it('usage errors exit 2; an unknown options key and an unwritable output are named', async () => {
    const { dir } = makeDataset();
    const io = captureIo(dir);
    expect(await main(['data', 'build', 'samples.csv'], io)).toBe(2);
    expect(io.stderr()).toContain('needs --out FILE');
    const io2 = captureIo(dir);
    expect(await main(['data', 'build', 'samples.csv', '--out', 'o.pkl', '--max-frames', 'audio'], io2)).toBe(2);
    writeFileSync(join(dir, 'bad.yaml'), 'colums: {}\n');
    const io3 = captureIo(dir);
    expect(await main(['data', 'build', 'samples.csv', '--out', 'o.pkl', '--options', 'bad.yaml'], io3)).toBe(1);
    expect(io3.stderr()).toMatch(/MSA6046.*bad\.yaml.*additional properties 'colums'/);
    const io4 = captureIo(dir);
    expect(await main(['data', 'build', 'samples.csv', '--out', 'no/such/dir/o.pkl'], io4)).toBe(74);
    expect(io4.stderr()).toContain('MSA6741');
  });
});
