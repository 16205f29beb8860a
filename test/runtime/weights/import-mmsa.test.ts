// Matching an MMSA state_dict to a pipeline: a Self-MM checkpoint with its fine-tuned BERT (Model.text_model.model.*,
// Hugging Face BertModel names, plus the position_ids buffer older transformers saved) maps onto a fine-tuned bert
// encoder; the same tensors against a frozen BERT, or a pipeline without mmsa_modules, fail with the fix.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/compile.js';
import { mapMmsaNames } from '../../../src/compiler/ir/mmsa-names.js';
import { packageRoot } from '../../../src/paths.js';
import { matchMmsaCheckpoint, readMmsaCheckpoint } from '../../../src/runtime/weights/import-mmsa.js';
import { contiguousStrides, sizeOfShape, type StoredTensor } from '../../../src/runtime/weights/tensor.js';
import { mmsaErrorOf } from '../../helpers/errors.js';

const fixtures = join(packageRoot(), 'test/fixtures/mmsa-checkpoints');
const dir = mkdtempSync(join(tmpdir(), 'mmsa-match-'));

function compileChild(body: string) {
  const f = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  const d = join(fixtures, 'data');
  writeFileSync(f, `version: 1\nextends: ${join(fixtures, 'self_mm_mosi/pipeline.yaml')}\ndataset: {path: ${d}/mosi.pkl, manifest: ${d}/mosi.dataset.yaml}\n${body}`);
  const r = compileFile(f, { env: {} });
  expect(r.diagnostics.filter((x) => x.severity === 'error')).toEqual([]);
  return { ir: r.ir!, modules: r.spec!.mmsa_modules ?? {} };
}

function tensor(name: string, shape: number[], fill: number): StoredTensor {
  const values = new Float32Array(sizeOfShape(shape)).fill(fill);
  return { name, dtype: 'F32', shape, strides: contiguousStrides(shape), bytes: new Uint8Array(values.buffer), file: 'ckpt.pth' };
}

const TINY_BERT = 'encoders:\n  text: {type: bert, finetune: true, config: {num_hidden_layers: 1, intermediate_size: 64, vocab_size: 100}}\n';

/** MMSA's Self-MM checkpoint (trained on features) plus the tensors a fine-tuned BERT would add. */
function withBert() {
  const { ir } = compileChild(TINY_BERT);
  const tensors = new Map(readMmsaCheckpoint(join(fixtures, 'self_mm_mosi/checkpoint.pth')).tensors);
  for (const p of ir.nodes.find((n) => n.id === 'encoders.text')!.params) {
    tensors.set(`Model.text_model.model.${p.name}`, tensor(`Model.text_model.model.${p.name}`, p.shape, 0.5));
  }
  tensors.set('Model.text_model.model.embeddings.position_ids', { ...tensor('Model.text_model.model.embeddings.position_ids', [1, 6], 0), dtype: 'I64', bytes: new Uint8Array(48) });
  return tensors;
}

describe('matching an MMSA state_dict', () => {
  it("maps a fine-tuned BERT's tensors onto the bert encoder and skips the position_ids buffer", () => {
    const { ir, modules } = compileChild(TINY_BERT);
    const m = matchMmsaCheckpoint({ file: 'ckpt.pth', tensors: withBert() }, mapMmsaNames(ir, modules), ir, modules);
    expect(m.ignored).toEqual(['Model.text_model.model.embeddings.position_ids']);
    expect(m.unused).toEqual([]);
    const w = m.weights.get('encoders.text.encoder.layer.0.attention.self.query.weight')!;
    expect(w.shape).toEqual([32, 32]);
    expect(w.values.every((v) => v === 0.5)).toBe(true);
    expect(m.weights.get('encoders.audio.lstm.weight_ih_l0')!.shape).toEqual([64, 5]);
    expect(m.weights.size).toBe(ir.nodes.reduce((n, x) => n + x.params.length, 0));
  });

  it('the same tensors against a frozen BERT: unexpected, and the fix is finetune: true', () => {
    const { ir, modules } = compileChild('');
    const e = mmsaErrorOf(() => matchMmsaCheckpoint({ file: 'ckpt.pth', tensors: withBert() }, mapMmsaNames(ir, modules), ir, modules));
    expect(e.code).toBe('MSA6830');
    expect(e.message).toContain(': 24 unexpected tensors; nothing was imported');
    expect(e.message).toContain('  unexpected  Model.text_model.model.pooler.dense.weight [32, 32]');
    expect(e.hint).toBe('encoders.text has no parameters in this pipeline, but the checkpoint holds 24 tensors under Model.text_model: set `finetune: true` on encoders.text to run BERT with the checkpoint\'s weights');
  });

  it('a pipeline that says nowhere where MMSA keeps its nodes', () => {
    const { ir } = compileChild('');
    const ckpt = readMmsaCheckpoint(join(fixtures, 'self_mm_mosi/checkpoint.pth'));
    const e = mmsaErrorOf(() => matchMmsaCheckpoint(ckpt, mapMmsaNames(ir, {}), ir, {}));
    expect(e.message).toContain(': 36 parameters without an MMSA name, 36 unexpected tensors; nothing was imported');
    expect(e.message).toContain('  unnamed     encoders.audio.lstm.weight_ih_l0 [64, 5]: no mmsa_modules entry covers its node');
    expect(e.message).toContain('... and 32 more (--format json lists all)');
    expect((e.details['problems'] as unknown[]).length).toBe(72);
    expect(e.hint).toContain("declare where MMSA keeps each node in the pipeline's mmsa_modules");
  });
});
