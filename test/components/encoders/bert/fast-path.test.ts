import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../../../src/compiler/compile.js';
import { printPlan } from '../../../../src/compiler/ir/print-plan.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

function compileWith(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'mmsa-frozen-'));
  const f = join(dir, 'spec.yaml');
  writeFileSync(f, text);
  return compileFile(f, { env: {} });
}

const base = `version: 1\nextends: ${join(repo, 'pipelines/self_mm_mosi.yaml')}\n`;

describe('frozen BERT fast path', () => {
  it('reads the precomputed [CLS] row when BERT is frozen and the dataset has the same model features', () => {
    const r = compileWith(`${base}encoders:\n  text: {type: bert, pretrained: bert-base-uncased, finetune: false}\n`);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const enc = r.ir!.nodes.find((n) => n.id === 'encoders.text')!;
    expect(enc.type).toBe('precomputed');
    expect(enc.params).toEqual([]);
    expect(enc.output.shape).toEqual(['B', 768]);
    const input = r.ir!.nodes.find((n) => n.id === 'modalities.text')!;
    expect(input.type).toBe('text');
    expect(input.output.shape).toEqual(['B', 50, 768]);
    expect(printPlan(r.ir!)).toContain('fast path, reads the precomputed');
    // The BERT group has nothing left to train.
    expect(r.ir!.groups.find((g) => g.name === 'bert')!.params).toEqual([]);
  });

  it('runs BERT when it is fine-tuned', () => {
    const r = compileWith(base);
    const enc = r.ir!.nodes.find((n) => n.id === 'encoders.text')!;
    expect(enc.type).toBe('bert');
    expect(enc.params.length).toBeGreaterThan(100);
  });

  it('runs BERT when the precomputed features come from another model', () => {
    const r = compileWith(`${base}encoders:\n  text: {type: bert, pretrained: bert-base-cased, finetune: false}\n`);
    expect(r.ir!.nodes.find((n) => n.id === 'encoders.text')!.type).toBe('bert');
  });
});
