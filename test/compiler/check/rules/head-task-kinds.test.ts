import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/head-task-kinds.js';
import { BASE, runRule } from '../harness.js';

describe('head-task-kinds', () => {
  it('accepts an l1 task on a regression head', () => {
    expect(runRule(rule, BASE)).toEqual([]);
  });

  it('reports cross_entropy on a regression head at the task head value', () => {
    const ds = runRule(rule, BASE.replace('main: {type: l1, head: M}', 'main: {type: cross_entropy, head: M}'));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: 'MSA3020', message: "task 'main' (cross_entropy) needs a classification head, but 'M' is a regression head", at: '17:37' });
    expect(ds[0]!.related).toEqual([{ message: "head 'M' is declared as regression here", at: '15:13', text: 'regression' }]);
  });

  it('reports mse on a classification head', () => {
    const spec = BASE.replace('M: {type: regression, input: fusion, hidden: [32]}', 'M: {type: classification, input: fusion, num_classes: 3}').replace('type: l1', 'type: mse');
    expect(runRule(rule, spec)).toMatchObject([{ code: 'MSA3020', message: "task 'main' (mse) needs a regression head, but 'M' is a classification head", at: '17:27' }]);
  });

  it('warns about a head no task trains', () => {
    const ds = runRule(rule, BASE.replace('  M: {type', '  T: {type: regression, input: text}\n  M: {type'));
    expect(ds).toMatchObject([{ code: 'MSA3017', severity: 'warning', message: "head 'T' has no task, so it is never trained", at: '15:3', text: 'T' }]);
  });

  it('counts ulgm heads as trained and checks them', () => {
    const spec = BASE.replace('  M: {type', '  T: {type: classification, input: text, num_classes: 2}\n  M: {type') + '  self: {type: ulgm, fusion_head: M, heads: {text: T}}\n';
    expect(runRule(rule, spec).map((d) => [d.code, d.message, d.at])).toEqual([
      ['MSA3020', "task 'self' (ulgm) needs a regression head, but 'T' is a classification head", '19:52'],
    ]);
  });
});
