// A worker process keeps the last feature file it parsed (src/runtime/data/file-reuse.ts): a second run on the same
// unchanged file is answered from memory, with data of its own, and anything else reads the file again.

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { clonePy, enableFileReuse, fileReuseHits, readWithReuse } from '../../../src/runtime/data/file-reuse.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import { isPyTuple, markTuple, NDArray } from '../../../src/runtime/data/pickle/values.js';
import type { LoadedDataset } from '../../../src/runtime/data/types.js';
import { customDataset, fixture, makeIr, mosi } from './data-test-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'mmsa-reuse-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// Reuse is per process: leave it off for the other tests of this worker.
afterEach(() => enableFileReuse({ MMSA_DATA_REUSE: '0' }));

const irOf = (file: string) =>
  makeIr(customDataset(file, mosi(), { M: 'regression_labels' }), {
    text: { feature: 'text' },
    // In-place conversions of the builder: -inf -> 0 on audio, z-scores on vision.
    audio: { feature: 'audio', preprocess: { neg_inf_to_zero: true } },
    vision: { feature: 'vision', preprocess: { normalize: 'standard' } },
  });

function snapshot(d: LoadedDataset): unknown {
  return (['train', 'valid', 'test'] as const).map((s) => ({
    features: Object.fromEntries(Object.entries(d[s].features).map(([k, f]) => [k, [f.shape, Array.from(f.data)]])),
    lengths: Object.fromEntries(Object.entries(d[s].lengths).map(([k, l]) => [k, Array.from(l!)])),
    labels: Object.fromEntries(Object.entries(d[s].labels).map(([k, l]) => [k, Array.from(l!)])),
    ids: d[s].ids,
  }));
}

describe('reuse of the last feature file in a worker process', () => {
  it('answers a second load of the same file from memory, with arrays of its own', async () => {
    const file = join(tmp, 'same.pkl');
    copyFileSync(fixture('mosi_unaligned_tiny.p4.pkl'), file);
    enableFileReuse({ MMSA_DATA_REUSE: '0' });
    const reference = snapshot(await loadDataset(irOf(file)));

    enableFileReuse({});
    const before = fileReuseHits();
    const first = await loadDataset(irOf(file));
    expect(snapshot(first)).toEqual(reference);
    // A run may overwrite its arrays: the next run must not see it.
    for (const s of ['train', 'valid', 'test'] as const) for (const f of Object.values(first[s].features)) f.data.fill(999);
    const second = await loadDataset(irOf(file));
    expect(fileReuseHits()).toBe(before + 1);
    expect(snapshot(second)).toEqual(reference);
    expect(second.train.features['audio']!.data).not.toBe(first.train.features['audio']!.data);
    const third = await loadDataset(irOf(file));
    expect(fileReuseHits()).toBe(before + 2);
    expect(snapshot(third)).toEqual(reference);
  });

  it('reads the file again when it changed, when other keys are asked for, and when MMSA_DATA_REUSE=0', async () => {
    const file = join(tmp, 'changing.pkl');
    copyFileSync(fixture('mosi_unaligned_tiny.p4.pkl'), file);
    enableFileReuse({});
    const h0 = fileReuseHits();
    await loadDataset(irOf(file));
    // Same arrays, another pickle protocol: another size, so another file to the cache.
    copyFileSync(fixture('mosi_unaligned_tiny.p2.pkl'), file);
    const changed = await loadDataset(irOf(file));
    expect(fileReuseHits()).toBe(h0);
    enableFileReuse({ MMSA_DATA_REUSE: '0' });
    expect(snapshot(changed)).toEqual(snapshot(await loadDataset(irOf(file))));

    enableFileReuse({});
    let reads = 0;
    const read = async () => (reads++, new Map([['k', 1]]));
    await readWithReuse(file, ['a', 'b'], read);
    await readWithReuse(file, ['b', 'a'], read);
    expect(reads).toBe(1);
    await readWithReuse(file, ['a'], read);
    expect(reads).toBe(2);

    enableFileReuse({ MMSA_DATA_REUSE: '0' });
    await readWithReuse(file, ['a'], read);
    await readWithReuse(file, ['a'], read);
    expect(reads).toBe(4);

    // Over the size limit: never kept.
    enableFileReuse({}, 10);
    await readWithReuse(file, ['a'], read);
    await readWithReuse(file, ['a'], read);
    expect(reads).toBe(6);
  });

  it('copies containers and array storage, keeping tuples tuples', () => {
    const arr = new NDArray('float32', '<f4', [2], new Float32Array([1, 2]));
    const value = new Map<unknown, unknown>([['x', markTuple([arr, 'a', 3])], ['s', new Set([1])], ['b', new Uint8Array([7])]]);
    const copy = clonePy(value as never) as Map<string, unknown>;
    expect(copy).not.toBe(value);
    const t = copy.get('x') as [NDArray, string, number];
    expect(isPyTuple(t)).toBe(true);
    expect(t[0]).not.toBe(arr);
    expect(t[0].data).not.toBe(arr.data);
    expect(Array.from(t[0].data as Float32Array)).toEqual([1, 2]);
    expect(t[0].shape).toEqual([2]);
    expect(copy.get('s')).toEqual(new Set([1]));
    expect(copy.get('b')).not.toBe(value.get('b'));
    expect(Array.from(copy.get('b') as Uint8Array)).toEqual([7]);
  });
});
