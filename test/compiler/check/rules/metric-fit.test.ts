import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/metric-fit.js';
import { BASE, runRule } from '../harness.js';

describe('metric-fit', () => {
  it('accepts the dataset set on a regression head', () => {
    expect(runRule(rule, BASE)).toEqual([]);
    expect(runRule(rule, `${BASE}eval: {metrics: mosi}\n`)).toEqual([]);
  });

  it('warns when a set assumes another label scale', () => {
    const ds = runRule(rule, `${BASE}eval: {metrics: sims}\n`);
    expect(ds).toMatchObject([
      {
        code: 'MSA3021',
        severity: 'warning',
        message: "metric set 'sims' is meant for labels in [-1, 1], but the dataset's labels are in [-3, 3]",
        at: '18:17',
        text: 'sims',
      },
    ]);
  });

  it('warns when a regression set scores class labels', () => {
    const ds = runRule(rule, `${BASE}eval: {metrics: mosi}\n`, { task: 'classification', numClasses: 2 });
    expect(ds).toMatchObject([{ code: 'MSA3021', message: "metric set 'mosi' is meant for regression labels in [-3, 3], but the dataset's labels are classes (2)" }]);
  });

  it('reports classification metrics on a regression head once', () => {
    const ds = runRule(rule, `${BASE}eval: {metrics: [accuracy, macro_F1, MAE]}\n`);
    expect(ds).toMatchObject([{ code: 'MSA3025', message: "eval metric 'accuracy' does not fit head 'M' (regression)", at: '18:17' }]);
  });

  it('reports regression metrics on a classification head', () => {
    const spec = BASE.replace('M: {type: regression, input: fusion, hidden: [32]}', 'M: {type: classification, num_classes: 3, input: fusion}')
      .replace('{type: l1, head: M}', '{type: cross_entropy, head: M}');
    const ds = runRule(rule, `${spec}eval: {metrics: mosi}\n`, { task: 'classification', numClasses: 3 });
    expect(ds.map((d) => d.code)).toEqual(['MSA3021', 'MSA3025']);
    expect(ds[1]!.message).toBe("eval metric 'Has0_acc_2' does not fit head 'M' (classification)");
  });
});
