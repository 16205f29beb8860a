// The error-code catalog (core/messages.ts) is complete and honest: every code written anywhere in src/ or the native
// kernels is in it, every catalogued code is used, runtime codes sit in the runtime ranges, and no two entries share a
// meaning. (Which 1xxx-4xxx codes broken specs produce is test/compiler/broken-specs.test.ts's job.)

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MESSAGES, RUNTIME_CODES, codeMeaning, isErrorCode } from '../../src/core/messages.js';
import { MmsaError } from '../../src/errors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(join(root, dir)).flatMap((f) => {
    const rel = join(dir, f);
    return statSync(join(root, rel)).isDirectory() ? files(rel, ext) : ext.test(f) ? [rel] : [];
  });
}

const sources = [...files('src', /\.tsx?$/), ...files('native/src', /\.[ch]$/)].filter((f) => !f.endsWith('core/messages.ts'));
const used = new Map<string, string[]>();
for (const f of sources) {
  for (const m of readFileSync(join(root, f), 'utf8').matchAll(/\bMSA\d{4}\b/g)) used.set(m[0], [...(used.get(m[0]) ?? []), f]);
}

describe('error-code catalog', () => {
  it('knows every code the sources use', () => {
    const unknown = [...used.keys()].filter((c) => !isErrorCode(c)).map((c) => `${c} in ${used.get(c)!.join(', ')}`);
    expect(unknown).toEqual([]);
  });

  it('lists no code that nothing uses', () => {
    // Diagnostics are emitted through the bag by code literals too; the DSL and fallbacks are covered by name.
    const all = [...Object.keys(MESSAGES), ...Object.keys(RUNTIME_CODES)];
    expect(all.filter((c) => !used.has(c))).toEqual([]);
  });

  it('puts compiler diagnostics in 1xxx-5xxx and runtime errors in 5xxx-6xxx, each code once', () => {
    // Message templates: compiler diagnostics, and the memory plan's checks before training (69xx).
    for (const c of Object.keys(MESSAGES)) expect(c, c).toMatch(/^MSA([1-5]\d{3}|69\d{2})$/);
    for (const c of Object.keys(RUNTIME_CODES)) expect(c, c).toMatch(/^MSA[56]\d{3}$/);
    expect(Object.keys(MESSAGES).filter((c) => c in RUNTIME_CODES)).toEqual([]);
  });

  it('gives every runtime code its own meaning', () => {
    const meanings = Object.values(RUNTIME_CODES).map((e) => e.meaning);
    expect(new Set(meanings).size).toBe(meanings.length);
    expect(codeMeaning('MSA6703')).toMatch(/label/);
    expect(codeMeaning('MSA3029')).toBe("unknown metric '{name}'");
  });

  it('MmsaError takes only catalogued codes', () => {
    expect(new MmsaError('MSA6712', 'x').code).toBe('MSA6712');
    // @ts-expect-error a code outside the catalog does not type-check
    void new MmsaError('MSA6999', 'x');
  });
});
