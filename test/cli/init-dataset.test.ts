// `mmsa init --dataset FILE`: the task, metric set and label range chosen from the labels and the shipped manifests,
// the starter pipeline it writes (which compiles), and its MSA6725 refusals. Phase: CLI.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initFromFileCommand } from '../../src/cli/data-build-commands.js';
import { initCommand } from '../../src/cli/report-commands.js';
import { chooseLabels, starterPipeline } from '../../src/cli/init-dataset.js';
import { compileFile } from '../../src/compiler/compile.js';
import { MmsaError } from '../../src/errors.js';
import { datasetStats } from '../../src/runtime/data/dataset-stats.js';
import { int64Array, ndarray, writePickleFile } from '../../src/runtime/data/pickle/write-pickle.js';
import { writeSynthSessions } from '../../src/runtime/data/synth-sessions.js';
import { captureIo } from './io.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsa-init-dataset-'));
const humour = join(dir, 'jokes.pkl');
const depression = join(dir, 'interviews.pkl');
writeSynthSessions(humour, { variant: 'humour', sizes: [12, 4, 4], frames: [3, 6], textLen: 4, textDim: 4, audioDim: 3, visionDim: 3 });
writeSynthSessions(depression, { variant: 'depression', sizes: [40, 8, 8], frames: [220, 260], textLen: 4, textDim: 4, seed: 5 });

/** A file with text/audio sequences and the given labels in every split (the same labels in each). */
function custom(name: string, labels: number[], o: { noRegression?: boolean } = {}): string {
  const n = labels.length;
  const s = () => ({
    id: labels.map((_, i) => `x${i}`),
    audio: ndarray(Float32Array.from({ length: n * 4 * 2 }, (_, i) => Math.sin(i)), [n, 4, 2]),
    audio_lengths: int64Array(labels.map(() => 4)),
    ...(o.noRegression ? { classification_labels: ndarray(Float32Array.from(labels), [n]) } : { regression_labels: ndarray(Float32Array.from(labels), [n]) }),
  });
  const f = join(dir, name);
  writePickleFile(f, { train: s(), valid: s(), test: s() });
  return f;
}

describe('chooseLabels', () => {
  it('0/1 labels: binary classification scored with the binary set (AUROC), the UR-FUNNY layout named', async () => {
    const c = chooseLabels(await datasetStats(humour));
    expect(c).toMatchObject({ task: 'classification', metrics: 'binary', numClasses: 2, labelRange: [0, 1] });
    expect(c.why).toContain('ur_funny');
  });

  it('PHQ-8 sessions in the DAIC-WOZ layout take the daic_woz manifest\'s depression set and [0, 24]', async () => {
    const c = chooseLabels(await datasetStats(depression));
    expect(c).toMatchObject({ task: 'regression', metrics: 'depression', labelRange: [0, 24] });
    expect(c.why).toContain('daic_woz');
  });

  it('sentiment fractions are scored as SIMS / MOSI; a 1-5 rating stays generic regression over its own range', async () => {
    expect(chooseLabels(await datasetStats(custom('sims.pkl', [-0.8, 0.2, 0.4, 1])))).toMatchObject({ metrics: 'sims', labelRange: [-1, 1] });
    expect(chooseLabels(await datasetStats(custom('mosi.pkl', [-2.4, 0.2, 1.6, 3])))).toMatchObject({ metrics: 'mosi', labelRange: [-3, 3] });
    expect(chooseLabels(await datasetStats(custom('rating.pkl', [1, 2, 5, 4])))).toMatchObject({ metrics: 'regression', labelRange: [1, 5] });
  });

  it('a file without regression_labels is MSA6725', async () => {
    const st = await datasetStats(custom('nolabels.pkl', [0, 1, 1, 0], { noRegression: true }));
    expect(() => chooseLabels(st)).toThrow(MmsaError);
    expect(() => chooseLabels(st)).toThrow(/has no regression_labels/);
  });
});

describe('starterPipeline', () => {
  it('the depression starter compiles: sessions averaged (SubNet), unnormalised audio standardised, PHQ-8 scale', async () => {
    const out = join(dir, 'interviews.yaml');
    const text = starterPipeline(await datasetStats(depression), { out, command: 'mmsa init --dataset interviews.pkl' });
    writeFileSync(out, text);
    expect(text).toContain('metrics: depression');
    expect(text).toContain('label_range: [0, 24]');
    expect(text).toMatch(/audio: \{type: subnet/);
    expect(text).toContain('audio: {feature: audio, preprocess: {normalize: standard}}');
    const c = compileFile(out, { env: {} });
    expect(c.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('the humour starter compiles with a 2-class head, cross entropy and the binary set over the context modalities', async () => {
    const out = join(dir, 'jokes.yaml');
    const text = starterPipeline(await datasetStats(humour), { out, command: 'mmsa init --dataset jokes.pkl' });
    writeFileSync(out, text);
    expect(text).toContain('num_classes: 2');
    expect(text).toContain('type: cross_entropy');
    expect(text).toContain('context_text: {feature: context_text');
    const c = compileFile(out, { env: {} });
    expect(c.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(c.ir!.schedule.metrics).toBe('binary');
  });
});

describe('mmsa init --dataset: MSA6725', () => {
  it('--model self_mm on 0/1 labels is refused (it trains regression heads), nothing is written', async () => {
    const io = captureIo(dir);
    expect(await initFromFileCommand('jokes.pkl', { model: 'self_mm', out: 'refused.yaml' }, io)).toBe(1);
    expect(io.stderr()).toMatch(/MSA6725.*model 'self_mm' trains regression heads, and jokes\.pkl has 0\/1 labels/);
    expect(() => readFileSync(join(dir, 'refused.yaml'))).toThrow();
  });

  it('--model self_mm on a file without text_bert names the missing key and the fix', async () => {
    const io = captureIo(dir);
    expect(await initFromFileCommand('interviews.pkl', { model: 'self_mm', out: 'refused2.yaml' }, io)).toBe(1);
    expect(io.stderr()).toMatch(/MSA6725.*model 'self_mm' reads text_bert, which interviews\.pkl does not have/);
    expect(io.stderr()).toContain('--vocab');
  });

  it('without --model it writes the starter and says so', async () => {
    const io = captureIo(dir);
    expect(await initFromFileCommand('interviews.pkl', { out: 'ok.yaml' }, io)).toBe(0);
    expect(io.stdout()).toContain('ok.yaml');
    expect(readFileSync(join(dir, 'ok.yaml'), 'utf8')).toContain('# Starter pipeline from `mmsa init --dataset interviews.pkl -o ok.yaml`');
  });
});

describe('mmsa init --dataset NAME without a paper config for it', () => {
  it('daic_woz has a manifest but no Self-MM config yet: MSA6723 says what to do instead of "reinstall"', async () => {
    const io = captureIo(dir);
    expect(await initCommand({ dataset: 'daic_woz', out: 'none.yaml' }, io)).toBe(1);
    expect(io.stderr()).toMatch(/MSA6723.*no template for model 'self_mm' on 'daic_woz'/);
    expect(io.stderr()).toContain('mmsa init --dataset FILE.pkl --model self_mm');
  });
});
