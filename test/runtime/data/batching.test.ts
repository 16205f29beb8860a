import { describe, expect, it } from 'vitest';
import { batchCount, epochOrder, iterateBatches, makeBatches } from '../../../src/runtime/data/batching.js';
import { Rng } from '../../../src/runtime/random.js';
import type { SplitData } from '../../../src/runtime/data/types.js';

function split(n: number): SplitData {
  const seq = new Float32Array(n * 3 * 2);
  for (let i = 0; i < seq.length; i++) seq[i] = i;
  const tok = new Int32Array(n * 3 * 4);
  for (let i = 0; i < tok.length; i++) tok[i] = i;
  return {
    name: 'train',
    n,
    ids: Array.from({ length: n }, (_, i) => `v$_$${i}`),
    features: { audio: { data: seq, shape: [n, 3, 2] }, text: { data: tok, shape: [n, 3, 4] } },
    lengths: { audio: Int32Array.from({ length: n }, (_, i) => 1 + (i % 3)) },
    labels: { M: Float32Array.from({ length: n }, (_, i) => i / 10) },
  };
}

describe('batching', () => {
  it('unshuffled: contiguous batches are zero-copy views, the last partial batch is kept', () => {
    const s = split(10);
    const b = makeBatches(s, { batchSize: 4, shuffle: false, seed: 1 });
    expect(b.map((x) => x.size)).toEqual([4, 4, 2]);
    expect(batchCount(10, 4)).toBe(3);
    expect(Array.from(b[2]!.indexes)).toEqual([8, 9]);
    const a = b[1]!.features['audio']!;
    expect(a.shape).toEqual([4, 3, 2]);
    expect(a.data.buffer).toBe(s.features['audio']!.data.buffer);
    expect(a.data.byteOffset).toBe(4 * 6 * 4);
    expect(b[1]!.labels['M']!.buffer).toBe(s.labels['M']!.buffer);
    expect(b[2]!.lengths['audio']!.buffer).toBe(s.lengths['audio']!.buffer);
    expect(Array.from(b[2]!.labels['M']!)).toEqual([0.8, 0.9].map(Math.fround));
  });

  it('shuffled: same seed and epoch give the same order, other epochs/seeds another; rows follow the indexes', () => {
    const s = split(37);
    const order = (seed: number, epoch: number) => makeBatches(s, { batchSize: 8, shuffle: true, seed, epoch }).flatMap((x) => Array.from(x.indexes));
    const o = order(5, 2);
    expect(order(5, 2)).toEqual(o);
    expect(order(5, 3)).not.toEqual(o);
    expect(order(6, 2)).not.toEqual(o);
    expect([...o].sort((x, y) => x - y)).toEqual(Array.from({ length: 37 }, (_, i) => i));
    expect(o).not.toEqual(Array.from({ length: 37 }, (_, i) => i));
    const b = makeBatches(s, { batchSize: 8, shuffle: true, seed: 5, epoch: 2 });
    expect(b.map((x) => x.size)).toEqual([8, 8, 8, 8, 5]);
    const first = b[0]!;
    expect(first.features['audio']!.data.buffer).not.toBe(s.features['audio']!.data.buffer);
    expect(first.features['text']!.data).toBeInstanceOf(Int32Array);
    first.indexes.forEach((idx, k) => {
      expect(Array.from(first.features['audio']!.data.subarray(k * 6, k * 6 + 6))).toEqual(Array.from(s.features['audio']!.data.subarray(idx * 6, idx * 6 + 6)));
      expect(Array.from(first.features['text']!.data.subarray(k * 12, k * 12 + 12))).toEqual(Array.from(s.features['text']!.data.subarray(idx * 12, idx * 12 + 12)));
      expect(first.labels['M']![k]).toBe(s.labels['M']![idx]);
      expect(first.lengths['audio']![k]).toBe(s.lengths['audio']![idx]);
    });
  });

  it('the lazy iterator yields the same batches; bad batch sizes throw', () => {
    const s = split(9);
    const lazy = [...iterateBatches(s, { batchSize: 4, shuffle: true, seed: 2 })].map((b) => Array.from(b.indexes));
    expect(lazy).toEqual(makeBatches(s, { batchSize: 4, shuffle: true, seed: 2 }).map((b) => Array.from(b.indexes)));
    expect(() => makeBatches(s, { batchSize: 0, shuffle: false, seed: 0 })).toThrow(/batch size/);
    expect(makeBatches(split(0), { batchSize: 4, shuffle: true, seed: 0 })).toEqual([]);
  });

  it('epochOrder is the identity without shuffling; the PRNG is deterministic and roughly uniform', () => {
    expect(Array.from(epochOrder(5, false, 9))).toEqual([0, 1, 2, 3, 4]);
    const r1 = new Rng(42);
    const r2 = new Rng(42);
    const xs = Array.from({ length: 2000 }, () => r1.next());
    expect(Array.from({ length: 2000 }, () => r2.next())).toEqual(xs);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    const g = new Rng(1);
    const ns = Array.from({ length: 4000 }, () => g.normal());
    const m = ns.reduce((a, b) => a + b, 0) / ns.length;
    const v = ns.reduce((a, b) => a + (b - m) ** 2, 0) / ns.length;
    expect(Math.abs(m)).toBeLessThan(0.08);
    expect(v).toBeGreaterThan(0.9);
    expect(v).toBeLessThan(1.1);
  });
});
