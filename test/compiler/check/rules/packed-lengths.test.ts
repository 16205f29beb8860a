import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/packed-lengths.js';
import { BASE, runRule } from '../harness.js';

describe('packed-lengths', () => {
  it('accepts packing where the dataset has lengths (explicit or defaulted)', () => {
    expect(runRule(rule, BASE)).toEqual([]);
    expect(runRule(rule, BASE.replace('audio: {type: lstm, hidden: 16}', 'audio: {type: lstm, hidden: 16, packed: true}'))).toEqual([]);
  });

  it('accepts an unpacked encoder on a feature without lengths', () => {
    expect(runRule(rule, BASE.replace('text: {type: precomputed}', 'text: {type: lstm, hidden: 8, packed: false}'))).toEqual([]);
    expect(runRule(rule, BASE.replace('text: {type: precomputed}', 'text: {type: gru, hidden: 8}'))).toEqual([]);
  });

  it('reports packed: true on a feature the dataset gives no lengths', () => {
    const ds = runRule(rule, BASE.replace('text: {type: precomputed}', 'text: {type: lstm, hidden: 8, packed: true}'));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: 'MSA3018', message: "encoder 'text' packs sequences by length, but modality 'text' has no lengths", at: '8:41', text: 'true' });
    expect(ds[0]!.related).toEqual([{ message: "modality 'text' reads feature 'text', which has no lengths in dataset 'mosi'", at: '4:3', text: 'text' }]);
  });

  it('reports packed: true on a modality with lengths: null, noting the null', () => {
    const spec = BASE.replace('audio: {feature: audio}', 'audio: {feature: audio, lengths: null}').replace('audio: {type: lstm, hidden: 16}', 'audio: {type: gru, hidden: 16, packed: true}');
    const ds = runRule(rule, spec);
    expect(ds).toMatchObject([{ code: 'MSA3018', message: "encoder 'audio' packs sequences by length, but modality 'audio' has no lengths", at: '9:42' }]);
    expect(ds[0]!.related).toEqual([{ message: "modality 'audio' sets `lengths: null` here", at: '5:36', text: 'null' }]);
  });
});
