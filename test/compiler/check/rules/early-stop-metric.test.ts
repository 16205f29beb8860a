import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/early-stop-metric.js';
import { BASE, runRule } from '../harness.js';

describe('early-stop-metric', () => {
  it('accepts loss and metrics of the dataset set', () => {
    expect(runRule(rule, BASE)).toEqual([]);
    expect(runRule(rule, BASE + 'train: {early_stop: {metric: Has0_acc_2}, select: {metric: Corr}}\n')).toEqual([]);
    expect(runRule(rule, BASE + 'train: {early_stop: {metric: F1_score}}\n', { metrics: 'sims' })).toEqual([]);
  });

  it('reports a metric the set does not compute, once, with a suggestion', () => {
    const ds = runRule(rule, BASE + 'train: {early_stop: {metric: Has0_acc2}}\n');
    expect(ds).toEqual([
      expect.objectContaining({
        code: 'MSA3026',
        message: "early stopping metric 'Has0_acc2' is not computed",
        at: '18:30',
        text: 'Has0_acc2',
        hint: "did you mean 'Has0_acc_2'?; use `loss` or one of: Has0_acc_2, Has0_F1_score, Non0_acc_2, Non0_F1_score, Mult_acc_5, Mult_acc_7, MAE, Corr",
      }),
    ]);
  });

  it('uses eval.metrics over the dataset set, and checks a written select metric', () => {
    const spec = BASE + "train: {select: {metric: Mult_acc_7}}\neval: {metrics: ['sims/MAE', Corr]}\n";
    expect(runRule(rule, spec)).toMatchObject([
      { code: 'MSA3026', message: "model selection metric 'Mult_acc_7' is not computed", at: '18:26', hint: 'use `loss` or one of: sims/MAE, MAE, Corr' },
    ]);
    expect(runRule(rule, spec.replace('Mult_acc_7', 'MAE'))).toEqual([]);
  });
});
