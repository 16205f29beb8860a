// Classification runs end to end (humour-detection style custom dataset): predictions.csv with class probabilities,
// `mmsa predict` with probabilities, `mmsa evaluate` on new labelled data, and the report's confusion matrix.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { evaluateCommand, predictCommand, runCommand } from '../../src/cli/run-commands.js';
import { Rng } from '../../src/runtime/random.js';
import { int64Array, ndarray, writePickleFile } from '../../src/runtime/data/pickle/write-pickle.js';
import { captureIo } from './io.js';

/** A humour-like split: label = 1 when the first text feature is positive (plus label noise). */
function split(rng: Rng, n: number, labelled = true) {
  const text = new Float32Array(n * 4 * 8);
  const audio = new Float32Array(n * 5 * 3);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 32; j++) text[i * 32 + j] = rng.normal();
    for (let j = 0; j < 15; j++) audio[i * 15 + j] = rng.normal();
    y[i] = (text[i * 32]! + 0.3 * rng.normal() > 0 ? 1 : 0);
  }
  return {
    id: Array.from({ length: n }, (_, i) => `clip${i}`),
    text: ndarray(text, [n, 4, 8]),
    audio: ndarray(audio, [n, 5, 3]),
    audio_lengths: int64Array(Array.from({ length: n }, (_, i) => 1 + (i % 5))),
    ...(labelled ? { humor_label: ndarray(y, [n]) } : {}),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'mmsa-cls-'));
const rng = new Rng(5);
writePickleFile(join(dir, 'humor.pkl'), { train: split(rng, 96), valid: split(rng, 32), test: split(rng, 32) });
writePickleFile(join(dir, 'new.pkl'), { test: split(rng, 40) });
writePickleFile(join(dir, 'unlabelled.pkl'), { test: split(rng, 6, false) });
writeFileSync(join(dir, 'humor.yaml'), `version: 1
name: humor_lf
dataset:
  path: ./humor.pkl
  name: humor
  task: classification
  num_classes: 2
  metrics: classification
  features:
    text: {key: text, shape: [4, 8]}
    audio: {key: audio, shape: [5, 3], lengths: audio_lengths}
  labels: {M: humor_label}
modalities:
  text: {feature: text}
  audio: {feature: audio}
encoders:
  text: {type: precomputed, select: cls}
  audio: {type: lstm, hidden: 4, packed: true}
fusion: {type: concat, inputs: [text, audio]}
heads:
  M: {type: classification, input: fusion, num_classes: 2, hidden: [8]}
tasks:
  main: {type: cross_entropy, head: M}
train: {batch_size: 16, max_epochs: 4, optimizer: {groups: [{name: all, params: ['*'], lr: 0.01}]}}
seeds: [3]
`);

let runDir = '';

describe('classification runs', () => {
  beforeAll(async () => {
    const io = captureIo(dir);
    const code = await runCommand(join(dir, 'humor.yaml'), { out: join(dir, 'runs'), backend: 'wasm', reporter: 'plain' }, io);
    if (code !== 0) throw new Error(`run failed: ${io.stderr()}${io.stdout()}`);
    const base = join(dir, 'runs', 'humor_lf');
    runDir = join(base, readdirSync(base).find((d) => /-3$/.test(d))!);
  }, 120_000);

  it('predictions.csv holds the class, the label and the softmax probability of every class', () => {
    const lines = readFileSync(join(runDir, 'predictions.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,prediction,label,prob_0,prob_1');
    expect(lines).toHaveLength(1 + 32);
    for (const l of lines.slice(1)) {
      const [id, pred, label, p0, p1] = l.split(',');
      expect(id).toMatch(/^clip\d+$/);
      expect(['0', '1']).toContain(pred);
      expect(['0', '1']).toContain(label);
      expect(Number(p0) + Number(p1)).toBeCloseTo(1, 4);
      expect(Number(pred)).toBe(Number(p1) > Number(p0) ? 1 : 0);
    }
    // The test accuracy of results.json is the one of these rows.
    const acc = lines.slice(1).filter((l) => l.split(',')[1] === l.split(',')[2]).length / 32;
    const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as { test: Record<string, number> };
    expect(results.test['accuracy']).toBeCloseTo(acc, 4);
  });

  it('mmsa predict gives class probabilities on new data, as CSV and JSON', async () => {
    const io = captureIo(dir);
    expect(await predictCommand(runDir, { data: join(dir, 'unlabelled.pkl') }, io)).toBe(0);
    const lines = io.stdout().trim().split('\n');
    expect(lines[0]).toBe('id,prediction,label,prob_0,prob_1');
    expect(lines).toHaveLength(7);
    expect(lines[1]).toMatch(/^clip0,[01],,[\d.e-]+,[\d.e-]+$/);
    const out = join(dir, 'pred.json');
    expect(await predictCommand(runDir, { data: join(dir, 'unlabelled.pkl'), out }, captureIo(dir))).toBe(0);
    const rows = JSON.parse(readFileSync(out, 'utf8')) as { prediction: number; label: null; probabilities: number[] }[];
    expect(rows).toHaveLength(6);
    for (const r of rows) {
      expect(r.probabilities).toHaveLength(2);
      expect(r.probabilities[0]! + r.probabilities[1]!).toBeCloseTo(1, 10);
      expect(r.prediction).toBe(r.probabilities[1]! > r.probabilities[0]! ? 1 : 0);
      expect(r.label).toBeNull();
    }
  });

  it('mmsa report shows the confusion matrix of the test predictions', async () => {
    const io = captureIo(dir);
    expect(await main(['report', runDir], io)).toBe(0);
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(html).toContain('class="plot-confusion"');
    expect(html).not.toContain('class="plot-scatter"');
    const rows = readFileSync(join(runDir, 'predictions.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const n = (t: string, p: string) => rows.filter((c) => c[2] === t && c[1] === p).length;
    expect(html).toContain(`<tr><td>0</td><td>${n('0', '0')}</td><td>${n('0', '1')}</td></tr><tr><td>1</td><td>${n('1', '0')}</td><td>${n('1', '1')}</td></tr>`);
  });

  it('mmsa evaluate scores new labelled data with the run\'s metric set; unlabelled data is a clear error', async () => {
    const io = captureIo(dir);
    expect(await evaluateCommand(runDir, { data: join(dir, 'new.pkl'), format: 'json' }, io)).toBe(0);
    const r = JSON.parse(io.stdout()) as { n: number; metrics: Record<string, number> };
    expect(r.n).toBe(40);
    expect(Object.keys(r.metrics)).toEqual(['accuracy', 'macro_F1', 'weighted_F1', 'Loss']);
    // The same numbers as scoring predict's output by hand.
    const pio = captureIo(dir);
    expect(await predictCommand(runDir, { data: join(dir, 'new.pkl') }, pio)).toBe(0);
    const rows = pio.stdout().trim().split('\n').slice(1).map((l) => l.split(','));
    const acc = rows.filter((c) => c[1] === c[2]).length / rows.length;
    expect(r.metrics['accuracy']).toBeCloseTo(acc, 4);
    expect(r.metrics['accuracy']).toBeGreaterThan(0.6);
    const bad = captureIo(dir);
    expect(await evaluateCommand(runDir, { data: join(dir, 'unlabelled.pkl') }, bad)).toBe(1);
    expect(bad.stderr()).toContain('MSA6706');
    expect(bad.stderr()).toContain("split 'test' has no labels");
    expect(bad.stderr()).toContain('mmsa predict');
  });
});
