import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/metric-names.js';
import { BASE, runRule } from '../harness.js';

describe('metric-names', () => {
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
      { code: 'MSA3026', message: "model selection metric 'Mult_acc_7' is not computed", at: '18:26', hint: 'use `loss` or one of: MAE, Corr' },
    ]);
    expect(runRule(rule, spec.replace('Mult_acc_7', 'MAE'))).toEqual([]);
    // Selection reads result keys case-insensitively at run time, so the check does too.
    expect(runRule(rule, spec.replace('Mult_acc_7', 'mae'))).toEqual([]);
  });

  it('checks the generic sets too', () => {
    expect(runRule(rule, BASE + 'train: {early_stop: {metric: RMSE}}\neval: {metrics: regression}\n')).toEqual([]);
    expect(runRule(rule, BASE + 'train: {early_stop: {metric: Has0_acc_2}}\neval: {metrics: regression}\n')).toMatchObject([{ code: 'MSA3026' }]);
  });

  it('reports an unknown name of a metric list at its place, with a suggestion', () => {
    const ds = runRule(rule, BASE + 'eval: {metrics: [MAE, Corrr, CC, nonsense_metric]}\n');
    expect(ds.map((d) => [d.code, d.message, d.text, d.hint?.split(';')[0]])).toEqual([
      ['MSA3029', "unknown metric 'Corrr'", 'Corrr', "did you mean 'Corr'?"],
      ['MSA3029', "unknown metric 'CC'", 'CC', "did you mean 'CCC'?"],
      ['MSA3029', "unknown metric 'nonsense_metric'", 'nonsense_metric', expect.stringMatching(/^known metrics: Has0_acc_2, /)],
    ]);
  });

  it('reports two metrics of one key, noting the first', () => {
    const ds = runRule(rule, BASE + "eval: {metrics: [MAE, 'sims/MAE']}\n");
    expect(ds).toMatchObject([{ code: 'MSA3038', message: "metrics 'MAE' and 'sims/MAE' both report the key 'MAE'", text: "'sims/MAE'" }]);
    expect(ds[0]!.related).toMatchObject([{ message: "'MAE' is listed here", text: 'MAE' }]);
  });
});
