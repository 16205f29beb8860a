import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/unique-names.js';
import { BASE, runRule } from '../harness.js';

describe('unique-names', () => {
  it('accepts encoders sharing their modality key and distinct head keys', () => {
    expect(runRule(rule, BASE)).toEqual([]);
  });

  it('reports a head named like an encoder, with a note at the encoder', () => {
    const ds = runRule(rule, BASE.replace('  M: {type', '  audio: {type: regression, input: audio}\n  M: {type'));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: 'MSA3022', message: "'audio' names both a head and an encoder", at: '15:3', text: 'audio' });
    expect(ds[0]!.related).toEqual([{ message: "encoder 'audio' is declared here", at: '9:3', text: 'audio' }]);
  });

  it('reports a head named like a modality without an encoder of that key', () => {
    const spec = BASE.replace('  audio: {type: lstm, hidden: 16}', '  a_enc: {type: lstm, hidden: 16, modality: audio}').replace('  M: {type', '  audio: {type: regression, input: a_enc}\n  M: {type');
    expect(runRule(rule, spec)).toMatchObject([{ code: 'MSA3022', message: "'audio' names both a head and a modality", at: '15:3' }]);
  });

  it("reports a head called 'fusion'", () => {
    const ds = runRule(rule, BASE.replace('  M: {type', '  fusion: {type: regression, input: text}\n  M: {type'));
    expect(ds).toMatchObject([{ code: 'MSA3022', message: "'fusion' names both a head and the fusion node", at: '15:3' }]);
    expect(ds[0]!.related[0]).toMatchObject({ at: '11:1' });
  });
});
