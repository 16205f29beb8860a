import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/param-groups-cover.js';
import { BASE, runRule, yaml } from '../harness.js';

const groups = (...lines: string[]) => BASE + 'train:\n  optimizer:\n    groups:\n' + lines.map((l) => `      - ${l}\n`).join('');

describe('param-groups-cover', () => {
  it('accepts no groups (one implicit group) and a covering set', () => {
    expect(runRule(rule, BASE)).toEqual([]);
    expect(runRule(rule, groups("{name: enc, params: ['encoders.*'], no_decay: [bias]}", "{name: rest, params: ['*']}"))).toEqual([]);
    expect(runRule(rule, groups("{name: ih, params: ['encoders.audio:weight_ih', 'encoders.vision']}", "{name: rest, params: ['*']}"))).toEqual([]);
  });

  it('reports a parameter selected by two groups, once per node, at the second selector', () => {
    const ds = runRule(rule, groups("{name: a, params: ['encoders.audio']}", "{name: b, params: ['encoders.*']}", "{name: rest, params: ['*']}"));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({
      code: 'MSA3009',
      message: "parameter 'encoders.audio.lstm.weight_ih_l0' is selected by parameter groups 'a' and 'b'",
      at: '22:28',
      text: "'encoders.*'",
    });
    expect(ds[0]!.hint).toMatch(/; 3 more parameters of 'encoders.audio' are in both too$/);
    expect(ds[0]!.related).toEqual([{ message: "group 'a' selects it here", at: '21:28', text: "'encoders.audio'" }]);
  });

  it('reports uncovered parameters in one diagnostic per node', () => {
    const ds = runRule(rule, groups("{name: enc, params: ['encoders.*']}"));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: 'MSA3010', message: "parameter 'heads.M.layers.0.weight' is in no parameter group", at: '20:5', text: 'groups' });
    expect(ds[0]!.hint).toMatch(/^3 more parameters of 'heads.M' are in no group either; add a group for 'heads.M'/);
    expect(ds[0]!.related).toEqual([{ message: "'heads.M' is declared here", at: '15:3', text: 'M' }]);
  });

  it('reports selectors that match nothing', () => {
    const ds = runRule(rule, groups("{name: f, params: [fusion, 'heads.M:gamma']}", "{name: rest, params: ['*']}"));
    expect(ds.map((d) => [d.code, d.message, d.at])).toEqual([
      ['MSA3011', "parameter group selector 'fusion' matches no parameter", '21:28'],
      ['MSA3011', "parameter group selector 'heads.M:gamma' matches no parameter", '21:36'],
    ]);
    expect(ds[0]!.hint).toBe("'fusion' has no parameters; remove the selector");
    expect(ds[1]!.hint).toMatch(/^no parameter of 'heads.M' contains 'gamma'; local names: 'layers.0.weight'/);
  });

  it('reports a `*` group left with nothing', () => {
    const spec = BASE + yaml`
      train:
        optimizer:
          groups:
            - {name: all, params: ['encoders.*', 'heads.*']}
            - {name: rest, params: ['*']}
    `;
    expect(runRule(rule, spec)).toMatchObject([{ code: 'MSA3011', message: "parameter group selector '*' matches no parameter", at: '22:31' }]);
  });
});
