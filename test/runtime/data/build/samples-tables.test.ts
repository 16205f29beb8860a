// Samples tables of `mmsa data build` beyond CSV: a JSON array and JSON Lines build the same pickle as the CSV, and
// their problems are located by sample position or line; and real-sized per-sample files (an interview's 10^4
// frames of 74 COVAREP-like dims as .npy, OpenFace-wide CSVs with 700+ columns) go through whole.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { thrown } from './thrown.js';
import { buildDataset } from '../../../../src/runtime/data/build/build-dataset.js';
import { encodeNpy } from '../../../../src/runtime/data/build/write-npy.js';
import { NDArray, readPickle } from '../../../../src/runtime/data/pickle/read-pickle.js';


interface Sample {
  id: string;
  split: string;
  label: number;
  text: string;
  audio: string | null;
}

function makeFiles(): { dir: string; samples: Sample[] } {
  const dir = mkdtempSync(join(tmpdir(), 'mmsa-tables-'));
  mkdirSync(join(dir, 'f'));
  const splits = ['train', 'train', 'dev', 'test', 'test'];
  const samples = splits.map((split, i) => {
    writeFileSync(join(dir, 'f', `${i}.npy`), encodeNpy(Float32Array.from({ length: (i + 1) * 2 }, (_, k) => i * 10 + k), [i + 1, 2]));
    return { id: `s${i}`, split, label: i * 5, text: `said "${i}", then, paused`, audio: i === 1 ? null : `f/${i}.npy` };
  });
  return { dir, samples };
}

const csvOf = (ss: Sample[]) => `id,split,label,text,audio\n${ss.map((s) => `${s.id},${s.split},${s.label},"${s.text.replace(/"/g, '""')}",${s.audio ?? ''}`).join('\n')}\n`;

describe('samples tables as JSON and JSON Lines', () => {
  it('a JSON array, {"samples": [...]} and JSON Lines build byte-identical pickles to the CSV', () => {
    const { dir, samples } = makeFiles();
    writeFileSync(join(dir, 's.csv'), csvOf(samples));
    writeFileSync(join(dir, 's.json'), JSON.stringify(samples, null, 2));
    writeFileSync(join(dir, 'w.json'), JSON.stringify({ samples }));
    writeFileSync(join(dir, 's.jsonl'), `${samples.map((s) => JSON.stringify(s)).join('\n')}\n`);
    const r = buildDataset(join(dir, 's.csv'), join(dir, 'csv.pkl'));
    expect(r.splits).toEqual({ train: 2, valid: 1, test: 2 });
    expect(r.modalities[0]!.missing).toBe(1);
    const want = readFileSync(join(dir, 'csv.pkl'));
    for (const t of ['s.json', 'w.json', 's.jsonl']) {
      buildDataset(join(dir, t), join(dir, `${t}.pkl`));
      expect([t, readFileSync(join(dir, `${t}.pkl`)).equals(want)]).toEqual([t, true]);
    }
  });

  it('problems name the sample position (JSON array) or the line (JSON Lines), and nothing is written', () => {
    const { dir, samples } = makeFiles();
    const bad: unknown[] = [...samples, { id: 's0', split: 'test', label: 1, audio: 'f/0.npy' }, { id: 's9', split: 'train', label: [1], audio: 'f/9.npy' }, 'oops'];
    writeFileSync(join(dir, 'b.json'), JSON.stringify(bad));
    const e = thrown(() => buildDataset(join(dir, 'b.json'), join(dir, 'never.pkl'), { labelRange: [0, 10] }));
    const m = e.message;
    expect(m).toContain("b.json sample 5 (id s4), column 'label': label 20 is outside the label range [0, 10]");
    expect(m).toContain("b.json sample 6 (id s0), column 'id': id 's0' is also on sample 1");
    expect(m).toContain("b.json sample 7 (id s9), column 'label': 'label' is an array: give a string, a number or null");
    expect(m).toContain("b.json sample 7 (id s9), column 'audio': f/9.npy: no such file");
    expect(m).toContain('b.json sample 8: expected an object');
    // One problem per bad cell or entry: not a second 'not a finite number' for the same label, none for 'oops'.
    expect(m).not.toMatch(/sample 7 \(id s9\), column 'label': label/);
    expect(m).not.toMatch(/sample 8, column/);
    expect(existsSync(join(dir, 'never.pkl'))).toBe(false);

    writeFileSync(join(dir, 'b.jsonl'), `${JSON.stringify(samples[0])}\n\n${JSON.stringify({ ...samples[1], split: 'holdout' })}\n`);
    expect(thrown(() => buildDataset(join(dir, 'b.jsonl'), join(dir, 'never.pkl'))).message).toContain("b.jsonl:3 (id s1), column 'split': split 'holdout' is not train");
    writeFileSync(join(dir, 'c.jsonl'), `${JSON.stringify(samples[0])}\n{"id": "s1",\n`);
    const syntax = thrown(() => buildDataset(join(dir, 'c.jsonl'), join(dir, 'never.pkl')));
    expect(syntax.code).toBe('MSA6040');
    expect(syntax.message).toContain('c.jsonl:2: not a readable JSON line');
    writeFileSync(join(dir, 'd.json'), '{"rows": []}');
    expect(thrown(() => buildDataset(join(dir, 'd.json'), join(dir, 'never.pkl'))).message).toContain('expected an array of sample objects');
    // Column problems of a JSON table have no line: its keys are the columns.
    writeFileSync(join(dir, 'e.json'), JSON.stringify(samples.map(({ split: _s, ...rest }) => rest)));
    expect(thrown(() => buildDataset(join(dir, 'e.json'), join(dir, 'never.pkl'))).message).toMatch(/e\.json: no 'split' column/);
  });
});

describe('real-sized per-sample feature files', () => {
  it('interview-length .npy (10^4 frames x 74) and OpenFace-wide CSVs (714 columns) build with every value in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsa-realsize-'));
    mkdirSync(join(dir, 'f'));
    // OpenFace 2's header: 5 bookkeeping columns, gaze (8), eye landmarks (280), pose (6), landmarks (204 + 204),
    // shape params (40), AU intensities (17) and presence (18) = 714 columns.
    const aus = ['01', '02', '04', '05', '06', '07', '09', '10', '12', '14', '15', '17', '20', '23', '25', '26', '45'];
    const head = [
      'frame', 'face_id', 'timestamp', 'confidence', 'success',
      ...['gaze_0_x', 'gaze_0_y', 'gaze_0_z', 'gaze_1_x', 'gaze_1_y', 'gaze_1_z', 'gaze_angle_x', 'gaze_angle_y'],
      ...Array.from({ length: 56 }, (_, i) => `eye_lmk_x_${i}`), ...Array.from({ length: 56 }, (_, i) => `eye_lmk_y_${i}`),
      ...Array.from({ length: 56 }, (_, i) => `eye_lmk_X_${i}`), ...Array.from({ length: 56 }, (_, i) => `eye_lmk_Y_${i}`), ...Array.from({ length: 56 }, (_, i) => `eye_lmk_Z_${i}`),
      'pose_Tx', 'pose_Ty', 'pose_Tz', 'pose_Rx', 'pose_Ry', 'pose_Rz',
      ...['x', 'y'].flatMap((a) => Array.from({ length: 68 }, (_, i) => `${a}_${i}`)), ...['X', 'Y', 'Z'].flatMap((a) => Array.from({ length: 68 }, (_, i) => `${a}_${i}`)),
      'p_scale', 'p_rx', 'p_ry', 'p_rz', 'p_tx', 'p_ty', ...Array.from({ length: 34 }, (_, i) => `p_${i}`),
      ...aus.map((a) => `AU${a}_r`), ...[...aus.slice(0, 16), '28', '45'].map((a) => `AU${a}_c`),
    ];
    expect(head).toHaveLength(714);
    const rows = ['id,split,label,audio,vision'];
    const frames = [10000, 7000, 12000];
    const value = (s: number, t: number, j: number) => ((s * 7 + t * 13 + j * 3) % 1000) / 100;
    frames.forEach((T, s) => {
      writeFileSync(join(dir, 'f', `a${s}.npy`), encodeNpy(Float32Array.from({ length: T * 74 }, (_, k) => value(s, Math.floor(k / 74), k % 74)), [T, 74]));
      const vt = 600 + s * 100;
      const lines = [head.join(', ')];
      for (let t = 0; t < vt; t++) lines.push([t + 1, 0, (t / 30).toFixed(3), 0.98, 1, ...Array.from({ length: 709 }, (_, j) => value(s, t, j))].join(', '));
      writeFileSync(join(dir, 'f', `v${s}.csv`), `${lines.join('\n')}\n`);
      rows.push(`${300 + s}_P,${['train', 'dev', 'test'][s]},${s * 8},f/a${s}.npy,f/v${s}.csv`);
    });
    writeFileSync(join(dir, 'samples.csv'), `${rows.join('\n')}\n`);
    const r = buildDataset(join(dir, 'samples.csv'), join(dir, 'big.pkl'), { labelRange: [0, 24], columns: { vision: { columns: ['AU*_r', 'pose_R*', 'gaze_angle_*'] } } });
    expect(r.modalities.map((m) => [m.name, m.frames, m.dims])).toEqual([
      ['audio', 12000, 74],
      ['vision', 800, 22],
    ]);
    expect(r.modalities[1]!.columns!.slice(0, 3)).toEqual(['gaze_angle_x', 'gaze_angle_y', 'pose_Rx']);
    const top = (await readPickle(join(dir, 'big.pkl'))) as Map<string, Map<string, unknown>>;
    const test = top.get('test')!;
    const a = test.get('audio') as NDArray;
    expect(a.shape).toEqual([1, 12000, 74]);
    const ad = a.data as Float32Array;
    expect([ad[0], ad[11999 * 74 + 73]]).toEqual([value(2, 0, 0), value(2, 11999, 73)].map(Math.fround));
    const v = top.get('valid')!.get('vision') as NDArray;
    expect(v.shape).toEqual([1, 800, 22]);
    // gaze_angle_x is column 6 of the 709 feature columns (after gaze_0_x .. gaze_1_z), frame 699 the last of 700.
    expect((v.data as Float32Array)[699 * 22]).toBe(Math.fround(value(1, 699, 6)));
    expect((v.data as Float32Array)[700 * 22]).toBe(0);
    expect(Array.from((top.get('valid')!.get('vision_lengths') as NDArray).data as Float64Array)).toEqual([700]);
  }, 120_000);
});
