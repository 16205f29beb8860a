import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/no-test-selection.js';
import { BASE, runRule, yaml } from '../harness.js';

describe('no-test-selection', () => {
  it('accepts selection on the validation split', () => {
    expect(runRule(rule, BASE + 'train: {early_stop: {split: valid}, select: {split: train}}\n')).toEqual([]);
  });

  it('reports early stopping on test once, even though select copies it', () => {
    const ds = runRule(rule, BASE + 'train:\n  early_stop: {split: test}\n');
    expect(ds).toEqual([
      expect.objectContaining({ code: 'MSA3012', message: 'early stopping (`train.early_stop.split`) reads the test split', at: '19:23', text: 'test' }),
    ]);
  });

  it('reports model selection on test at the value', () => {
    const spec = BASE + yaml`
      train:
        select:
          metric: loss
          split: test
    `;
    expect(runRule(rule, spec)).toMatchObject([{ code: 'MSA3012', message: 'model selection (`train.select.split`) reads the test split', at: '21:12' }]);
  });
});
