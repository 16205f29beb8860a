import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatInspect, inspectPickle } from '../../../src/runtime/data/inspect.js';
import { fixture, FIXTURES } from './data-test-helpers.js';

type Expected = { dtype?: string; shape?: number[]; finite_sum?: number; n_neg_inf?: number; n_nan?: number; len?: number };
// Python's json writes -Infinity / NaN literals; make them parseable.
const manifest = JSON.parse(readFileSync(`${FIXTURES}/manifest.json`, 'utf8').replace(/-?Infinity|NaN/g, 'null')) as { files: Record<string, { splits: Record<string, Record<string, Expected>> }> };

describe('inspectPickle', () => {
  it('lists splits, keys, dtypes and shapes as numpy sees them, with stats and non-finite counts', async () => {
    const r = await inspectPickle(fixture('sims_quirks.p4.pkl'));
    expect(r.splits.map((s) => [s.name, s.n])).toEqual([['train', 8], ['valid', 4], ['test', 4]]);
    const exp = manifest.files['sims_quirks.p4.pkl']!.splits;
    for (const s of r.splits) {
      for (const k of s.keys) {
        const e = exp[s.name]![k.key]!;
        expect(e, k.key).toBeDefined();
        if (e.dtype) expect(k.dtype, `${s.name}/${k.key}`).toBe(e.dtype);
        if (e.shape) expect(k.shape).toEqual(e.shape);
        if (e.len !== undefined) expect(k.shape).toEqual([e.len]);
        if (e.finite_sum !== undefined && k.stats) expect(k.stats.mean * k.stats.count).toBeCloseTo(e.finite_sum, 2);
        if (e.n_neg_inf !== undefined && k.negInf !== undefined) expect(k.negInf).toBe(e.n_neg_inf);
        if (e.n_nan !== undefined && k.nan !== undefined) expect(k.nan).toBe(e.n_nan);
      }
      expect(Object.keys(exp[s.name]!).sort()).toEqual(s.keys.map((k) => k.key).sort());
    }
    const train = r.splits[0]!;
    const audio = train.keys.find((k) => k.key === 'audio')!;
    expect(audio).toMatchObject({ dtype: '<f8', negInf: 2, nan: 0, role: 'feature' });
    const lens = train.keys.find((k) => k.key === 'audio_lengths')!;
    expect(lens).toMatchObject({ kind: 'list', dtype: 'list[int]', role: 'lengths' });
    expect([lens.stats!.min, lens.stats!.max]).toEqual([10, 17]);
    const lab = r.splits[1]!.keys.find((k) => k.key === 'regression_labels')!;
    expect(lab.role).toBe('label');
    expect(lab.stats!.zeros).toBe(2);
    expect(lab.stats!.std).toBeGreaterThan(0);
    expect(train.keys.find((k) => k.key === 'raw_text')).toMatchObject({ role: 'text', dtype: '|O' });
  });

  it('formats an aligned table', async () => {
    const text = formatInspect(await inspectPickle(fixture('mosi_unaligned_tiny.p4.pkl')));
    const lines = text.trimEnd().split('\n');
    expect(lines[1]).toBe('splits: train 8, valid 4, test 4');
    const header = lines[3]!;
    const dash = lines[4]!;
    expect(header).toMatch(/^split\s+key\s+dtype\s+shape\s+min\s+max\s+mean\s+std\s+zeros\s+-inf\s+nan$/);
    // Every column starts where its header does (the dashes row marks the column widths).
    const starts = [...dash.matchAll(/-+/g)].map((m) => m.index);
    const row = lines.find((l) => l.startsWith('train  ') && l.includes('audio_lengths'))!;
    expect(row.slice(starts[1]!, starts[1]! + 'audio_lengths'.length)).toBe('audio_lengths');
    expect(row.slice(starts[2]!).startsWith('<i8')).toBe(true);
    expect(lines.filter((l) => l.startsWith('test ')).length).toBe(11);
  });
});
