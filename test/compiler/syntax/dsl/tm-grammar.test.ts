import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYWORDS } from '../../../../src/compiler/syntax/dsl/lexer.js';

interface Rule {
  match?: string;
  begin?: string;
  end?: string;
  patterns?: Rule[];
  [k: string]: unknown;
}

const grammar = JSON.parse(readFileSync(join(import.meta.dirname, '../../../../editors/mmsa.tmLanguage.json'), 'utf8')) as {
  scopeName: string;
  fileTypes: string[];
  repository: Record<string, Rule>;
};

function rules(r: Rule | undefined): Rule[] {
  if (!r) return [];
  return [r, ...(r.patterns ?? []).flatMap(rules)];
}

describe('editors/mmsa.tmLanguage.json', () => {
  it('is a TextMate grammar for .mmsa files whose patterns compile', () => {
    expect(grammar.scopeName).toBe('source.mmsa');
    expect(grammar.fileTypes).toEqual(['mmsa']);
    for (const r of Object.values(grammar.repository).flatMap(rules)) {
      for (const k of ['match', 'begin', 'end'] as const) if (r[k] !== undefined) expect(() => new RegExp(r[k]!), r[k]).not.toThrow();
    }
  });

  it('highlights every keyword of the language', () => {
    const text = JSON.stringify(grammar);
    for (const k of KEYWORDS) expect(text, k).toContain(k);
  });

  it('recognises the declaration forms', () => {
    const decl = rules(grammar.repository['declarations']).filter((r) => r.match).map((r) => new RegExp(r.match!));
    const head = decl.find((re) => re.test('  head M: regression on fusion {'))!;
    expect('  head M: regression on fusion {'.match(head)?.slice(1)).toEqual(['head', 'M', ':', 'regression', 'on', 'fusion']);
    expect(decl.some((re) => re.test('  encoder text: bert { finetune true }'))).toBe(true);
    const fusion = new RegExp(grammar.repository['declarations']!.patterns!.find((r) => r.begin)!.begin!);
    expect(fusion.test('  fusion concat(text, audio)')).toBe(true);
  });
});
