// Pickles generated on the fly by python3 + numpy (2.x on this machine: numpy._core names) in protocols 2-5: every
// numeric dtype in both byte orders, C and Fortran order, unicode and object arrays, numpy scalars, builtins,
// big ints, the protocol-5 _frombuffer path, and a third-party writer calling numpy.ndarray(shape, dtype).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPyTuple, NDArray, parsePickleBytes, readPickle, type PyValue } from '../../../../src/runtime/data/pickle/read-pickle.js';
import { elem, hasPythonNumpy, runPython, sha256OfData } from './helpers.js';

const GEN = String.raw`
import sys, json, pickle, hashlib, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(7)
arrays = {}
def add(name, a):
    arrays[name] = a
for base in ['f2', 'f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8']:
    for bo in ['<', '>']:
        dt = np.dtype(bo + base)
        if base[0] == 'f':
            a = rng.standard_normal((3, 5, 70)).astype(dt)
            a.flat[3] = -np.inf; a.flat[7] = np.nan
        elif base[0] == 'i':
            info = np.iinfo(dt)
            a = rng.integers(info.min, info.max, size=(3, 5, 70), dtype=np.dtype(base), endpoint=True).astype(dt)
        else:
            info = np.iinfo(dt)
            a = rng.integers(0, info.max, size=(3, 5, 70), dtype=np.dtype(base), endpoint=True).astype(dt)
        add(bo + base + '_C', a)
        add(bo + base + '_F', np.asfortranarray(a))
        add(bo + base + '_small', a[0, 0, :3].copy())
add('bool_C', rng.integers(0, 2, size=(4, 9)).astype(bool))
add('bool_F', np.asfortranarray(rng.integers(0, 2, size=(4, 9)).astype(bool)))
add('big_f8_F_be', np.asfortranarray(rng.standard_normal((700, 1100)).astype('>f8')))
add('empty', np.zeros((0, 3), dtype='f4'))
add('zero_d', np.array(2.5, dtype='f8'))
add('i8_huge', np.array([2**62 + 1, -2**63, 2**53 + 1, 7], dtype='<i8'))
expected = {}
for k, a in arrays.items():
    c = np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<'))
    flat = c.reshape(-1)
    expected[k] = {'dtype': a.dtype.name, 'descr': a.dtype.str, 'shape': list(a.shape),
                   'sha': hashlib.sha256(c.tobytes()).hexdigest(),
                   'first': None if flat.size == 0 else repr(flat[0].item()),
                   'last': None if flat.size == 0 else repr(flat[-1].item())}
class Third:
    def __init__(self, a): self.a = a
    def __reduce__(self):
        a = self.a
        return (np.ndarray, (a.shape, a.dtype), (1, a.shape, a.dtype, False, a.tobytes()))
third_src = np.arange(24, dtype='<f4').reshape(2, 3, 4)
extra = {
    'u_C': np.array([['ab', 'c\u00e9'], ['\U0001F600', '']]),
    'u_F': np.asfortranarray(np.array([['ab', 'c'], ['d', 'eee']])),
    'u_be': np.array(['x', 'yz'], dtype='>U2'),
    'obj': np.array(['one', 'two', 'three'], dtype=object),
    'obj_F': np.asfortranarray(np.array([['a', 'bb', 'c'], ['d', 'e', 'f']], dtype=object)),
    'scalars': [np.float32(1.5), np.float64(-2.25), np.int64(-7), np.int32(9), np.uint8(200), np.bool_(True),
                np.float16(0.5), np.str_('h\u00e9'), np.int64(2**60)],
    'builtins': {'none': None, 't': True, 'f': False, 'i': -5, 'big': 2**70, 'negbig': -(2**64) - 3,
                 'edge': 2**53 + 1, 'fl': 3.25, 's': 'h\u00e9llo \u4e16', 'b': b'\x00\x01\xff', 'e': b'',
                 'ba': bytearray(b'xyz'), 'bigb': bytes(range(256)) * 40, 'set': {1, 2, 3},
                 'fz': frozenset(['a']), 'tup': (1, (2, 'x')), 'lst': [1, [2, 3]], 'd': {1: 'one', (1, 2): 'pair'}},
    'third': Third(third_src),
    'shared': None,
}
shared = [1, 2]
extra['shared'] = [shared, shared]
data = {'arrays': arrays, 'extra': extra}
for proto in (2, 3, 4, 5):
    with open(f'{out}/gen.p{proto}.pkl', 'wb') as f:
        pickle.dump(data, f, protocol=proto)
json.dump(expected, open(f'{out}/expected.json', 'w'))
`;

interface Exp {
  dtype: string;
  descr: string;
  shape: number[];
  sha: string;
  first: string | null;
  last: string | null;
}

const enabled = hasPythonNumpy();
let dir = '';
let expected: Record<string, Exp> = {};

function parseRepr(s: string): number {
  if (s === 'nan') return NaN;
  if (s === 'inf') return Infinity;
  if (s === '-inf') return -Infinity;
  if (s === 'True') return 1;
  if (s === 'False') return 0;
  return Number(s);
}

describe.skipIf(!enabled)('numpy-generated pickles (python3 + numpy)', () => {
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mmsa-pickle-gen-'));
    runPython(GEN, [dir]);
    expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Record<string, Exp>;
  }, 60_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const proto of [2, 3, 4, 5]) {
    it(`protocol ${proto}: every dtype, byte order and memory order is byte-exact (native options)`, async () => {
      const fp = path.join(dir, `gen.p${proto}.pkl`);
      const root = (await readPickle(fp, { floatAs: 'native', intAs: 'native', chunkSize: 64 * 1024 })) as Map<string, PyValue>;
      const arrays = root.get('arrays') as Map<string, PyValue>;
      expect(arrays.size).toBe(Object.keys(expected).length);
      for (const [k, e] of Object.entries(expected)) {
        const a = arrays.get(k) as NDArray;
        expect(a, k).toBeInstanceOf(NDArray);
        expect(a.dtype, k).toBe(e.dtype);
        expect(a.descr, k).toBe(e.descr);
        expect(a.shape, k).toEqual(e.shape);
        expect(sha256OfData(a), `${k} sha`).toBe(e.sha);
        if (e.first !== null && e.dtype !== 'float16') {
          expect(Object.is(Number(elem(a, 0)), parseRepr(e.first)) || Number(elem(a, 0)) === parseRepr(e.first), k).toBe(true);
        }
      }
      // in-memory parse agrees
      const mem = parsePickleBytes(readFileSync(fp), { floatAs: 'native', intAs: 'native' }) as Map<string, PyValue>;
      const memArrays = mem.get('arrays') as Map<string, PyValue>;
      for (const k of Object.keys(expected)) expect(sha256OfData(memArrays.get(k) as NDArray), k).toBe(expected[k]!.sha);
    });

    it(`protocol ${proto}: default options convert float64/float16 -> Float32Array and int64 -> Float64Array`, async () => {
      const fp = path.join(dir, `gen.p${proto}.pkl`);
      const nat = ((await readPickle(fp, { floatAs: 'native', intAs: 'native' })) as Map<string, PyValue>).get('arrays') as Map<string, NDArray>;
      const def = ((await readPickle(fp)) as Map<string, PyValue>).get('arrays') as Map<string, NDArray>;
      for (const [k, a] of def) {
        const b = nat.get(k)!;
        expect(a.shape).toEqual(b.shape);
        if (a.dtype === 'float64' || a.dtype === 'float16') expect(a.data, k).toBeInstanceOf(Float32Array);
        if (a.dtype === 'int64' || a.dtype === 'uint64') expect(a.data, k).toBeInstanceOf(Float64Array);
        for (let i = 0; i < a.data.length; i++) {
          let want: number;
          if (a.dtype === 'float16') {
            const bits = b.data[i] as number;
            const s = bits & 0x8000 ? -1 : 1;
            const ex = (bits >> 10) & 31;
            const f = bits & 1023;
            want = ex === 0 ? s * f * 2 ** -24 : ex === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (ex - 15);
          } else if (a.dtype === 'float64') want = Math.fround(b.data[i] as number);
          else want = Number(b.data[i]);
          const got = a.data[i] as number;
          if (!Object.is(got, want)) expect(got, `${k}[${i}]`).toBe(want);
        }
      }
      const huge = def.get('i8_huge')!;
      expect(huge.data[3]).toBe(7);
      expect(huge.data[1]).toBe(-(2 ** 63));
    });

    it(`protocol ${proto}: str arrays, object arrays, scalars, builtins, numpy.ndarray(shape, dtype) writer`, async () => {
      const root = (await readPickle(path.join(dir, `gen.p${proto}.pkl`))) as Map<string, PyValue>;
      const x = root.get('extra') as Map<string, PyValue>;
      const u = x.get('u_C') as NDArray;
      expect(u.dtype).toBe('str');
      expect(u.shape).toEqual([2, 2]);
      expect(u.data).toEqual(['ab', 'c\u00e9', '\u{1F600}', '']);
      expect((x.get('u_F') as NDArray).data).toEqual(['ab', 'c', 'd', 'eee']);
      expect((x.get('u_be') as NDArray).data).toEqual(['x', 'yz']);
      expect((x.get('obj') as NDArray).data).toEqual(['one', 'two', 'three']);
      const objF = x.get('obj_F') as NDArray;
      expect(objF.shape).toEqual([2, 3]);
      expect(objF.data).toEqual(['a', 'bb', 'c', 'd', 'e', 'f']);
      expect(x.get('scalars')).toEqual([1.5, -2.25, -7, 9, 200, true, 0.5, 'h\u00e9', 2 ** 60]);
      const b = x.get('builtins') as Map<PyValue, PyValue>;
      expect(b.get('none')).toBeNull();
      expect(b.get('t')).toBe(true);
      expect(b.get('f')).toBe(false);
      expect(b.get('i')).toBe(-5);
      expect(b.get('big')).toBe(2n ** 70n);
      expect(b.get('negbig')).toBe(-(2n ** 64n) - 3n);
      expect(b.get('edge')).toBe(2n ** 53n + 1n);
      expect(b.get('fl')).toBe(3.25);
      expect(b.get('s')).toBe('h\u00e9llo \u4e16');
      expect(b.get('b')).toEqual(Uint8Array.from([0, 1, 255]));
      expect(b.get('e')).toEqual(new Uint8Array(0));
      expect(b.get('ba')).toEqual(Uint8Array.from([120, 121, 122]));
      const big = b.get('bigb') as Uint8Array;
      expect(big).toBeInstanceOf(Uint8Array);
      expect(big.length).toBe(256 * 40);
      expect(big[257]).toBe(1);
      expect(b.get('set')).toEqual(new Set([1, 2, 3]));
      expect(b.get('fz')).toEqual(new Set(['a']));
      const tup = b.get('tup') as PyValue[];
      expect(isPyTuple(tup)).toBe(true);
      expect(tup[0]).toBe(1);
      expect(isPyTuple(tup[1])).toBe(true);
      expect(isPyTuple(b.get('lst'))).toBe(false);
      expect(b.get('lst')).toEqual([1, [2, 3]]);
      const d = b.get('d') as Map<PyValue, PyValue>;
      expect(d.get(1)).toBe('one');
      expect([...d.values()]).toEqual(['one', 'pair']);
      const third = x.get('third') as NDArray;
      expect(third.shape).toEqual([2, 3, 4]);
      expect(Array.from(third.data as Float32Array)).toEqual(Array.from({ length: 24 }, (_, i) => i));
      const shared = x.get('shared') as PyValue[][];
      expect(shared[0]).toBe(shared[1]);
    });
  }

  it('native scalars keep int64 as bigint', async () => {
    const root = (await readPickle(path.join(dir, 'gen.p4.pkl'), { intAs: 'native' })) as Map<string, PyValue>;
    const s = (root.get('extra') as Map<string, PyValue>).get('scalars') as PyValue[];
    expect(s[2]).toBe(-7n);
    expect(s[8]).toBe(2n ** 60n);
  });
});
