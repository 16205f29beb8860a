// Checks every entry of test/fixtures/pickles/manifest.json (CPython 3.11 + numpy 1.24, protocols 2-5) against
// readPickle and parsePickleBytes, with native and default number options, and small chunk sizes.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPyTuple, NDArray, parsePickleBytes, readPickle, type PyValue } from '../../../../src/runtime/data/pickle/read-pickle.js';
import { elem, fixturesDir, sha256OfData } from './helpers.js';

interface Expect {
  type: 'ndarray' | 'list' | 'tuple';
  dtype?: string;
  shape?: number[];
  finite_sum?: number;
  n_neg_inf?: number;
  n_nan?: number;
  first?: number | string;
  last?: number | string;
  c_order_sha256?: string;
  len?: number;
}
interface Manifest {
  files: Record<string, { protocol: number; splits: Record<string, Record<string, Expect>> }>;
}

// Python's json writes bare NaN / Infinity / -Infinity: map them to numbers through a reviver.
const manifestText = readFileSync(path.join(fixturesDir, 'manifest.json'), 'utf8').replace(
  /([:[,]\s*)(-Infinity|Infinity|NaN)(?=\s*[,}\]])/g,
  (_m, pre: string, tok: string) => `${pre}"__num__${tok}"`,
);
const manifest = JSON.parse(manifestText, (_k, v: unknown) =>
  typeof v === 'string' && v.startsWith('__num__') ? Number(v.slice(7)) : v,
) as Manifest;
const files = Object.keys(manifest.files);

function get(root: PyValue, split: string, key: string): PyValue | undefined {
  expect(root).toBeInstanceOf(Map);
  const s = (root as Map<PyValue, PyValue>).get(split);
  expect(s).toBeInstanceOf(Map);
  return (s as Map<PyValue, PyValue>).get(key);
}

function stats(a: NDArray): { sum: number; negInf: number; nan: number } {
  let sum = 0;
  let negInf = 0;
  let nan = 0;
  const d = a.data;
  for (let i = 0; i < d.length; i++) {
    const x = Number(d[i]);
    if (Number.isNaN(x)) nan++;
    else if (x === -Infinity) negInf++;
    else if (Number.isFinite(x)) sum += x;
  }
  return { sum, negInf, nan };
}

function checkNative(v: PyValue | undefined, e: Expect, where: string): void {
  if (e.type === 'ndarray') {
    expect(v, where).toBeInstanceOf(NDArray);
    const a = v as NDArray;
    expect(a.descr, where).toBe(e.dtype);
    expect(a.shape, where).toEqual(e.shape);
    expect(a.order).toBe('C');
    const n = e.shape!.reduce((x, y) => x * y, 1);
    expect(a.data.length, where).toBe(n);
    if (e.c_order_sha256 !== undefined) {
      expect(sha256OfData(a), where).toBe(e.c_order_sha256);
      const s = stats(a);
      const tol = 1e-9 * Math.max(1, Math.abs(e.finite_sum!));
      expect(Math.abs(s.sum - e.finite_sum!), `${where} finite_sum ${s.sum} vs ${e.finite_sum}`).toBeLessThanOrEqual(tol);
      expect(s.negInf, where).toBe(e.n_neg_inf);
      expect(s.nan, where).toBe(e.n_nan);
    } else {
      expect(Array.isArray(a.data), where).toBe(true);
    }
    if (n > 0) {
      expect(elem(a, 0), where).toBe(e.first);
      expect(elem(a, n - 1), where).toBe(e.last);
    }
  } else {
    expect(Array.isArray(v), where).toBe(true);
    const l = v as PyValue[];
    expect(isPyTuple(l), where).toBe(e.type === 'tuple');
    expect(l.length, where).toBe(e.len);
    expect(l[0], where).toBe(e.first);
    expect(l[l.length - 1], where).toBe(e.last);
  }
}

/** With default options: float64/float16 -> Float32Array (rounded), int64 -> Float64Array, same values otherwise. */
function checkDefault(v: PyValue | undefined, native: PyValue | undefined, e: Expect, where: string): void {
  if (e.type !== 'ndarray' || e.c_order_sha256 === undefined) return;
  const a = v as NDArray;
  const b = native as NDArray;
  expect(a.shape).toEqual(b.shape);
  expect(a.dtype).toBe(b.dtype);
  if (a.dtype === 'float64') expect(a.data, where).toBeInstanceOf(Float32Array);
  if (a.dtype === 'int64') expect(a.data, where).toBeInstanceOf(Float64Array);
  if (a.dtype === 'float32') expect(a.data, where).toBeInstanceOf(Float32Array);
  const n = a.data.length;
  for (let i = 0; i < n; i++) {
    const want = a.dtype === 'float64' ? Math.fround(Number(b.data[i])) : Number(b.data[i]);
    const got = a.data[i] as number;
    if (!Object.is(got, want)) expect(got, `${where}[${i}]`).toBe(want);
  }
}

describe('manifest fixtures', () => {
  for (const file of files) {
    it(`${file}: every manifest entry matches (native, file + bytes + small chunks)`, async () => {
      const fp = path.join(fixturesDir, file);
      const spec = manifest.files[file]!;
      const native = await readPickle(fp, { floatAs: 'native', intAs: 'native' });
      const mem = parsePickleBytes(readFileSync(fp), { floatAs: 'native', intAs: 'native' });
      const small = await readPickle(fp, { floatAs: 'native', intAs: 'native', chunkSize: 64 * 1024 });
      const dflt = await readPickle(fp);
      const root = native as Map<string, PyValue>;
      expect([...root.keys()]).toEqual(Object.keys(spec.splits));
      for (const [split, keys] of Object.entries(spec.splits)) {
        for (const [key, e] of Object.entries(keys)) {
          const where = `${file} ${split}.${key}`;
          checkNative(get(native, split, key), e, where);
          checkNative(get(mem, split, key), e, `${where} (bytes)`);
          checkNative(get(small, split, key), e, `${where} (64 KiB chunks)`);
          checkDefault(get(dflt, split, key), get(native, split, key), e, `${where} (default options)`);
        }
        expect([...(root.get(split) as Map<string, PyValue>).keys()].sort()).toEqual(Object.keys(keys).sort());
      }
    });
  }

  it('reports progress up to the file size', async () => {
    const fp = path.join(fixturesDir, files[0]!);
    const seen: [number, number][] = [];
    await readPickle(fp, { chunkSize: 64 * 1024, onProgress: (r, t) => seen.push([r, t]) });
    expect(seen.length).toBeGreaterThan(3);
    const size = readFileSync(fp).length;
    expect(seen[seen.length - 1]).toEqual([size, size]);
    for (let i = 1; i < seen.length; i++) expect(seen[i]![0]).toBeGreaterThan(seen[i - 1]![0]);
  });
});
