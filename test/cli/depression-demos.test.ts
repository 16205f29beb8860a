// The depression demos (pipelines/demo_depression_*.yaml) train on the built-in synthetic interviews with `mmsa run`
// and beat the trivial predictor (the train-split mean for every test session: CCC 0) by a clear margin: test CCC
// above 0.5 and MAE below 0.6 of the trivial one.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compileFile } from '../../src/compiler/compile.js';
import { loadDataset } from '../../src/runtime/data/load-dataset.js';
import { captureIo } from './io.js';

const repo = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'mmsa-depression-demos-'));

describe('depression demos on synthetic interviews', () => {
  for (const name of ['demo_depression_tcn', 'demo_depression_gated_cnn']) {
    it(`${name} beats the train-mean predictor on CCC and MAE`, async () => {
      const file = join(repo, 'pipelines', `${name}.yaml`);
      const io = captureIo(dir);
      const code = await main(['run', file, '--reporter', 'plain', '--out', join(dir, 'runs')], io);
      expect(code, io.stderr() + io.stdout()).toBe(0);
      const seedDir = readdirSync(join(dir, 'runs', name)).find((d) => d.endsWith('-1111'))!;
      const results = JSON.parse(readFileSync(join(dir, 'runs', name, seedDir, 'results.json'), 'utf8')) as { test: Record<string, number> };

      const data = await loadDataset(compileFile(file, { env: {} }).ir!);
      const train = Array.from(data.train.labels['M']!);
      const test = Array.from(data.test.labels['M']!);
      const mean = train.reduce((a, b) => a + b, 0) / train.length;
      const trivialMae = test.reduce((a, y) => a + Math.abs(y - mean), 0) / test.length;
      expect(trivialMae).toBeGreaterThan(2);
      expect(results.test['MAE']!).toBeLessThan(0.6 * trivialMae);
      expect(results.test['CCC']!).toBeGreaterThan(0.5);
    }, 300_000);
  }
});
