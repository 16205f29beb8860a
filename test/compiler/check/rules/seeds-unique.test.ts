import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/seeds-unique.js';
import { BASE, runRule } from '../harness.js';

describe('seeds-unique', () => {
  it('accepts distinct seeds in range (and the default seeds)', () => {
    expect(runRule(rule, BASE)).toEqual([]);
    expect(runRule(rule, BASE + 'seeds: [0, 1111, 4294967295]\n')).toEqual([]);
  });

  it('reports a repeated seed at its second occurrence with a note at the first', () => {
    const ds = runRule(rule, BASE + 'seeds: [1111, 1112, 1111]\n');
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: 'MSA3013', message: 'seed 1111 appears more than once', at: '18:21', text: '1111' });
    expect(ds[0]!.related).toEqual([{ message: 'seed 1111 first appears here', at: '18:9', text: '1111' }]);
  });

  it('reports seeds out of range', () => {
    expect(runRule(rule, BASE + 'seeds: [-1, 4294967296]\n').map((d) => [d.code, d.message, d.at])).toEqual([
      ['MSA3014', 'seed -1 is out of range', '18:9'],
      ['MSA3014', 'seed 4294967296 is out of range', '18:13'],
    ]);
  });
});
