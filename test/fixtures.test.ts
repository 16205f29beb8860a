// The fixtures under test/fixtures/pickles and test/fixtures/golden are the files made by CPython, numpy and MMSA's
// own code; they must stay byte-identical to what was received (SHA256SUMS), or the golden values mean nothing.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const sums = new Map(
  readFileSync(join(dir, 'SHA256SUMS'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [hash, file] = line.split(/\s+\*?/);
      return [file!, hash!] as const;
    }),
);

describe('test fixtures', () => {
  it('every file of pickles/ and golden/ is listed in SHA256SUMS and matches it', () => {
    const files = ['pickles', 'golden'].flatMap((d) => readdirSync(join(dir, d)).map((f) => `${d}/${f}`)).sort();
    expect(files).toEqual([...sums.keys()].sort());
    for (const f of files) {
      const got = createHash('sha256').update(readFileSync(join(dir, f))).digest('hex');
      expect(got, f).toBe(sums.get(f));
    }
  });
});
