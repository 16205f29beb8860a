import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/bert-tokens.js';
import { BASE, runRule } from '../harness.js';

describe('bert-tokens', () => {
  it('accepts BERT over text_bert token ids', () => {
    const spec = BASE.replace('text: {feature: text}', 'text: {feature: text_bert}').replace('text: {type: precomputed}', 'text: {type: bert}');
    expect(runRule(rule, spec)).toEqual([]);
  });

  it('reports BERT over float features at the encoder type, noting the feature', () => {
    const ds = runRule(rule, BASE.replace('text: {type: precomputed}', 'text: {type: bert}'));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({
      code: 'MSA3027',
      message: "BERT encoder 'text' needs token ids, but feature 'text' holds float features of shape [50, 768]",
      at: '8:16',
      text: 'bert',
    });
    expect(ds[0]!.related).toEqual([{ message: "modality 'text' reads feature 'text' here", at: '4:19', text: 'text' }]);
  });

  it('reports int features of the wrong shape', () => {
    const spec = BASE.replace('text: {feature: text}', 'text: {feature: text_bert}').replace('text: {type: precomputed}', 'text: {type: bert}');
    const ds = runRule(rule, spec, { features: { text_bert: { key: 'text_bert', shape: [50], dtype: 'int' } } });
    expect(ds).toMatchObject([{ code: 'MSA3027', message: "BERT encoder 'text' needs token ids, but feature 'text_bert' holds int features of shape [50]" }]);
  });
});
