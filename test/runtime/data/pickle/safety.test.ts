// Hostile and corrupt pickles built byte by byte: forbidden globals are refused with module.name, offset and key
// path; corrupt structure, truncation, bad lengths and unsupported features give MmsaError with the right code.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MmsaError } from '../../../../src/errors.js';
import { parsePickleBytes, readPickle, NDArray } from '../../../../src/runtime/data/pickle/read-pickle.js';
import { bytes, sbu } from './helpers.js';

function u32(n: number): number[] {
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
}
function u64(n: number): number[] {
  const lo = n % 2 ** 32;
  const hi = Math.floor(n / 2 ** 32);
  return [...u32(lo), ...u32(hi)];
}

function errorOf(buf: Uint8Array): MmsaError {
  try {
    parsePickleBytes(buf, { fileName: 'evil.pkl' });
  } catch (e) {
    expect(e).toBeInstanceOf(MmsaError);
    return e as MmsaError;
  }
  throw new Error('expected an MmsaError');
}

/** numpy.dtype('f4') built with STACK_GLOBAL + REDUCE (protocol 4 style). */
const dtypeF4 = [...sbu('numpy'), ...sbu('dtype'), 0x93, ...sbu('f4'), 0x89, 0x88, 0x87, 0x52];

describe('forbidden globals', () => {
  const cases: [string, Uint8Array, string][] = [
    ['GLOBAL os.system (protocol 2)', bytes('\x80\x02cos\nsystem\nX', u32(7), 'echo hi\x85R.'), 'os.system'],
    ['STACK_GLOBAL builtins.eval', bytes('\x80\x04', sbu('builtins'), sbu('eval'), '\x93', sbu('1+1'), '\x85R.'), 'builtins.eval'],
    ['posix.system', bytes('\x80\x02cposix\nsystem\nX', u32(2), 'ls\x85R.'), 'posix.system'],
    ['subprocess.Popen', bytes('\x80\x04', sbu('subprocess'), sbu('Popen'), '\x93', sbu('sh'), '\x85R.'), 'subprocess.Popen'],
    ['a class of the writer', bytes('\x80\x04', sbu('__main__'), sbu('Evil'), '\x93)\x81.'), '__main__.Evil'],
    ['numpy.load (allowed module, other name)', bytes('\x80\x04', sbu('numpy'), sbu('load'), '\x93', sbu('x.npy'), '\x85R.'), 'numpy.load'],
    ['builtins.getattr', bytes('\x80\x02c__builtin__\ngetattr\n.'), '__builtin__.getattr'],
  ];
  for (const [name, buf, q] of cases) {
    it(`refuses ${name}`, () => {
      const e = errorOf(buf);
      expect(e.code).toBe('MSA6005');
      expect(e.message).toContain(`forbidden global ${q}`);
      expect(e.message).toContain('evil.pkl');
      expect(e.message).toMatch(/byte offset \d+/);
      expect(e.hint).toBeTruthy();
    });
  }

  it('names the key path and the offset of the forbidden global inside nested dicts', () => {
    // {'train': {'audio': os.system('x')}} in protocol 2 layout
    const buf = bytes('\x80\x02}q\x00X', u32(5), 'trainq\x01}q\x02X', u32(5), 'audioq\x03cos\nsystem\nX', u32(1), 'x\x85Rss.');
    const e = errorOf(buf);
    expect(e.code).toBe('MSA6005');
    expect(e.details.keyPath).toBe('train.audio');
    expect(e.message).toContain('reading train.audio');
    expect(e.details.offset).toBe(buf.indexOf(0x63)); // the 'c' GLOBAL opcode
    expect(e.details.opcode).toBe('GLOBAL');
  });

  it('names the path for protocol 4 batches (MARK ... SETITEMS)', () => {
    const buf = bytes('\x80\x04}(', sbu('train'), '}(', sbu('text'), 'K\x01', sbu('vision'), sbu('os'), sbu('system'), '\x93', sbu('x'), '\x85Ru', 'u.');
    const e = errorOf(buf);
    expect(e.code).toBe('MSA6005');
    expect(e.details.path).toEqual(['train', 'vision']);
  });

  it('refuses BUILD on anything but numpy arrays and dtypes (no __setstate__ of arbitrary objects)', () => {
    const e = errorOf(bytes('\x80\x04]}b.'));
    expect(e.code).toBe('MSA6006');
    expect(e.message).toContain('BUILD');
  });

  it('refuses persistent ids, INST/OBJ and extension codes', () => {
    expect(errorOf(bytes('\x80\x02X', u32(1), 'xQ.')).code).toBe('MSA6003');
    expect(errorOf(bytes('\x80\x02\x82\x01.')).code).toBe('MSA6003');
    expect(errorOf(bytes('\x80\x02(io\nsystem\n.')).code).toBe('MSA6003');
  });
});

describe('corrupt and unsupported input', () => {
  it('missing STOP / truncated input', () => {
    const e = errorOf(bytes('\x80\x04}'));
    expect(e.code).toBe('MSA6002');
    expect(e.message).toContain('STOP');
    expect(errorOf(bytes('\x80\x04J\x01\x02')).code).toBe('MSA6002');
    expect(errorOf(new Uint8Array(0)).code).toBe('MSA6002');
  });

  it('huge claimed lengths fail before allocating', () => {
    const e = errorOf(bytes('\x80\x04\x8e', u64(2 ** 50), 'abc.'));
    expect(e.code).toBe('MSA6002');
    expect(e.message).toContain(`claims ${2 ** 50} bytes`);
    expect(errorOf(bytes('\x80\x04\x96', u64(2 ** 40), '.')).code).toBe('MSA6002');
    expect(errorOf(bytes('\x80\x04X', u32(2 ** 31), '.')).code).toBe('MSA6002');
    expect(errorOf(bytes('\x80\x04\x95', u64(2 ** 45), '.')).code).toBe('MSA6002');
    expect(errorOf(bytes('\x80\x04\x8b', u32(2 ** 30), '.')).code).toBe('MSA6015');
  });

  it('unknown opcode, protocol 0 opcodes, protocol > 5', () => {
    const e = errorOf(bytes('\x80\x04\xff.'));
    expect(e.code).toBe('MSA6003');
    expect(e.message).toContain('0xff');
    expect(e.details.offset).toBe(2);
    expect(errorOf(bytes('(dp0\n.')).code).toBe('MSA6003');
    expect(errorOf(bytes('\x80\x06N.')).code).toBe('MSA6004');
  });

  it('stack underflow, missing MARK, memo miss, wrong container', () => {
    expect(errorOf(bytes('\x80\x04.')).code).toBe('MSA6006');
    expect(errorOf(bytes('\x80\x04\x85.')).code).toBe('MSA6006');
    expect(errorOf(bytes('\x80\x04]t.')).code).toBe('MSA6006');
    expect(errorOf(bytes('\x80\x04(\x86.')).code).toBe('MSA6006');
    const miss = errorOf(bytes('\x80\x04h\x07.'));
    expect(miss.code).toBe('MSA6007');
    expect(miss.message).toContain('memo entry 7');
    expect(errorOf(bytes('\x80\x04NK\x01K\x02s.')).code).toBe('MSA6006');
    expect(errorOf(bytes('\x80\x04}(K\x01u.')).code).toBe('MSA6006');
  });

  it('invalid UTF-8 in a str', () => {
    expect(errorOf(bytes('\x80\x04\x8c\x02\xff\xfe.')).code).toBe('MSA6008');
  });

  it('out-of-band buffers are refused with a fix hint', () => {
    const e = errorOf(bytes('\x80\x05\x97.'));
    expect(e.code).toBe('MSA6013');
    expect(e.hint).toContain('buffer_callback');
  });

  it('array payload length must equal prod(shape) * itemsize', () => {
    // numpy._core.numeric._frombuffer(bytearray(12 bytes), dtype('f4'), (4,), 'C')
    const fb = [...sbu('numpy._core.numeric'), ...sbu('_frombuffer'), 0x93];
    const good = bytes('\x80\x05}', sbu('audio'), fb, '(\x96', u64(16), new Uint8Array(16), dtypeF4, 'K\x04\x85', sbu('C'), 'tRs.');
    const ok = parsePickleBytes(good) as Map<string, NDArray>;
    expect(ok.get('audio')!.shape).toEqual([4]);
    const bad = bytes('\x80\x05}', sbu('audio'), fb, '(\x96', u64(12), new Uint8Array(12), dtypeF4, 'K\x04\x85', sbu('C'), 'tRs.');
    const e = errorOf(bad);
    expect(e.code).toBe('MSA6011');
    expect(e.details.keyPath).toBe('audio');
    expect(e.message).toContain('needs 16');
  });

  it('unsupported dtypes and uninitialised numpy.ndarray(shape, dtype)', () => {
    const fb = [...sbu('numpy.core.numeric'), ...sbu('_frombuffer'), 0x93];
    const c16 = [...sbu('numpy'), ...sbu('dtype'), 0x93, ...sbu('c16'), 0x89, 0x88, 0x87, 0x52];
    expect(errorOf(bytes('\x80\x05', fb, '(\x96', u64(16), new Uint8Array(16), c16, 'K\x01\x85', sbu('C'), 'tR.')).code).toBe('MSA6010');
    const nd = [...sbu('numpy'), ...sbu('ndarray'), 0x93];
    const e = errorOf(bytes('\x80\x04', nd, 'K\x03\x85', dtypeF4, '\x86R.'));
    expect(e.code).toBe('MSA6014');
  });

  it('ignores trailing bytes after STOP, like Python', () => {
    expect(parsePickleBytes(bytes('\x80\x04K\x05.garbage'))).toBe(5);
  });

  it('readPickle reports a missing file as MSA6001 and truncation with the file name', async () => {
    await expect(readPickle('/nonexistent/dir/x.pkl')).rejects.toMatchObject({ code: 'MSA6001' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mmsa-pickle-safety-'));
    try {
      const fp = path.join(dir, 'cut.pkl');
      writeFileSync(fp, bytes('\x80\x04\x8e', u64(100000), new Uint8Array(50)));
      const err = await readPickle(fp).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MmsaError);
      expect((err as MmsaError).code).toBe('MSA6002');
      expect((err as MmsaError).message).toContain(fp);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

