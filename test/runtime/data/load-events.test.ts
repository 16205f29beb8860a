// data.load events while a feature file is read: a start, progress by bytes read, and the end with the file's size,
// so the terminal UI shows a progress line instead of a blank screen. Also for synthetic data (start and end).

import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDatasetWithEvents } from '../../../src/runtime/data/load-events.js';
import type { DataLoadEvent } from '../../../src/runtime/events.js';
import { customDataset, makeIr } from './data-test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsa-load-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A protocol-2 pickle of dicts, lists, floats and strings (what MMSA-layout files hold, minus numpy). */
function pickle(value: unknown): Buffer {
  const parts: Buffer[] = [Buffer.from([0x80, 2])];
  const put = (v: unknown): void => {
    if (typeof v === 'number') {
      const b = Buffer.alloc(9);
      b[0] = 0x47; // BINFLOAT
      b.writeDoubleBE(v, 1);
      parts.push(b);
    } else if (typeof v === 'string') {
      const s = Buffer.from(v, 'utf8');
      const h = Buffer.alloc(5);
      h[0] = 0x58; // BINUNICODE
      h.writeUInt32LE(s.length, 1);
      parts.push(h, s);
    } else if (Array.isArray(v)) {
      parts.push(Buffer.from([0x5d, 0x28])); // EMPTY_LIST MARK
      for (const x of v) put(x);
      parts.push(Buffer.from([0x65])); // APPENDS
    } else {
      parts.push(Buffer.from([0x7d, 0x28])); // EMPTY_DICT MARK
      for (const [k, x] of Object.entries(v as object)) {
        put(k);
        put(x);
      }
      parts.push(Buffer.from([0x75])); // SETITEMS
    }
  };
  put(value);
  parts.push(Buffer.from([0x2e])); // STOP
  return Buffer.concat(parts);
}

const T = 40;
const D = 40;
function split(n: number, seed: number) {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  return {
    audio: Array.from({ length: n }, () => Array.from({ length: T }, () => Array.from({ length: D }, rnd))),
    regression_labels: Array.from({ length: n }, rnd),
    id: Array.from({ length: n }, (_, i) => `clip$_$${i}`),
    raw_text: Array.from({ length: n }, (_, i) => `sample ${i}`),
  };
}

describe('loadDatasetWithEvents', () => {
  it('reports bytes read of the feature file from 0 to its size, then returns the data', async () => {
    const file = join(dir, 'big.pkl');
    writeFileSync(file, pickle({ train: split(300, 1), valid: split(50, 2), test: split(50, 3) }));
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(5 * 2 ** 20); // more than one 4 MiB read
    const features = {
      audio: { key: 'audio', shape: [T, D], dtype: 'float' as const },
      raw_text: { key: 'raw_text', shape: [], dtype: 'str' as const },
      id: { key: 'id', shape: [], dtype: 'str' as const },
    };
    const ir = makeIr(customDataset(file, features, { M: 'regression_labels' }), { audio: { feature: 'audio', lengths: null } });
    const events: DataLoadEvent[] = [];
    const gen = loadDatasetWithEvents(ir, 'abc-1111');
    let r = await gen.next();
    while (!r.done) {
      events.push(r.value);
      r = await gen.next();
    }
    const data = r.value;
    expect(data.train.n).toBe(300);
    expect(events[0]).toMatchObject({ kind: 'data.load', runId: 'abc-1111', bytes: 0, done: false });
    const progress = events.filter((e) => !e.done && e.bytes > 0);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const e of progress) expect(e.totalBytes).toBe(size);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.bytes).toBeGreaterThan(progress[i - 1]!.bytes);
    const last = events[events.length - 1]!;
    expect(last).toMatchObject({ done: true, bytes: size, totalBytes: size, file });
    expect(events.filter((e) => e.done)).toHaveLength(1);
  });

  it('synthetic data: a start and an end, no bytes', async () => {
    const ir = makeIr(customDataset('x', {}, {}, { source: 'synthetic', name: 'synthetic-mosi' }), {});
    ir.dataset.synthetic = { like: 'mosi', n_train: 8, n_valid: 4, n_test: 4 } as never;
    const events: DataLoadEvent[] = [];
    const gen = loadDatasetWithEvents(ir, 'abc-1');
    for (let r = await gen.next(); !r.done; r = await gen.next()) events.push(r.value);
    expect(events.map((e) => [e.file, e.done, e.totalBytes])).toEqual([
      ['<synthetic synthetic-mosi>', false, 0],
      ['<synthetic synthetic-mosi>', true, 0],
    ]);
  });
});
