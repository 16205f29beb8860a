// MMSA's missing-modality inputs (a modality's `missing: {rate, seed, output}`) equal what MMSA's own loader builds
// (data_loader.py with data_missing, fixture by tools/make-tfr-net-fixtures.py) bit for bit, on every split.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/compile.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import { dropFrames, dropTokens, UNK_ID } from '../../../src/runtime/data/missing.js';
import type { ResolvedFeature } from '../../../src/compiler/ir/types.js';
import { FIXTURES, customDataset, makeIr, type ModalityInput } from './data-test-helpers.js';

const ROOT = resolve(FIXTURES, '..');
const FILE = resolve(ROOT, 'mmsa-checkpoints/data/mosi-tokens.pkl');

interface SplitMasks {
  text_m: number[][];
  text_missing_mask: number[][];
  audio_m_sha256: string;
  audio_mask: number[][];
  audio_missing_mask: number[][];
  vision_m_sha256: string;
  vision_mask: number[][];
  vision_missing_mask: number[][];
}
interface Setting {
  missing_rate: [number, number, number];
  missing_seed: [number, number, number];
  splits: Record<'train' | 'valid' | 'test', SplitMasks>;
}
const fixture = JSON.parse(readFileSync(resolve(ROOT, 'missing-masks/masks.json'), 'utf8')) as { settings: Setting[] };

const features: Record<string, ResolvedFeature> = {
  text_bert: { key: 'text_bert', shape: [3, 8], dtype: 'int' },
  audio: { key: 'audio', shape: [10, 5], dtype: 'float', lengths: 'audio_lengths' },
  vision: { key: 'vision', shape: [9, 20], dtype: 'float', lengths: 'vision_lengths' },
  raw_text: { key: 'raw_text', shape: [], dtype: 'str' },
  id: { key: 'id', shape: [], dtype: 'str' },
};

function modalitiesOf(s: Setting): Record<string, ModalityInput> {
  const out: Record<string, ModalityInput> = { text: { feature: 'text_bert' } };
  (['text_bert', 'audio', 'vision'] as const).forEach((feature, i) => {
    const m = feature === 'text_bert' ? 'text' : feature;
    const missing = { rate: s.missing_rate[i]!, seed: s.missing_seed[i]! };
    out[`${m}_m`] = { feature, missing: { ...missing, output: 'masked' } };
    out[`${m}_mask`] = { feature, missing: { ...missing, output: 'mask' } };
    out[`${m}_missing_mask`] = { feature, missing: { ...missing, output: 'missing_mask' } };
  });
  return out;
}

const rows = (a: ArrayLike<number>, n: number, w: number, stride = w, off = 0) =>
  Array.from({ length: n }, (_, i) => Array.from({ length: w }, (_, k) => Number(a[i * stride + off + k])));
const sha = (a: Float32Array) => createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

describe('missing-modality inputs (MMSA data_missing)', () => {
  fixture.settings.forEach((s, si) => {
    it(`equal MMSA's loader bit for bit: rates ${s.missing_rate.join('/')}, seeds ${s.missing_seed.join('/')}`, async () => {
      const d = await loadDataset(makeIr(customDataset(FILE, features, { M: 'regression_labels' }), modalitiesOf(s)));
      for (const split of ['train', 'valid', 'test'] as const) {
        const want = s.splits[split];
        const got = d[split];
        const n = got.n;
        const f = (m: string) => got.features[m]!;
        expect(f('text_m').shape).toEqual([n, 3, 8]);
        expect(rows(f('text_m').data, n, 8, 24), `${split} text_m`).toEqual(want.text_m);
        // Mask and segment rows stay the file's.
        expect(rows(f('text_m').data, n, 16, 24, 8)).toEqual(rows(f('text').data, n, 16, 24, 8));
        expect(f('text_missing_mask').shape).toEqual([n, 8]);
        expect(rows(f('text_missing_mask').data, n, 8), `${split} text_missing_mask`).toEqual(want.text_missing_mask);
        expect(rows(f('text_mask').data, n, 8)).toEqual(rows(f('text').data, n, 8, 24, 8));
        for (const [m, t] of [['audio', 10], ['vision', 9]] as const) {
          expect(f(`${m}_m`).shape).toEqual([n, t, m === 'audio' ? 5 : 20]);
          expect(sha(f(`${m}_m`).data as Float32Array), `${split} ${m}_m`).toBe(want[`${m}_m_sha256`]);
          expect(rows(f(`${m}_mask`).data, n, t), `${split} ${m}_mask`).toEqual(want[`${m}_mask`]);
          expect(rows(f(`${m}_missing_mask`).data, n, t), `${split} ${m}_missing_mask`).toEqual(want[`${m}_missing_mask`]);
          // The masked copy keeps the modality's lengths; the masks have none.
          expect(got.lengths[`${m}_m`]).toEqual(got.lengths[m] ?? got.lengths[`${m}_m`]);
          expect(got.lengths[`${m}_mask`]).toBeUndefined();
        }
      }
      // The settings differ, so a test of one would catch a seed read from the wrong modality.
      if (si === 0) expect(fixture.settings[1]!.splits.train.text_m).not.toEqual(s.splits.train.text_m);
    });
  });

  it('keeps [CLS] and the last real token, writes [UNK] elsewhere at rate 1, and leaves padding alone', () => {
    // Two rows of L = 5: 3 real tokens, and 5 (no padding: numpy's argmin gives 0, so the last position is kept).
    const tok = Int32Array.from([101, 7, 102, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 101, 7, 8, 9, 102, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
    const r = dropTokens(tok, 2, 5, 1, 3);
    expect(Array.from(r.masked.subarray(0, 5))).toEqual([101, UNK_ID, 102, 0, 0]);
    expect(Array.from(r.masked.subarray(15, 20))).toEqual([101, UNK_ID, UNK_ID, UNK_ID, 102]);
    expect(Array.from(r.missingMask)).toEqual([1, 0, 1, 0, 0, 1, 0, 0, 0, 1]);
    expect(Array.from(r.mask)).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    // Frames: rate 0 keeps every real frame and zeroes padding (MMSA multiplies by the mask); -x * 0 is -0.
    const fr = dropFrames(Float32Array.from([1, -2, 3, 4]), 1, 4, 1, 0, 5, [2]);
    expect(Array.from(fr.masked)).toEqual([1, -2, 0, 0]);
    expect(Object.is(dropFrames(Float32Array.from([-2]), 1, 1, 1, 1, 5).masked[0], -0)).toBe(true);
  });

  it('compiles the masks as [T] vectors next to the masked copy, read as they are, and refuses them on a time mean', () => {
    const ok = compileFile(resolve(ROOT, 'missing-masks/gated.yaml'));
    expect(ok.diagnostics.filter((x) => x.severity === 'error').map((x) => x.code)).toEqual([]);
    const byId = new Map(ok.ir!.nodes.map((n) => [n.id, n]));
    expect(byId.get('modalities.audio_mask')!.output).toEqual({ kind: 'vector', shape: ['B', 20], dtype: 'float32' });
    expect(byId.get('modalities.audio_m')!.output.shape).toEqual(['B', 20, 5]);
    expect(byId.get('fusion')!.inputs).toEqual(['modalities.audio_m', 'modalities.vision_m', 'modalities.audio_mask', 'modalities.vision_mask']);
    expect(ok.ir!.tasks.find((t) => t.name === 'gen')!.inputs).toEqual(['encoders.gen_audio', 'modalities.audio', 'modalities.audio_mask', 'modalities.audio_missing_mask']);
    const r = compileFile(resolve(ROOT, 'broken/missing-on-time-mean.yaml'));
    expect(r.diagnostics.map((x) => x.code)).toEqual(['MSA3052']);
  });
});
