// Skipping (keys / skip options: markers instead of values, payloads never read) and a seeded fuzz run over every
// fixture: truncations and byte flips either parse or throw MmsaError, never another exception or a hang.

import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MmsaError } from '../../../../src/errors.js';
import { NDArray, parsePickleBytes, readPickle, Skipped, type PyValue } from '../../../../src/runtime/data/pickle/read-pickle.js';
import { fixturesDir, hasPythonNumpy, runPython } from './helpers.js';
import { mulberry32 as prng } from '../../../helpers/prng.js';

const pickles = readdirSync(fixturesDir).filter((f) => f.endsWith('.pkl')).sort();

describe('skip / keys', () => {
  for (const file of ['mosi_unaligned_tiny.p2.pkl', 'sims_quirks.p4.pkl', 'sims_tiny.p5.pkl']) {
    it(`${file}: keys keeps only the listed per-split keys`, async () => {
      const fp = path.join(fixturesDir, file);
      const full = (await readPickle(fp)) as Map<string, Map<string, PyValue>>;
      const part = (await readPickle(fp, { keys: ['audio', 'id'] })) as Map<string, Map<string, PyValue>>;
      for (const [split, d] of full) {
        const p = part.get(split)!;
        expect([...p.keys()]).toEqual([...d.keys()]);
        for (const [k, v] of d) {
          const w = p.get(k);
          if (k === 'audio' || k === 'id') {
            expect(w).toEqual(v);
          } else {
            expect(w, `${split}.${k}`).toBeInstanceOf(Skipped);
            const s = w as Skipped;
            expect(s.path).toEqual([split, k]);
            if (v instanceof NDArray) {
              expect(s.kind).toBe('ndarray');
              expect(s.dtype).toBe(v.dtype);
              expect(s.shape).toEqual(v.shape);
            } else if (Array.isArray(v)) {
              expect(s.length).toBe(v.length);
            }
          }
        }
      }
    });
  }

  it('skip() on a split replaces the whole split and is called with key paths', async () => {
    const fp = path.join(fixturesDir, 'sims_tiny.p4.pkl');
    const seen = new Set<string>();
    const r = (await readPickle(fp, {
      skip: (p) => {
        seen.add(p.join('.'));
        return p[0] === 'valid';
      },
    })) as Map<string, PyValue>;
    expect(r.get('valid')).toBeInstanceOf(Skipped);
    expect((r.get('valid') as Skipped).kind).toBe('dict');
    expect(r.get('train')).toBeInstanceOf(Map);
    expect(seen.has('train.audio')).toBe(true);
    expect(seen.has('test.vision')).toBe(true);
  });

  it.skipIf(!hasPythonNumpy())('a skipped array payload is never read (corrupt bytes inside it do not matter)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mmsa-pickle-skip-'));
    try {
      const fp = path.join(dir, 'p2.pkl');
      // protocol 2: the array bytes are a BINUNICODE str; put an invalid UTF-8 byte inside the 'audio' payload
      runPython(
        String.raw`
import sys, pickle, pickletools, numpy as np
d = {'train': {'audio': np.ones((64, 100), dtype='f4'), 'text': np.arange(6, dtype='i8')}}
b = bytearray(pickle.dumps(d, protocol=2))
for op, arg, pos in pickletools.genops(bytes(b)):
    if op.name == 'BINUNICODE' and len(arg) > 10000:
        b[pos + 5 + 100] = 0xff
        break
open(sys.argv[1], 'wb').write(b)
`,
        [fp],
      );
      await expect(readPickle(fp)).rejects.toMatchObject({ code: 'MSA6008' });
      const r = (await readPickle(fp, { keys: ['text'] })) as Map<string, Map<string, PyValue>>;
      const train = r.get('train')!;
      expect(train.get('audio')).toBeInstanceOf(Skipped);
      expect((train.get('audio') as Skipped).shape).toEqual([64, 100]);
      expect(Array.from((train.get('text') as NDArray).data as Float64Array)).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('files larger than 4 GiB (sparse file, 64-bit offsets)', () => {
  it('seeks past a skipped 4.5 GiB payload and reads the value behind it; refuses to materialise it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mmsa-pickle-big-'));
    try {
      const fp = path.join(dir, 'sparse.pkl');
      const n = 4.5 * 2 ** 30;
      const head = Buffer.from([0x80, 0x04, 0x7d, 0x28, 0x8c, 3, ...Buffer.from('big'), 0x8e, 0, 0, 0, 0, 0, 0, 0, 0]);
      head.writeUInt32LE(n % 2 ** 32, head.length - 8);
      head.writeUInt32LE(Math.floor(n / 2 ** 32), head.length - 4);
      const tail = Buffer.from([0x8c, 5, ...Buffer.from('small'), 0x4b, 5, 0x75, 0x2e]);
      const fd = openSync(fp, 'w');
      writeSync(fd, head, 0, head.length, 0);
      writeSync(fd, tail, 0, tail.length, head.length + n); // the hole in between takes no disk space
      closeSync(fd);
      const r = (await readPickle(fp, { skip: (p) => p[0] === 'big' })) as Map<string, PyValue>;
      expect(r.get('small')).toBe(5);
      expect(r.get('big')).toBeInstanceOf(Skipped);
      await expect(readPickle(fp)).rejects.toMatchObject({ code: 'MSA6012' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});


function parseOrMmsa(buf: Uint8Array, label: string): void {
  try {
    parsePickleBytes(buf, { fileName: label });
  } catch (e) {
    if (!(e instanceof MmsaError)) throw new Error(`${label}: non-MmsaError ${String(e)}`);
    if (e.details.internal === true) throw new Error(`${label}: internal error ${e.message}`);
    expect(e.code).toMatch(/^MSA60(0\d|1\d)$/);
  }
}

describe('fuzz (seeded truncations and byte flips)', () => {
  for (const [fi, file] of pickles.entries()) {
    it(`${file}: never crashes or hangs`, () => {
      const orig = readFileSync(path.join(fixturesDir, file));
      const rnd = prng(1234 + fi);
      // truncations: many near the structural start, some anywhere
      for (let k = 0; k < 24; k++) {
        const cut = k < 12 ? Math.floor(rnd() * Math.min(orig.length, 4096)) : Math.floor(rnd() * orig.length);
        parseOrMmsa(orig.subarray(0, cut), `${file} cut@${cut}`);
      }
      // byte flips: 1-3 random bytes, biased toward opcode-dense regions (outside large payloads)
      for (let k = 0; k < 40; k++) {
        const buf = Uint8Array.from(orig);
        const flips = 1 + Math.floor(rnd() * 3);
        const where: number[] = [];
        for (let f = 0; f < flips; f++) {
          const pos = rnd() < 0.7 ? Math.floor(rnd() * Math.min(buf.length, 3000)) : Math.floor(rnd() * buf.length);
          buf[pos] = Math.floor(rnd() * 256);
          where.push(pos);
        }
        parseOrMmsa(buf, `${file} flip@${where.join(',')}`);
      }
    });
  }

  it('streaming reader on mutated files gives MmsaError too (small chunks)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mmsa-pickle-fuzz-'));
    try {
      const rnd = prng(99);
      for (const file of ['mosi_aligned_tiny.p2.pkl', 'sims_quirks.p5.pkl']) {
        const orig = readFileSync(path.join(fixturesDir, file));
        for (let k = 0; k < 10; k++) {
          const buf = k % 2 === 0 ? orig.subarray(0, Math.floor(rnd() * orig.length)) : Uint8Array.from(orig);
          if (k % 2 === 1) for (let f = 0; f < 3; f++) buf[Math.floor(rnd() * Math.min(buf.length, 5000))] = Math.floor(rnd() * 256);
          const fp = path.join(dir, `m${k}.pkl`);
          writeFileSync(fp, buf);
          try {
            await readPickle(fp, { chunkSize: 64 * 1024 });
          } catch (e) {
            expect(e).toBeInstanceOf(MmsaError);
            expect((e as MmsaError).details.internal).not.toBe(true);
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
