import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/class-count.js';
import { BASE, runRule } from '../harness.js';

const CLS = BASE.replace('M: {type: regression, input: fusion, hidden: [32]}', 'M: {type: classification, num_classes: 3, input: fusion}').replace(
  '{type: l1, head: M}',
  '{type: cross_entropy, head: M}',
);

describe('class-count', () => {
  it('accepts a head with the dataset class count', () => {
    expect(runRule(rule, CLS, { task: 'classification', numClasses: 3 })).toEqual([]);
  });
  it('is skipped for regression datasets', () => {
    expect(runRule(rule, CLS)).toEqual([]);
  });
  it('reports a mismatch at num_classes', () => {
    const ds = runRule(rule, CLS, { task: 'classification', numClasses: 2, name: 'humor' });
    expect(ds).toMatchObject([
      { code: 'MSA3028', message: "head 'M' outputs 3 classes, but dataset 'humor' has 2", text: '3', hint: 'set `num_classes: 2` on the head' },
    ]);
  });
});
