// MmsaError messages are printable and bounded whatever they quote: control characters and bidi overrides escaped,
// line breaks kept, at most MAX_MESSAGE_CHARS characters with the rest counted. Ground floor (all runtime phases).

import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_CHARS, MmsaError, printable } from '../src/errors.js';

describe('MmsaError text', () => {
  it('escapes terminal controls and bidi overrides but keeps line breaks', () => {
    const e = new MmsaError('MSA6799', 'key \u001b[2J\u001b]0;x\u0007 and \u202eevil\nnext line', { hint: 'fix \u009b31m' });
    expect(e.message).toBe('key \\x1b[2J\\x1b]0;x\\x07 and \\u202eevil\nnext line');
    expect(e.hint).toBe('fix \\x9b31m');
  });

  it(`keeps a message of ${MAX_MESSAGE_CHARS} characters whole and cuts a longer one with a count`, () => {
    expect(new MmsaError('MSA6799', 'x'.repeat(MAX_MESSAGE_CHARS)).message).toHaveLength(MAX_MESSAGE_CHARS);
    const long = new MmsaError('MSA6799', 'y'.repeat(1_500_000)).message;
    expect(long.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expect(long).toMatch(/\.\.\. \(\d+ more characters\)$/);
  });

  it('printable() escapes line breaks too and cuts long names', () => {
    expect(printable('a\nb')).toBe('a\\x0ab');
    expect(printable('k'.repeat(500), 10)).toBe('kkkkkkkkkk... (500 characters)');
  });
});
