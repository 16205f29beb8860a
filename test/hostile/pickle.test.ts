// Hostile pickles, each built byte by byte here and read by the built reader in a child process capped in address
// space and time: memo bombs, exploding and self-referential structures, quadratic key selection, deep nesting,
// terminal escapes in names. Each ends in a located, short, printable error or a bounded result. Phase 7 (data).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MmsaError } from '../../src/errors.js';
import { formatInspect, inspectPickle } from '../../src/runtime/data/inspect.js';
import { parsePickleBytes, PICKLE_LIMITS } from '../../src/runtime/data/pickle/read-pickle.js';
import { PickleBuilder, runCapped, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function save(name: string, bytes: Uint8Array): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, bytes);
  return p;
}

const READ = `const { readPickle } = await mod('runtime/data/pickle/read-pickle.js');`;

/** Peak RSS a child reading a small hostile file may reach (Node alone takes ~45 MiB). */
const SMALL_RSS_MIB = 300;

function errorOf(bytes: Uint8Array, opts: Parameters<typeof parsePickleBytes>[1] = {}): MmsaError {
  try {
    parsePickleBytes(bytes, { fileName: 'hostile.pkl', ...opts });
  } catch (e) {
    if (e instanceof MmsaError) return e;
    throw e;
  }
  throw new Error('expected an MmsaError');
}

describe('memo references share one payload', () => {
  it('a 240 KB bytes payload referenced 12,000 times is read once (was one copy per reference: ~2.9 GB)', () => {
    const p = new PickleBuilder().proto().emptyList().mark().bytes(new Uint8Array(240 * 1024).fill(7)).put(1);
    for (let i = 0; i < 12_000; i++) p.get(1);
    const file = save('memo-bytes.pkl', p.appends().stop());
    const r = runCapped<{ n: number; same: boolean; len: number }>(
      `${READ} const l = await readPickle(input.file); return { n: l.length, same: l.every((x) => x === l[0]), len: l[0].length };`,
      { file },
    );
    expect(r.crash).toBeUndefined();
    expect(r.error).toBeUndefined();
    expect(r.value).toEqual({ n: 12_001, same: true, len: 240 * 1024 });
    expect(r.peakRssMiB).toBeLessThan(SMALL_RSS_MIB);
  });

  it('20,000 numpy arrays built from one memoized payload stop at the output budget with a located MSA6017', () => {
    const payload = new Uint8Array(240 * 1024);
    const p = new PickleBuilder().proto(2).bytes(payload).put(2).pop().emptyList().mark();
    for (let i = 0; i < 20_000; i++) p.ndarray([240 * 256], '<f4', (b) => b.get(2));
    const bytes = p.appends().stop();
    const file = save('memo-arrays.pkl', bytes);
    const r = runCapped(`${READ} await readPickle(input.file); return 'read';`, { file });
    expect(r.crash).toBeUndefined();
    expect(r.error?.code).toBe('MSA6017');
    expect(r.error?.message).toContain(file);
    expect(r.error?.message).toMatch(/byte offset \d+, opcode BUILD/);
    expect(r.error?.message).toContain('budget');
    expect(r.error!.message.length).toBeLessThan(1000);
    const budget = PICKLE_LIMITS.outputFloorBytes + PICKLE_LIMITS.outputPerInputByte * bytes.length;
    expect(r.peakRssMiB).toBeLessThan(SMALL_RSS_MIB + budget / 1048576);
  });

  it('the output budget holds exactly: N small ints cost 16 + 8N bytes (just below passes, one byte less fails)', () => {
    const n = 1000;
    const p = new PickleBuilder().proto().emptyList().mark();
    for (let i = 0; i < n; i++) p.int(i % 256);
    const bytes = p.appends().stop();
    const cost = 16 + 8 * n;
    expect(parsePickleBytes(bytes, { limits: { outputFloorBytes: cost, outputPerInputByte: 0 } })).toHaveLength(n);
    const e = errorOf(bytes, { limits: { outputFloorBytes: cost - 1, outputPerInputByte: 0 } });
    expect(e.code).toBe('MSA6017');
    expect(e.details.opcode).toBe('APPENDS');
  });

  it('builtins.list() copies of a memoized list count against the budget (a list copied 30,000 times)', () => {
    const p = new PickleBuilder().proto(2).emptyList().put(0).mark();
    for (let i = 0; i < 5000; i++) p.int(1);
    p.appends().pop().emptyList().mark();
    for (let i = 0; i < 30_000; i++) p.global('builtins', 'list').get(0).tuple1().reduce();
    const e = errorOf(p.appends().stop());
    expect(e.code).toBe('MSA6017');
    expect(e.details.opcode).toBe('REDUCE');
  });
});

describe('key selection stays linear', () => {
  it('100,000 pending pairs under a split and 100,000 small dicts below them read in bounded time with keys', () => {
    // {'train': {k0: 0, ..., k99999: 0, 'audio': [{'a': 1}, ... 100,000 dicts]}} with every pair of the split dict
    // pending on the stack (one SETITEMS): each dict's SETITEM asked for its key path, which re-walked the pairs.
    const p = new PickleBuilder().proto().emptyDict().str('train').emptyDict().mark();
    for (let i = 0; i < 100_000; i++) p.str(`k${i}`).int(0);
    p.str('audio').emptyList().mark();
    for (let i = 0; i < 100_000; i++) p.emptyDict().str('a').int(1).setitem();
    p.appends().setitems().setitem();
    const file = save('quadratic.pkl', p.stop());
    const r = runCapped<{ audio: number; skipped: string }>(
      `${READ} const t = (await readPickle(input.file, { keys: ['audio'] })).get('train'); return { audio: t.get('audio').length, skipped: t.get('k5').constructor.name };`,
      { file },
      { timeoutMs: 120_000 },
    );
    expect(r.crash).toBeUndefined();
    expect(r.error).toBeUndefined();
    expect(r.value).toEqual({ audio: 100_000, skipped: 'Skipped' });
    // The quadratic walk took minutes here; linear work is well under a second even on a loaded machine.
    expect(r.ms).toBeLessThan(30_000);
    expect(r.peakRssMiB).toBeLessThan(SMALL_RSS_MIB);
  });
});

describe('deep and self-referential structures', () => {
  function nestedLists(depth: number): Uint8Array {
    const p = new PickleBuilder().proto();
    for (let i = 0; i < depth; i++) p.emptyList().mark();
    for (let i = 0; i < depth; i++) p.appends();
    // The outermost list's MARK was closed by the last APPENDS; put the result in a list of its own.
    return p.stop();
  }

  it('nesting up to the depth budget reads; one level more is a located MSA6018', () => {
    const max = PICKLE_LIMITS.maxDepth;
    const ok = parsePickleBytes(nestedLists(max));
    let depth = 0;
    for (let v: unknown = ok; Array.isArray(v) && v.length > 0; v = v[0]) depth++;
    expect(depth).toBe(max - 1);
    const e = errorOf(nestedLists(max + 1));
    expect(e.code).toBe('MSA6018');
    expect(e.details.opcode).toBe('MARK');
    expect(e.details.offset).toBe(2 + 2 * max + 1);
  });

  it('500,000 nested MARKs fail at the budget with a short message, not a stack overflow or a 1.5 MB message', () => {
    const p = new PickleBuilder().proto();
    for (let i = 0; i < 500_000; i++) p.emptyList().mark();
    const file = save('deep-marks.pkl', p.stop());
    const r = runCapped(`${READ} await readPickle(input.file); return 'read';`, { file });
    expect(r.crash).toBeUndefined();
    expect(r.error?.code).toBe('MSA6018');
    expect(r.error!.message.length).toBeLessThan(1000);
    expect(r.peakRssMiB).toBeLessThan(SMALL_RSS_MIB);
  });

  it('a 500,000-deep stack of lists under an error gives a short, elided key path', () => {
    const p = new PickleBuilder().proto();
    for (let i = 0; i < 500_000; i++) p.emptyList();
    const file = save('deep-stack.pkl', p.global('os', 'system').stop());
    const r = runCapped(`${READ} await readPickle(input.file); return 'read';`, { file });
    expect(r.crash).toBeUndefined();
    expect(r.error?.code).toBe('MSA6005');
    expect(r.error!.message.length).toBeLessThan(1000);
    expect(r.error?.message).toMatch(/reading \[0\]\[0\].*\.\.\.\(\d+ more\)\.\.\.\[0\]\[0\]\[0\]\[0\]\]/);
    expect(JSON.stringify(r.error!.details).length).toBeLessThan(2000);
  });

  it('a list that contains itself reads (as Python does) and is refused as a feature, not walked forever', () => {
    const bytes = new PickleBuilder().proto().emptyList().put(0).get(0).append().stop();
    const l = parsePickleBytes(bytes) as unknown[];
    expect(l[0]).toBe(l);
    const r = runCapped(
      `const { toNumeric } = await mod('runtime/data/load-dataset.js'); const { parsePickleBytes } = await mod('runtime/data/pickle/read-pickle.js');
       return toNumeric(parsePickleBytes(Uint8Array.from(input.bytes)));`,
      { bytes: [...bytes] },
    );
    expect(r.crash).toBeUndefined();
    expect(r.value).toBe('a list that contains itself');
  });
});

describe('names from the file are printable', () => {
  it('terminal escapes in a global name and in dict keys are shown escaped', () => {
    const evil = '\u001b[2J\u001b[31mowned';
    const p = new PickleBuilder().proto().emptyDict().str(`train${evil}`).emptyDict().str(`audio${evil}`).global(`os${evil}`, 'system');
    const e = errorOf(p.stop());
    expect(e.code).toBe('MSA6005');
    expect(e.message).not.toContain('\u001b');
    expect(e.message).toContain('\\x1b[2J');
    expect(e.message).toContain(`train\\x1b[2J\\x1b[31mowned.audio`);
  });

  it('`mmsa data inspect` shows split and key names from the file escaped', async () => {
    const evil = '\u001b]0;owned\u0007\u001b[2J';
    const p = new PickleBuilder().proto().emptyDict().str(`train${evil}`).emptyDict().str(`audio${evil}`).emptyList().mark();
    for (let i = 0; i < 3; i++) p.float(i);
    const file = save('escape-keys.pkl', p.appends().setitem().setitem().stop());
    const text = formatInspect(await inspectPickle(file));
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(text).toContain('audio\\x1b]0;owned\\x07\\x1b[2J');
  });

  it('a 100,000-character key is cut in the message', () => {
    const p = new PickleBuilder().proto().emptyDict().str('k'.repeat(100_000)).global('os', 'system');
    const e = errorOf(p.stop());
    expect(e.message.length).toBeLessThan(1000);
    expect(e.message).toContain('(100000 characters)');
  });
});
