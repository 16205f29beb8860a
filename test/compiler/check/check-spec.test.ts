import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkSpec } from '../../../src/compiler/check/check-spec.js';
import { ALL_RULES } from '../../../src/compiler/check/rules/index.js';
import { BASE, ruleContextFromYaml, show, yaml } from './harness.js';

const RULES_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../src/compiler/check/rules');

describe('checkSpec', () => {
  it('lists every rule file once, with ids equal to file names', () => {
    const files = readdirSync(RULES_DIR).filter((f) => f.endsWith('.ts') && f !== 'index.ts').map((f) => f.slice(0, -3)).sort();
    expect(ALL_RULES.map((r) => r.id).sort()).toEqual(files);
  });

  it('gives no diagnostics for a valid spec', () => {
    const ctx = ruleContextFromYaml(BASE);
    expect(checkSpec({ spec: ctx.spec, tree: ctx.tree, dataset: ctx.dataset })).toEqual([]);
  });

  it("returns every rule's diagnostics and forwards them to the caller's report", () => {
    const ctx = ruleContextFromYaml(BASE.replace('head: M}', 'head: N}') + 'seeds: [1, 1]\n');
    const out = checkSpec(ctx);
    expect(out.map((d) => d.code).sort()).toEqual(['MSA3001', 'MSA3013', 'MSA3017']);
    expect(ctx.diagnostics).toEqual(out);
  });

  it('does not throw on odd but schema-shaped specs', () => {
    const specs = [
      yaml`
        version: 1
        dataset: mosi
        modalities: {constructor: {feature: toString}}
        encoders: {__proto__: {type: lstm, hidden: 4, packed: true}, bert_enc: {type: bert, modality: constructor}, hasOwnProperty: {type: bert}}
        fusion: {type: tensor, inputs: [constructor, toString, fusion]}
        heads: {valueOf: {type: regression, input: valueOf}}
        tasks: {t: {type: ulgm, fusion_head: toString, heads: {constructor: valueOf}}}
        train: {optimizer: {groups: [{name: g, params: ['*', 'constructor.*:x', fusion]}, {name: h, params: ['*']}]}}
        eval: {head: constructor, metrics: [x]}
      `,
      yaml`
        version: 1
        dataset: mosi
        modalities: {text: {feature: text}}
        heads: {M: {type: classification, input: text, num_classes: 2, passthrough: true}}
        tasks: {u: {type: ulgm, fusion_head: M, heads: {text: M}}}
      `,
    ];
    for (const s of specs) {
      for (const dataset of [undefined, null]) {
        const ctx = ruleContextFromYaml(s, dataset);
        expect(() => checkSpec(ctx)).not.toThrow();
        expect(ctx.diagnostics.length).toBeGreaterThan(0);
        ctx.diagnostics.forEach((d) => show(ctx.file, d));
      }
    }
  });
});
