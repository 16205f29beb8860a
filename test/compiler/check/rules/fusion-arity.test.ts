import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/fusion-arity.js';
import { BASE, runRule } from '../harness.js';

describe('fusion-arity', () => {
  it('accepts three vector inputs to late fusion', () => {
    expect(runRule(rule, BASE)).toEqual([]);
  });

  it('reports too few inputs at the list, noting each modality left out', () => {
    const ds = runRule(rule, BASE.replace('  type: late\n  inputs: [text, audio, vision]', '  type: low_rank\n  rank: 4\n  inputs: [text]'));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({
      code: 'MSA3004',
      message: "fusion 'low_rank' expects at least 2 inputs, got 1",
      at: '14:11',
      text: '[text]',
      hint: "add 'audio', 'vision' to inputs, or use a fusion that takes 1 input (concat, early, late, mfm, mfn, transformer)",
    });
    expect(ds[0]!.related).toEqual([
      { message: "modality 'audio' is declared here but not used", at: '5:3', text: 'audio' },
      { message: "modality 'vision' is declared here but not used", at: '6:3', text: 'vision' },
    ]);
  });

  it('reports a sequence into a vector fusion at the input item', () => {
    const ds = runRule(rule, BASE.replace('text: {type: precomputed}', 'text: {type: precomputed, select: sequence}'));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({
      code: 'MSA3005',
      message: "fusion 'late' needs vector inputs; 'text' gives a sequence",
      at: '13:12',
      text: 'text',
      hint: 'set `select: cls`, `mean` or `last` on the encoder',
    });
    expect(ds[0]!.related).toEqual([{ message: "encoder 'text' (precomputed) outputs a sequence", at: '8:16', text: 'precomputed' }]);
  });

  it('reports vectors into early fusion', () => {
    const spec = BASE.replace('text: {type: precomputed}', 'text: {type: precomputed, select: sequence}').replace('  type: late\n', '  type: early\n  hidden: 8\n');
    expect(runRule(rule, spec).map((d) => [d.code, d.message, d.at])).toEqual([
      ['MSA3005', "fusion 'early' needs sequence inputs; 'audio' gives a vector", '14:18'],
      ['MSA3005', "fusion 'early' needs sequence inputs; 'vision' gives a vector", '14:25'],
    ]);
  });
});
