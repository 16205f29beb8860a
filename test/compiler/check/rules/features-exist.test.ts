import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/features-exist.js';
import { BASE, runRule } from '../harness.js';

describe('features-exist', () => {
  it('accepts features the dataset has', () => {
    expect(runRule(rule, BASE)).toEqual([]);
  });

  it('reports a missing feature at the value with a suggestion and the list', () => {
    expect(runRule(rule, BASE.replace('audio: {feature: audio}', 'audio: {feature: audi}'))).toEqual([
      expect.objectContaining({
        code: 'MSA3019',
        message: "dataset 'mosi' has no feature 'audi'",
        at: '5:20',
        text: 'audi',
        hint: "did you mean 'audio'?; features available: 'text', 'text_bert', 'audio', 'vision'",
      }),
    ]);
  });

  it('lists the features when nothing is close', () => {
    const [d] = runRule(rule, BASE.replace('vision: {feature: vision}', 'vision: {feature: facet42}'));
    expect(d).toMatchObject({ at: '6:21', hint: "features available: 'text', 'text_bert', 'audio', 'vision'" });
  });

  it('is skipped without a dataset', () => {
    expect(runRule(rule, BASE.replace('audio: {feature: audio}', 'audio: {feature: audi}'), null)).toEqual([]);
  });
});
