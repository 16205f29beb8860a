import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/refs-resolve.js';
import { BASE, runRule, yaml } from '../harness.js';

describe('refs-resolve', () => {
  it('accepts a spec whose references all resolve', () => {
    expect(runRule(rule, BASE)).toEqual([]);
  });

  it('accepts a modality name where its encoder has another key', () => {
    const spec = BASE.replace('  audio: {type: lstm, hidden: 16}', '  audio_enc: {type: lstm, hidden: 16, modality: audio}');
    expect(runRule(rule, spec)).toEqual([]);
  });

  it('reports an undeclared fusion input with a suggestion and the declarations', () => {
    const [d, ...rest] = runRule(rule, BASE.replace('inputs: [text, audio, vision]', 'inputs: [text, audoi, vision]'));
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ code: 'MSA3001', message: "encoder 'audoi' is not declared", at: '13:18', text: 'audoi', hint: "did you mean 'audio'?" });
    expect(d!.related).toEqual([{ message: 'encoders are declared here', at: '7:1', text: 'encoders' }]);
  });

  it('reports a fusion reading a head as a cycle', () => {
    const [d] = runRule(rule, BASE.replace('inputs: [text, audio, vision]', 'inputs: [text, audio, M]'));
    expect(d).toMatchObject({ code: 'MSA3023', message: "fusion 'late' reads 'M', which would make a cycle", at: '13:25' });
    expect(d!.related[0]).toMatchObject({ message: "head 'M' is declared here", at: '15:3' });
  });

  it('reports a head reading a head (MSA3023)', () => {
    const spec = BASE.replace('  M: {type: regression, input: fusion, hidden: [32]}\n', '  M: {type: regression, input: fusion, hidden: [32]}\n  T: {type: regression, input: M}\n');
    const ds = runRule(rule, spec);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: 'MSA3023', message: "head 'T' reads 'M', which would make a cycle", at: '16:32', text: 'M' });
  });

  it("reports a head reading 'fusion' when there is no fusion", () => {
    const spec = yaml`
      version: 1
      dataset: mosi
      modalities: {text: {feature: text}}
      encoders: {text: {type: precomputed}}
      heads:
        M: {type: regression, input: fusion}
      tasks: {main: {type: l1, head: M}}
    `;
    expect(runRule(rule, spec)).toMatchObject([
      { code: 'MSA3001', message: "node 'fusion' is not declared", at: '6:32', hint: 'declare a `fusion:` section, or read an encoder' },
    ]);
  });

  it('reports an undeclared task head, ulgm heads and eval head', () => {
    const spec = BASE.replace('main: {type: l1, head: M}', 'main: {type: l1, head: N}') +
      '  self: {type: ulgm, fusion_head: M, heads: {text: Tx}}\neval: {head: X}\n';
    const ds = runRule(rule, spec);
    expect(ds.map((d) => [d.code, d.message, d.at, d.hint])).toEqual([
      ['MSA3001', "head 'N' is not declared", '17:26', "did you mean 'M'?"],
      ['MSA3001', "head 'Tx' is not declared", '18:52', "heads declared: 'M'"],
      ['MSA3001', "head 'X' is not declared", '19:14', "did you mean 'M'?"],
    ]);
    expect(ds[0]!.related).toEqual([{ message: 'heads are declared here', at: '14:1', text: 'heads' }]);
  });

  it("reports an encoder's undeclared modality at `modality:` or at the encoder key", () => {
    const spec = BASE.replace('  audio: {type: lstm, hidden: 16}', '  audio: {type: lstm, hidden: 16, modality: adio}')
      .replace('  vision: {type: lstm, hidden: 16}\n', '  vision: {type: lstm, hidden: 16}\n  speech: {type: lstm, hidden: 8}\n');
    const ds = runRule(rule, spec);
    expect(ds.map((d) => [d.code, d.message, d.at, d.text])).toEqual([
      ['MSA3003', "encoder 'audio' reads modality 'adio', which is not declared", '9:45', 'adio'],
      ['MSA3003', "encoder 'speech' reads modality 'speech', which is not declared", '11:3', 'speech'],
    ]);
    expect(ds[0]!.hint).toBe("did you mean 'audio'?");
    expect(ds[1]!.hint).toContain('an encoder reads the modality with its own key unless `modality:` names another');
  });

  it('reports parameter-group selectors naming no node', () => {
    const spec = BASE + yaml`
      train:
        optimizer:
          groups:
            - {name: a, params: ['encoders.audoi:weight', 'heads.*', '*']}
    `;
    const ds = runRule(rule, spec);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({
      code: 'MSA3001',
      message: "parameter group node 'encoders.audoi' is not declared",
      at: '21:28',
      text: "'encoders.audoi:weight'",
      hint: "did you mean 'encoders.audio'?",
    });
  });
});
