// The pickle writer: what it writes reads back through mmsa's reader and, when python3 with numpy is installed,
// through CPython's pickle.load with numpy (the files must be loadable by MMSA itself).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NDArray, parsePickleBytes, isPyTuple } from '../../../../src/runtime/data/pickle/read-pickle.js';
import { int64Array, ndarray, pyTuple, writePickleFile } from '../../../../src/runtime/data/pickle/write-pickle.js';
import { hasPythonNumpy, runPython } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsa-write-pickle-'));

function sample() {
  return {
    train: {
      audio: ndarray(Float32Array.from({ length: 24 }, (_, i) => i / 8 - 1), [2, 3, 4]),
      vision: ndarray(Float64Array.from([1.5, -Infinity, NaN, 2 ** -30]), [2, 2]),
      audio_lengths: int64Array([3, 1]),
      big: int64Array([2 ** 40, -(2 ** 40)]),
      mask: ndarray(Uint8Array.from([1, 0, 1]), [3], 'bool'),
      id: ['a$_$1', 'ü €'],
      raw_text: ['x'.repeat(300), ''],
      n: 3n,
      huge: 2n ** 70n,
      neg: -(2n ** 70n),
      ratio: 0.25,
      flag: true,
      none: null,
      pair: pyTuple(1n, 'two'),
      blob: Uint8Array.from([0, 255]),
      many: Array.from({ length: 2500 }, (_, i) => BigInt(i)),
    },
  };
}

describe('writePickleFile', () => {
  it('round-trips through mmsa\'s reader: dicts, lists, tuples, str, ints of any size, floats, bytes, arrays', () => {
    const file = join(dir, 'a.pkl');
    writePickleFile(file, sample());
    const v = parsePickleBytes(readFileSync(file), { floatAs: 'native', intAs: 'native' }) as Map<string, Map<string, unknown>>;
    const t = v.get('train')!;
    expect([...t.keys()]).toEqual(Object.keys(sample().train));
    const audio = t.get('audio') as NDArray;
    expect(audio.dtype).toBe('float32');
    expect(audio.shape).toEqual([2, 3, 4]);
    expect(Array.from(audio.data as Float32Array)).toEqual(Array.from({ length: 24 }, (_, i) => i / 8 - 1));
    const vision = t.get('vision') as NDArray;
    expect(vision.dtype).toBe('float64');
    expect(Array.from(vision.data as Float64Array)).toEqual([1.5, -Infinity, NaN, 2 ** -30]);
    expect(Array.from((t.get('big') as NDArray).data as BigInt64Array)).toEqual([2n ** 40n, -(2n ** 40n)]);
    expect((t.get('audio_lengths') as NDArray).dtype).toBe('int64');
    expect((t.get('mask') as NDArray).dtype).toBe('bool');
    expect(t.get('id')).toEqual(['a$_$1', 'ü €']);
    expect((t.get('raw_text') as string[])[0]).toHaveLength(300);
    expect(t.get('n')).toBe(3);
    expect(t.get('huge')).toBe(2n ** 70n);
    expect(t.get('neg')).toBe(-(2n ** 70n));
    expect(t.get('ratio')).toBe(0.25);
    expect(t.get('flag')).toBe(true);
    expect(t.get('none')).toBe(null);
    expect(isPyTuple(t.get('pair'))).toBe(true);
    expect(t.get('pair')).toEqual([1, 'two']);
    expect(Array.from(t.get('blob') as Uint8Array)).toEqual([0, 255]);
    expect((t.get('many') as number[]).slice(-2)).toEqual([2498, 2499]);
  });

  it('refuses arrays it cannot write and leaves no file behind', () => {
    const file = join(dir, 'bad.pkl');
    const strs = new NDArray('str', '<U1', [1], ['a']);
    expect(() => writePickleFile(file, { x: strs })).toThrow(/MSA6016|not supported/);
    expect(() => readFileSync(file)).toThrow();
    expect(() => ndarray(new Float32Array(3), [2, 2])).toThrow(/holds 4 elements, data has 3/);
  });

  it('is read by CPython pickle with numpy, values and dtypes intact', (ctx) => {
    if (!hasPythonNumpy()) {
      ctx.skip('needs python3 with numpy');
      return;
    }
    const file = join(dir, 'py.pkl');
    writePickleFile(file, sample());
    const out = runPython(
      `
import pickle, sys, json, numpy as np
d = pickle.load(open(sys.argv[1], 'rb'))['train']
r = {k: (str(v.dtype), list(v.shape), np.nan_to_num(v.astype('f8'), nan=123, neginf=-9).ravel().tolist()) if isinstance(v, np.ndarray) else repr(v) for k, v in d.items() if k != 'many'}
r['many'] = [len(d['many']), d['many'][-1]]
print(json.dumps(r))
`,
      [file],
    );
    const r = JSON.parse(out) as Record<string, unknown>;
    expect(r['audio']).toEqual(['float32', [2, 3, 4], Array.from({ length: 24 }, (_, i) => i / 8 - 1)]);
    expect(r['vision']).toEqual(['float64', [2, 2], [1.5, -9, 123, 2 ** -30]]);
    expect(r['audio_lengths']).toEqual(['int64', [2], [3, 1]]);
    expect(r['big']).toEqual(['int64', [2], [2 ** 40, -(2 ** 40)]]);
    expect(r['mask']).toEqual(['bool', [3], [1, 0, 1]]);
    expect(r['id']).toBe("['a$_$1', 'ü €']");
    expect(r['huge']).toBe(String(2n ** 70n));
    expect(r['neg']).toBe(String(-(2n ** 70n)));
    expect(r['pair']).toBe("(1, 'two')");
    expect(r['blob']).toBe("b'\\x00\\xff'");
    expect(r['none']).toBe('None');
    expect(r['many']).toEqual([2500, 2499]);
  });
});
