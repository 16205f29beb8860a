// The "your own data" path of docs/your-own-data.md end to end, on synthetic depression interviews: raw per-frame
// files (openSMILE / OpenFace CSVs, .npy) -> `mmsa data build` -> `mmsa data stats` -> `mmsa init --dataset` ->
// `mmsa run` (beats the train-median predictor) -> `mmsa evaluate --missing/--noise` (deterministic for a seed) ->
// `mmsa report` with the robustness curves; and normalize: standard with the train statistics recorded in the run.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readPickle, NDArray } from '../../src/runtime/data/pickle/read-pickle.js';
import { captureIo } from './io.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsa-own-data-'));
let runDir = '';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(dir);
  const code = await main(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

const labelsOf = async (split: string): Promise<number[]> => {
  const top = (await readPickle(join(dir, 'interviews.pkl'))) as Map<string, Map<string, unknown>>;
  return Array.from((top.get(split)!.get('regression_labels') as NDArray).data as Float32Array);
};

describe('bringing your own data: depression interviews end to end', () => {
  beforeAll(async () => {
    const s = await cli(['data', 'synth', 'depression', '--small', '--sizes', '64,16,32', '--out', 'raw']);
    expect(s.code, s.err).toBe(0);
  }, 120_000);

  it('builds the pickle from the raw files, and stats flags the unnormalised audio with the fix', async () => {
    const b = await cli(['data', 'build', 'raw/samples.csv', '--out', 'interviews.pkl', '--label-range', '0,24']);
    expect(b.code, b.err).toBe(0);
    expect(b.out).toContain('train 64, valid 16, test 32');
    expect(b.out).toMatch(/audio: \[N, \d+, 23\] float32 \+ audio_lengths; columns F0semitoneFrom27\.5Hz_sma3nz, Loudness_sma3/);
    expect(b.out).toMatch(/vision: \[N, \d+, 49\] float32/);
    const labels = await labelsOf('train');
    expect(labels.every((y) => Number.isInteger(y) && y >= 0 && y <= 24)).toBe(true);

    const st = await cli(['data', 'stats', 'interviews.pkl']);
    expect(st.code, st.err).toBe(0);
    expect(st.out).toMatch(/audio\s+23 .*UNNORMALISED/);
    expect(st.out).toMatch(/vision\s+49 .* ok/);
    expect(st.out).toContain('audio: {feature: audio, preprocess: {normalize: standard}}');
    const js = await cli(['data', 'stats', 'interviews.pkl', '--format', 'json']);
    const stats = JSON.parse(js.out) as { splits: Record<string, number>; warnings: string[] };
    expect(stats.splits).toEqual({ train: 64, valid: 16, test: 32 });
    expect(stats.warnings.join('\n')).toContain('audio looks unnormalised');
  }, 180_000);

  it('init --dataset writes a starter that standardises audio, trains, and beats the train-median predictor', async () => {
    const i = await cli(['init', '--dataset', 'interviews.pkl', '-o', 'interviews.yaml']);
    expect(i.code, i.err).toBe(0);
    const spec = readFileSync(join(dir, 'interviews.yaml'), 'utf8');
    // The file has DAIC-WOZ's layout: the daic_woz manifest gives the metric set and the PHQ-8 scale.
    expect(spec).toContain('metrics: depression');
    expect(spec).toContain('audio: {feature: audio, preprocess: {normalize: standard}}');
    expect(spec).toContain('label_range: [0, 24]');

    const r = await cli(['run', 'interviews.yaml', '-s', '1111', '--reporter', 'plain']);
    expect(r.code, r.err + r.out).toBe(0);
    const runs = readdirSync(join(dir, 'runs', 'interviews')).filter((d) => d.endsWith('-1111'));
    expect(runs).toHaveLength(1);
    runDir = join('runs', 'interviews', runs[0]!);
    const results = JSON.parse(readFileSync(join(dir, runDir, 'results.json'), 'utf8')) as { test: Record<string, number> };

    // The trivial predictor: the train median for every test session.
    const train = (await labelsOf('train')).sort((a, b) => a - b);
    const median = (train[31]! + train[32]!) / 2;
    const test = await labelsOf('test');
    const trivialMae = test.reduce((a, y) => a + Math.abs(y - median), 0) / test.length;
    expect(results.test['MAE']!).toBeLessThan(0.9 * trivialMae);
    expect(results.test['CCC']!).toBeGreaterThan(0.2);

    // The train split's audio statistics are in the manifest: 23 means and stds, pitch around 120 Hz.
    const manifest = JSON.parse(readFileSync(join(dir, runDir, 'manifest.json'), 'utf8')) as { dataset: { normalization?: Record<string, { mean: number[]; std: number[] }> } };
    const norm = manifest.dataset.normalization?.['audio'];
    expect(norm?.mean).toHaveLength(23);
    expect(norm?.std).toHaveLength(23);
    expect(Object.keys(manifest.dataset.normalization ?? {})).toEqual(['audio']);
  }, 300_000);

  it('evaluate --missing/--noise: a curve per modality, the same numbers for the same seed, recorded for the report', async () => {
    expect(runDir).not.toBe('');
    const args = ['evaluate', runDir, '--missing', 'audio=0:1:0.5', '--format', 'json'];
    const a = await cli(args);
    expect(a.code, a.err).toBe(0);
    const ra = JSON.parse(a.out) as { records: { series: string; rate: number; seed: number | null; metrics: Record<string, number> }[] };
    expect(ra.records.map((r) => [r.series, r.rate, r.seed])).toEqual([
      ['', 0, null],
      ['missing audio', 0, 1111],
      ['missing audio', 0.5, 1111],
      ['missing audio', 1, 1111],
    ]);
    // Rate 0 is the clean evaluation; dropping every audio frame changes the predictions.
    expect(ra.records[1]!.metrics).toEqual(ra.records[0]!.metrics);
    expect(ra.records[3]!.metrics['MAE']).not.toEqual(ra.records[0]!.metrics['MAE']);
    const b = await cli(args);
    expect((JSON.parse(b.out) as typeof ra).records.map((r) => r.metrics)).toEqual(ra.records.map((r) => r.metrics));
    const c = await cli(['evaluate', runDir, '--missing', 'audio=0.5', '--seeds', '7', '--format', 'json']);
    expect((JSON.parse(c.out) as typeof ra).records[1]!.metrics['MAE']).not.toEqual(ra.records[2]!.metrics['MAE']);

    const n = await cli(['evaluate', runDir, '--noise', 'vision=0.5', '--missing', 'text=0.3']);
    expect(n.code, n.err).toBe(0);
    expect(n.out).toMatch(/noise vision=0\.5, missing text=0\.3|missing text=0\.3, noise vision=0\.5/);
    const saved = JSON.parse(readFileSync(join(dir, runDir, 'robustness.json'), 'utf8')) as { records: unknown[] };
    expect(saved.records.length).toBeGreaterThanOrEqual(5);

    // Usage errors and unknown modalities are named.
    const bad = await cli(['evaluate', runDir, '--missing', 'audio=1.5']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('a missing rate is between 0 and 1');
    const unknown = await cli(['evaluate', runDir, '--missing', 'face=0.3']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/MSA6714.*no modality 'face'/);

    const rep = await cli(['report', runDir]);
    expect(rep.code, rep.err).toBe(0);
    const html = readFileSync(join(dir, runDir, 'report.html'), 'utf8');
    expect(html).toContain('missing audio');
    expect(html.toLowerCase()).toContain('robustness');
    const png = await cli(['report', runDir, '--format', 'png', '--plot', 'robustness', '-o', 'robust.png']);
    expect(png.code, png.err).toBe(0);
    expect(readFileSync(join(dir, 'robust.png')).subarray(1, 4).toString()).toBe('PNG');
  }, 300_000);

  it('evaluate --data scores new sessions with the statistics the run trained with, not the new file', async () => {
    expect(runDir).not.toBe('');
    // The same test sessions with audio in other units (x10): standardising with the new file's own statistics
    // would hide the change; the recorded train statistics do not.
    const s = await cli(['data', 'synth', 'depression', '--small', '--sizes', '64,16,32', '--out', 'raw']);
    expect(s.code).toBe(1); // raw/ exists: never overwritten without --force
    expect(s.err).toContain('MSA6047');
    const same = await cli(['evaluate', runDir, '--data', 'interviews.pkl', '--format', 'json']);
    const base = JSON.parse(same.out) as { metrics: Record<string, number> };
    const results = JSON.parse(readFileSync(join(dir, runDir, 'results.json'), 'utf8')) as { test: Record<string, number> };
    expect(base.metrics['MAE']).toBeCloseTo(results.test['MAE']!, 5);
    const { ndarray, writePickleFile } = await import('../../src/runtime/data/pickle/write-pickle.js');
    const top = (await readPickle(join(dir, 'interviews.pkl'), { floatAs: 'native', intAs: 'native' })) as Map<string, Map<string, unknown>>;
    const scaled: Record<string, Record<string, unknown>> = {};
    for (const [split, m] of top) {
      const o: Record<string, unknown> = Object.fromEntries(m);
      const a = m.get('audio') as NDArray;
      o['audio'] = ndarray(Float32Array.from(a.data as Float32Array, (v) => v * 10), [...a.shape]);
      scaled[split] = o;
    }
    writePickleFile(join(dir, 'louder.pkl'), scaled as never);
    const louder = await cli(['evaluate', runDir, '--data', 'louder.pkl', '--format', 'json']);
    expect(louder.code, louder.err).toBe(0);
    expect((JSON.parse(louder.out) as typeof base).metrics['MAE']).not.toBeCloseTo(base.metrics['MAE']!, 3);
    expect(existsSync(join(dir, 'louder.pkl'))).toBe(true);
    writeFileSync(join(dir, 'done'), '');
  }, 300_000);
});
