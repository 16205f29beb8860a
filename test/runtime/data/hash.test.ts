import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MmsaError } from '../../../src/errors.js';
import { sha256File } from '../../../src/runtime/data/hash.js';
import { fixture } from './data-test-helpers.js';

describe('sha256File', () => {
  it('equals the one-shot digest and reports monotone progress up to the size', async () => {
    const f = fixture('sims_quirks.p2.pkl');
    const want = createHash('sha256').update(readFileSync(f)).digest('hex');
    const seen: number[] = [];
    let total = 0;
    expect(await sha256File(f, (d, t) => { seen.push(d); total = t; })).toBe(want);
    expect(total).toBe(readFileSync(f).length);
    expect(seen.at(-1)).toBe(total);
    expect(seen.every((x, i) => i === 0 || x >= seen[i - 1]!)).toBe(true);
  });

  it('a missing file is an MmsaError naming it', async () => {
    await expect(sha256File('/nonexistent/x.pkl')).rejects.toBeInstanceOf(MmsaError);
    await expect(sha256File('/nonexistent/x.pkl')).rejects.toThrow('/nonexistent/x.pkl');
  });
});
