import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/component-checks.js';
import { BASE, runRule } from '../../../compiler/check/harness.js';

const M_HEAD = 'M: {type: regression, input: fusion, hidden: [32]}';
const MAIN_TASK = 'main: {type: l1, head: M}';

/**
 * The harness's BASE spec made Self-MM: concat fusion, a unimodal head per modality, and a ULGM task. Lines are added
 * after BASE's, so BASE's positions hold and the ULGM task starts at line 21.
 */
const SELF_MM = BASE.replace('type: late', 'type: concat')
  .replace(M_HEAD, [M_HEAD, '  T: {type: regression, input: text, hidden: [8]}', '  A: {type: regression, input: audio, hidden: [8]}', '  V: {type: regression, input: vision, hidden: [8]}'].join('\n'))
  .replace(MAIN_TASK, [MAIN_TASK, '  self:', '    type: ulgm', '    fusion_head: M', '    heads: {text: T, audio: A, vision: V}'].join('\n'));

describe('ulgm check (component-checks rule)', () => {
  it("accepts Self-MM's layout", () => {
    expect(runRule(rule, SELF_MM)).toEqual([]);
  });

  it('reports a fused modality with no unimodal head, noting the modality', () => {
    const ds = runRule(rule, SELF_MM.replace('{text: T, audio: A, vision: V}', '{text: T, audio: A}'));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: 'MSA3007', message: "ulgm names modality 'vision' but no head for it", at: '24:12', text: '{text: T, audio: A}' });
    expect(ds[0]!.related).toEqual([{ message: "modality 'vision' is declared here", at: '6:3', text: 'vision' }]);
  });

  it('reports an undeclared modality key with a suggestion', () => {
    const ds = runRule(rule, SELF_MM.replace('{text: T, audio: A, vision: V}', '{text: T, audio: A, vison: V}'));
    expect(ds.map((d) => [d.code, d.message, d.at, d.hint])).toEqual([
      ['MSA3001', "modality 'vison' is not declared", '24:32', "did you mean 'vision'?"],
      ['MSA3007', "ulgm names modality 'vision' but no head for it", '24:12', expect.any(String)],
    ]);
  });

  it('reports a classification fusion head at its type', () => {
    const ds = runRule(rule, SELF_MM.replace(M_HEAD, 'M: {type: classification, input: fusion, hidden: [32], num_classes: 3}'));
    expect(ds).toMatchObject([
      { code: 'MSA3008', message: "ulgm's fusion head 'M' is a classification head; ulgm needs a regression head", at: '15:13', text: 'classification' },
    ]);
    expect(ds[0]!.related).toEqual([{ message: "named as the fusion head of ulgm task 'self' here", at: '23:18', text: 'M' }]);
  });

  it('reports a fusion head that does not read fusion and has no hidden layer', () => {
    const ds = runRule(rule, SELF_MM.replace(M_HEAD, 'M: {type: regression, input: text}'));
    expect(ds.map((d) => [d.code, d.message, d.at])).toEqual([
      ['MSA3008', "ulgm's fusion head 'M' reads 'text'; it must read 'fusion'", '15:32'],
      ['MSA3008', "ulgm's fusion head 'M' has no hidden layer; its first hidden activation is the fusion feature ULGM needs", '15:3'],
    ]);
  });

  it('reports a written empty hidden list at the list', () => {
    const ds = runRule(rule, SELF_MM.replace('hidden: [32]', 'hidden: []'));
    expect(ds).toMatchObject([{ code: 'MSA3008', at: '15:48', text: '[]' }]);
  });
});
