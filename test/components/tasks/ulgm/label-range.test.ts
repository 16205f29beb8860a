// ULGM on a label range that is not symmetric around 0 (PHQ-8 0-24): the range's middle splits the classes and the
// update works on labels measured from it, so [lo, hi] behaves as Self-MM's [-H, H] shifted; ranges come from the
// dataset unless H is written; classes get MSA3050.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../src/runtime/random.js';
import { ulgmRange, UlgmState } from '../../../../src/components/tasks/ulgm/state.js';
import { compileFile } from '../../../../src/compiler/compile.js';

const N = 40;
const dims = { fusion: 6, text: 4, audio: 3, vision: 5 };
const banks = ['fusion', 'text', 'audio', 'vision'] as const;

function features(rng: Rng, B: number): Record<string, Float32Array> {
  return Object.fromEntries(banks.map((b) => [b, Float32Array.from({ length: B * dims[b] }, () => rng.normal())]));
}

/** Trains the banks over a few epochs of shuffled batches; labels are PHQ-like integers. */
function run(state: UlgmState, labels: number[]): void {
  const rng = new Rng(7);
  state.initLabels(Array.from({ length: N }, (_, i) => i), labels);
  for (let epoch = 1; epoch <= 4; epoch++) {
    for (let start = 0; start < N; start += 8) {
      const idx = Array.from({ length: 8 }, (_, i) => start + i);
      state.step(epoch, idx, features(rng, 8));
    }
  }
}

describe('ULGM label range', () => {
  const rng = new Rng(3);
  const phq = Array.from({ length: N }, () => rng.intIn(0, 24));

  it('[0, 24] is [-12, 12] shifted by 12: same generated labels, classes split at 12', () => {
    const shifted = new UlgmState({ n: N, dims, H: 12, center: 12, excludeZero: true });
    const centred = new UlgmState({ n: N, dims, H: 12, excludeZero: true });
    run(shifted, phq);
    run(centred, phq.map((y) => y - 12));
    for (const m of ['text', 'audio', 'vision']) {
      const a = shifted.labels(m);
      const b = centred.labels(m);
      for (let i = 0; i < N; i++) expect(a[i]).toBeCloseTo(b[i]! + 12, 4);
      // Generated labels stay on the PHQ-8 scale.
      for (const v of a) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(24);
      }
    }
    // Both classes have members, so both centres are real (with a split at 0 every PHQ score would be "positive").
    const c = shifted.centers('fusion');
    expect(c.neg.some((v) => v !== 0)).toBe(true);
    expect(c.pos.some((v) => v !== 0)).toBe(true);
  });

  it('labels move away from the human label once generation starts', () => {
    const s = new UlgmState({ n: N, dims, H: 12, center: 12, excludeZero: true });
    run(s, phq);
    expect(s.drift()['text']).toBeGreaterThan(0);
  });

  it('the range is label_range, else MMSA\'s [-H, H] (H 3 when neither is known)', () => {
    expect(ulgmRange({ label_range: [0, 24] })).toEqual([0, 24]);
    expect(ulgmRange({ H: 1 })).toEqual([-1, 1]);
    expect(ulgmRange({})).toEqual([-3, 3]);
  });
});

describe('ULGM range from the dataset at compile time', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmsa-ulgm-range-'));
  const spec = (dataset: string, ulgm: string) => {
    const f = join(dir, `s${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(f, `version: 1
extends: self_mm
dataset: ${dataset}
modalities: {text: {feature: text}}
encoders: {text: {type: precomputed, select: mean}, audio: {hidden: 8}, vision: {hidden: 8}}
heads: {M: {hidden: [8]}, T: {hidden: [8]}, A: {hidden: [8]}, V: {hidden: [8]}}
tasks: {ulgm: {${ulgm}}}
train: {optimizer: {type: adam, groups: [{name: all, params: ['*'], lr: 1.0e-3}]}}
`);
    return compileFile(f, { env: {} });
  };
  const depression = '{type: synthetic, like: depression, n_train: 16, n_valid: 8, n_test: 8, seq_lens: {text: 6, audio: 20}, dims: {text: 8}}';
  const task = (c: ReturnType<typeof compileFile>) => c.ir!.tasks.find((t) => t.name === 'ulgm')!.config as { H?: number; label_range?: number[] };

  it('PHQ-8 data gives label_range [0, 24]; a written H is kept (MMSA\'s configs, SIMS v2 uses H 3 on [-1, 1])', () => {
    const phq = spec(depression, 'exclude_zero: true');
    expect(phq.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(task(phq)).toMatchObject({ label_range: [0, 24] });
    expect(task(phq).H).toBeUndefined();
    const written = spec(depression.replace('depression', 'mosi').replace(', seq_lens: {text: 6, audio: 20}, dims: {text: 8}', ''), 'H: 3.0');
    expect(written.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(task(written)).toMatchObject({ H: 3 });
    expect(task(written).label_range).toBeUndefined();
  });

  it('binary labels are MSA3050 at the ulgm task, an empty range MSA3051', () => {
    const bin = spec('{type: synthetic, like: humour, n_train: 16, n_valid: 8, n_test: 8, dims: {text: 8}}', 'exclude_zero: true');
    const d = bin.diagnostics.find((x) => x.code === 'MSA3050')!;
    expect(d.message).toMatch(/ulgm task 'ulgm' does not apply here: dataset 'synthetic-humour' has binary labels/);
    expect(d.span.file).toMatch(/presets[\\/]self_mm\.yaml$/);
    const empty = spec(depression, 'label_range: [24, 0]');
    expect(empty.diagnostics.map((x) => x.code)).toContain('MSA3051');
  });
});
