// Frozen BERT's fast path on MISA: the rewrite keeps the token rows MISA's audio and vision LSTMs are packed by, the
// precomputed mean is taken over the real tokens, and a frozen MISA gives the same predictions with and without it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../../src/compiler/compile.js';
import type { Ir } from '../../../../src/compiler/ir/types.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { openBertSync } from '../../../../src/runtime/bert/load-bert.js';
import { writeRandomBertCheckpoint } from '../../../../src/runtime/bert/random-checkpoint.js';
import { makeBatches } from '../../../../src/runtime/data/batching.js';
import { loadDataset } from '../../../../src/runtime/data/load-dataset.js';
import type { NDArray } from '../../../../src/runtime/data/pickle/values.js';
import { ndarray, writePickleFile } from '../../../../src/runtime/data/pickle/write-pickle.js';
import { generateSynthMmsa } from '../../../../src/runtime/data/synth-mmsa.js';
import { lowerModel } from '../../../../src/runtime/lower/lower-model.js';
import { evalCtx, ParamStore } from '../../../../src/runtime/nn/params.js';
import { packageRoot } from '../../../../src/paths.js';
import { runPipeline, type RunOutcome } from '../../../../src/runtime/run.js';
import { printPlan } from '../../../../src/compiler/ir/print-plan.js';

const root = packageRoot();
const work = mkdtempSync(join(tmpdir(), 'mmsa-misa-fast-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const bert = join(work, 'small-bert');
const SIZES: [number, number, number] = [8, 4, 12];
const L = 16;

/** A manifest for data.pkl; `pretrained` says which BERT computed its `text` features (none: BERT must run). */
function manifest(name: string, pretrained: string | undefined): string {
  const file = join(work, `${name}.dataset.yaml`);
  writeFileSync(
    file,
    `name: ${name}\ntask: regression\nlabel_range: [-3, 3]\nmetrics: mosi\nkey_eval: loss\n${pretrained ? `pretrained: '${pretrained}'\n` : ''}default_file: unaligned\nfiles:\n  unaligned:\n    path: data.pkl\n    aligned: false\n    splits: {train: ${SIZES[0]}, valid: ${SIZES[1]}, test: ${SIZES[2]}}\n    features:\n      text: {key: text, shape: [${L}, 128], dtype: float}\n      text_bert: {key: text_bert, shape: [3, ${L}], dtype: int}\n      audio: {key: audio, shape: [20, 5], dtype: float, lengths: audio_lengths}\n      vision: {key: vision, shape: [${L}, 20], dtype: float, lengths: vision_lengths}\n      raw_text: {key: raw_text, dtype: str}\n      id: {key: id, dtype: str}\n    labels: {M: regression_labels}\n`,
  );
  return file;
}

/** The MISA demo with BERT frozen, on data.pkl described by the manifest. */
function compileMisaSpec(name: string, manifestFile: string, extra = '') {
  const f = join(work, `${name}.yaml`);
  writeFileSync(f, `version: 1\nextends: ${join(root, 'pipelines/demo_misa.yaml')}\nname: ${name}\ndataset: {path: ${join(work, 'data.pkl')}, manifest: ${manifestFile}}\nencoders:\n  text: {type: bert, pretrained: '${bert}', finetune: false, output: mean}\n${extra}`);
  const r = compileFile(f, { env: {} });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r;
}

function compileMisa(name: string, manifestFile: string): Ir {
  return compileMisaSpec(name, manifestFile).ir!;
}

beforeAll(async () => {
  await setupBackend('wasm');
  writeRandomBertCheckpoint(bert, { vocab_size: 2048, hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256, max_position_embeddings: 64 }, 19);
  // The file's `text` features are what the small BERT computes from its text_bert rows (as MMSA's files hold
  // bert-base-uncased's), padding rows included.
  const data = generateSynthMmsa({ sizes: SIZES, textLen: L, textDim: 128, audioLen: 20, visionLen: L, bertVocab: 2048 });
  const store = new ParamStore({ seed: 1 });
  const { model } = openBertSync(bert, store, 'bert', { trainable: false });
  for (const split of Object.values(data)) {
    const rows = split['text_bert'] as NDArray;
    const n = rows.shape[0]!;
    const feats = tf.tidy(() => {
      const t = tf.tensor3d(Int32Array.from(rows.data as BigInt64Array, (v) => Number(v)), [n, 3, L], 'int32');
      const row = (r: number) => tf.reshape(tf.slice(t, [0, r, 0], [n, 1, L]), [n, L]);
      return model.apply(row(0), row(1), row(2), evalCtx(), {}).sequence;
    });
    split['text'] = ndarray(feats.dataSync() as Float32Array, [n, L, 128]);
    feats.dispose();
  }
  store.dispose();
  writePickleFile(join(work, 'data.pkl'), data);
}, 120_000);

describe('frozen MISA on the fast path', () => {
  it('keeps the token rows the audio and vision LSTMs are packed by and takes the mean over the real tokens', () => {
    const ir = compileMisa('misa_fast', manifest('fast', bert));
    const byId = new Map(ir.nodes.map((n) => [n.id, n]));
    expect(byId.get('encoders.text')!.type).toBe('precomputed');
    expect(byId.get('encoders.text')!.config).toMatchObject({ select: 'mean', mask_from: 'modalities.text' });
    expect(byId.get('encoders.text')!.inputs).toEqual(['modalities.text_features', 'modalities.text']);
    expect(byId.get('modalities.text')!.output.kind).toBe('tokens');
    expect(byId.get('modalities.text_features')!.type).toBe('text');
    expect(byId.get('encoders.audio')!.inputs).toEqual(['modalities.audio', 'modalities.text']);
    expect(ir.nodes.filter((n) => n.id.startsWith('encoders.text.')).length).toBe(0);
  });

  it('predicts what the same frozen MISA predicts with BERT run (within 1e-5)', async () => {
    const slow = compileMisa('misa_slow', manifest('slow', undefined));
    const fast = compileMisa('misa_fast', manifest('fast', bert));
    expect(slow.nodes.find((n) => n.id === 'encoders.text')!.type).toBe('bert');
    expect(fast.nodes.find((n) => n.id === 'encoders.text')!.type).toBe('precomputed');
    const predict = async (ir: Ir) => {
      const model = lowerModel(ir, { seed: 1111 });
      const batches = makeBatches((await loadDataset(ir)).test, { batchSize: 6, shuffle: false, seed: 1 });
      const out = { M: [] as number[], text: [] as number[], audio: [] as number[] };
      for (const b of batches) {
        tf.tidy(() => {
          const o = model.forward(b, evalCtx());
          out.M.push(...o.heads['M']!.dataSync());
          out.text.push(...o.nodes!['encoders.text']!.dataSync());
          out.audio.push(...o.nodes!['encoders.audio']!.dataSync());
        });
      }
      model.dispose();
      return out;
    };
    const a = await predict(slow);
    const b = await predict(fast);
    expect(b.M.length).toBe(SIZES[2]);
    const maxDiff = (x: number[], y: number[]) => Math.max(...x.map((v, i) => Math.abs(v - y[i]!)));
    // The packed LSTMs read the same token counts: identical.
    expect(maxDiff(a.audio, b.audio)).toBe(0);
    expect(maxDiff(a.text, b.text)).toBeLessThan(1e-5);
    expect(maxDiff(a.M, b.M)).toBeLessThan(1e-5);
    // Not a constant: the predictions vary over the test samples.
    expect(Math.max(...a.M) - Math.min(...a.M)).toBeGreaterThan(1e-3);
  }, 120_000);

  it('trains end to end on the fast path (the loader feeds both the features and the token rows)', async () => {
    const compiled = compileMisaSpec('misa_fast_run', manifest('fast', bert), 'train: {max_epochs: 2}\n');
    const it = runPipeline(compiled, { outRoot: join(work, 'runs'), backend: 'wasm', force: true });
    let r = await it.next();
    while (!r.done) r = await it.next();
    const outcome = r.value as RunOutcome;
    expect(outcome.status).toBe('completed');
    const results = JSON.parse(readFileSync(join(outcome.runDirs[0]!, 'results.json'), 'utf8')) as { test?: Record<string, number> };
    expect(Number.isFinite(results.test?.['MAE'])).toBe(true);
  }, 180_000);
});

describe("the paper configs' frozen variants (finetune: false)", () => {
  const frozen = (config: string) => {
    const f = join(work, `${config}_frozen.yaml`);
    writeFileSync(f, `version: 1\nextends: ${join(root, 'pipelines', `${config}.yaml`)}\nname: ${config}_frozen\nencoders:\n  text: {finetune: false}\n`);
    const r = compileFile(f, { env: {} });
    expect(r.diagnostics.filter((d) => d.severity === 'error'), config).toEqual([]);
    return r.ir!;
  };

  it("MISA's read the dataset's BERT features (mean over the real tokens), the LSTMs still packed by the token counts", () => {
    for (const d of ['mosi', 'mosei', 'sims', 'simsv2']) {
      const ir = frozen(`misa_${d}`);
      const text = ir.nodes.find((n) => n.id === 'encoders.text')!;
      expect(text.type, d).toBe('precomputed');
      expect(text.inputs).toEqual(['modalities.text_features', 'modalities.text']);
      for (const m of ['audio', 'vision']) expect(ir.nodes.find((n) => n.id === `encoders.${m}`)!.inputs).toEqual([`modalities.${m}`, 'modalities.text']);
      expect(printPlan(ir)).toContain('mean over the real tokens of modalities.text: fast path');
    }
  });

  it("BERT-MAG's and CENET's keep BERT (its hook changes what the layers read) with its weights out of the update", () => {
    for (const c of ['bert_mag_mosi', 'bert_mag_mosei', 'bert_mag_sims', 'cenet_mosi', 'cenet_mosei', 'cenet_sims', 'cenet_simsv2']) {
      const ir = frozen(c);
      const text = ir.nodes.find((n) => n.id === 'encoders.text')!;
      expect(text.type, c).toBe('bert');
      expect(printPlan(ir)).toContain('frozen');
      // Only the hook's own modules (and the head) train.
      expect(ir.trainableParams).toBeLessThan(ir.totalParams / 10);
    }
  });
});
