import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/task-targets.js';
import { BASE, runRule } from '../harness.js';

describe('task-targets', () => {
  it('accepts targets the dataset labels', () => {
    expect(runRule(rule, BASE)).toEqual([]);
  });

  it('reports an unknown target at the value, listing the labels', () => {
    const ds = runRule(rule, BASE.replace('{type: l1, head: M}', '{type: l1, head: M, target: T}'));
    expect(ds).toEqual([
      expect.objectContaining({
        code: 'MSA3015',
        message: "task 'main' trains on label 'T', which dataset 'mosi' does not provide",
        at: '17:37',
        text: 'T',
        hint: "labels available: 'M'",
      }),
    ]);
  });

  it('reports a defaulted target at the task key', () => {
    const ds = runRule(rule, BASE, { labels: { M_label: 'regression_labels', T: 'regression_labels_T' } });
    expect(ds).toMatchObject([{ code: 'MSA3015', at: '17:3', text: 'main', hint: "labels available: 'M_label', 'T'" }]);
  });

  it('suggests a close label name', () => {
    const ds = runRule(rule, BASE.replace('head: M}', 'head: M, target: sentimnet}'), { labels: { sentiment: 'y' } });
    expect(ds[0]!.hint).toBe("did you mean 'sentiment'?; labels available: 'sentiment'");
  });

  it('is skipped without a dataset', () => {
    expect(runRule(rule, BASE.replace('head: M}', 'head: M, target: Q}'), null)).toEqual([]);
  });
});
