import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { lowerPipeline } from '../../../../src/runtime/lower/lower-pipeline.js';
import { trainCtx, evalCtx } from '../../../../src/runtime/nn/params.js';
import { disposeGrads } from '../../../../src/runtime/train/optim/adam.js';
import { randomWeights, TINY_CONFIG, writeSafetensorsDir } from '../../../runtime/bert/helpers.js';
import { loadDataset } from '../../../../src/runtime/data/load-dataset.js';
import { makeBatches } from '../../../../src/runtime/data/batching.js';
import { compileYaml, TINY } from '../../../runtime/lower/helpers.js';
import { writeFileSync, readFileSync } from 'node:fs';
import { compileFile } from '../../../../src/compiler/compile.js';
import { runPipeline, type RunOptions, type RunOutcome } from '../../../../src/runtime/run.js';

// A tiny BERT whose vocabulary covers the synthetic text_bert ids (bert-base-uncased ids up to 29611).
const CONFIG = { ...TINY_CONFIG, vocab_size: 30522, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32 };
let modelDir = '';

function spec(finetune: boolean): string {
  return `version: 1
extends: self_mm
${TINY('mosi')}
encoders:
  text: {type: bert, pretrained: '${modelDir}', finetune: ${finetune}, config: {vocab_size: 30522, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 16}}
  audio: {type: lstm, hidden: 4, out: 3}
  vision: {type: lstm, hidden: 4, out: 3}
heads:
  M: {type: regression, input: fusion, hidden: [4, 4]}
  T: {type: regression, input: text, hidden: [4, 4]}
  A: {type: regression, input: audio, hidden: [4, 4]}
  V: {type: regression, input: vision, hidden: [4, 4]}
train:
  batch_size: 4
  optimizer:
    groups:
      - {name: bert, params: [encoders.text], lr: 5.0e-5, weight_decay: 1.0e-3, no_decay: [bias, LayerNorm.bias, LayerNorm.weight]}
      - {name: other, params: ['*'], lr: 1.0e-3}
`;
}

beforeAll(async () => {
  await setupBackend('wasm');
  modelDir = join(mkdtempSync(join(tmpdir(), 'mmsa-bert-lower-')), 'tiny-bert');
  writeSafetensorsDir(modelDir, randomWeights(5, CONFIG as typeof TINY_CONFIG), CONFIG);
});

describe('bert encoder lowering', () => {
  it('loads the pretrained weights under the catalog names and fine-tunes them in their own groups', async () => {
    const ir = compileYaml(spec(true), 'bert_ft');
    const p = lowerPipeline(ir, { seed: 1, trainSize: 12 });
    const w = randomWeights(5, CONFIG as typeof TINY_CONFIG);
    const word = p.model.store.get('encoders.text.embeddings.word_embeddings.weight')!;
    expect(Array.from(word.dataSync().slice(0, 5))).toEqual(Array.from(w.get('embeddings.word_embeddings.weight')!.values.slice(0, 5)));
    // bias/LayerNorm go to the no-decay half of the bert group
    const names = p.optimizer.groups.map((g) => g.name);
    expect(names).toContain('bert');
    expect(names).toContain('bert_no_decay');
    const batch = makeBatches((await loadDataset(ir)).train, { batchSize: 4, shuffle: false, seed: 1 })[0]!;
    const vars = p.optimizer.variables();
    const { value, grads } = tf.variableGrads(() => {
      const out = p.model.forward(batch, trainCtx(2));
      return tf.mean(tf.abs(out.heads['M']!)) as tf.Scalar;
    }, vars);
    const g = grads[p.model.store.entry('encoders.text.encoder.layer.0.attention.self.query.weight')!.variable.name];
    expect(g).toBeDefined();
    expect(Math.max(...Array.from(g!.abs().dataSync()))).toBeGreaterThan(0);
    value.dispose();
    disposeGrads(grads);
    const out = tf.tidy(() => p.model.forward(batch, evalCtx()).heads['M']!.shape);
    expect(out).toEqual([4, 1]);
    p.optimizer.dispose();
    p.model.dispose();
  });

  it('runs frozen BERT without gradients and keeps it out of the update', async () => {
    const ir = compileYaml(spec(false), 'bert_frozen');
    // No precomputed features from this model in the dataset: the real encoder runs (no fast path).
    expect(ir.nodes.find((n) => n.id === 'encoders.text')!.type).toBe('bert');
    const p = lowerPipeline(ir, { seed: 1, trainSize: 12 });
    const vars = p.optimizer.variables().map((v) => v.name);
    const bertVars = new Set(p.model.store.entries().filter((e) => e.key.startsWith('encoders.text.')).map((e) => e.variable.name));
    expect(bertVars.size).toBeGreaterThan(10);
    expect(vars.some((n) => bertVars.has(n))).toBe(false);
    expect(vars.length).toBeGreaterThan(0);
    const batch = makeBatches((await loadDataset(ir)).train, { batchSize: 4, shuffle: false, seed: 1 })[0]!;
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.abs(p.model.forward(batch, trainCtx(3)).heads['M']!)) as tf.Scalar, p.optimizer.variables());
    expect(Object.keys(grads).length).toBeGreaterThan(0);
    value.dispose();
    disposeGrads(grads);
    p.optimizer.dispose();
    p.model.dispose();
  });

  it('fine-tuning is bit-for-bit reproducible on a fixed seed, and keeping or recomputing activations changes no bit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsa-bert-repro-'));
    const file = join(dir, 'bert_repro.yaml');
    // Self-MM's 4-batch accumulation (sums outside the heap) and Adam (moments outside the heap), 2 epochs.
    writeFileSync(file, `${spec(true)}  max_epochs: 2\n  grad_accum_steps: 2\nseeds: [7]\n`);
    const compiled = compileFile(file);
    expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const run = async (out: string, opts: Partial<RunOptions> = {}) => {
      const it = runPipeline(compiled, { outRoot: join(dir, out), backend: 'wasm', force: true, ...opts });
      let r = await it.next();
      while (!r.done) r = await it.next();
      const outcome = r.value as RunOutcome;
      expect(outcome.status).toBe('completed');
      const runDir = outcome.runDirs[0]!;
      const manifest = JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8'));
      return { results: readFileSync(join(runDir, 'results.json'), 'utf8'), weights: readFileSync(join(runDir, 'checkpoint', 'weights.bin')), design: manifest.memory.design };
    };
    const a = await run('a');
    const b = await run('b');
    const c = await run('c', { activations: 'recompute' });
    expect(a.design).toEqual({ bertActivations: 'keep', microBatches: 1, optimizerState: 'host', gradientSums: 'host' });
    expect(c.design.bertActivations).toBe('recompute');
    expect(b.results).toBe(a.results);
    expect(b.weights.equals(a.weights)).toBe(true);
    expect(c.results).toBe(a.results);
    expect(c.weights.equals(a.weights)).toBe(true);
  });
});
