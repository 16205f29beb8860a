import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { isWasmMatMulPatched, setupBackend, setWasmMatMulPatch } from '../../src/runtime/backend.js';
import { MmsaError } from '../../src/errors.js';
import { maxAbsDiff, randn } from './nn/ref.js';

describe('setupBackend', () => {
  it('defaults to wasm with SIMD, one thread, bridged kernels, and is idempotent', async () => {
    const a = await setupBackend();
    const b = await setupBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(a.name).toBe('wasm');
    expect(a.version).toBe('4.22.0');
    expect(a.details.simd).toBe(true);
    expect(a.details.threads).toBe(1);
    expect(a.details.bridgedKernels).toContain('UnsortedSegmentSum');
    expect(a.details.bridgedKernels).toContain('Einsum');
    expect(b.details.bridgedKernels).toEqual(a.details.bridgedKernels);
  });

  it('matMul with transposeA/transposeB on patched wasm equals cpu within 1e-5', async () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[7, 5], [7, 6], true, false],
      [[7, 5], [6, 5], false, true],
      [[5, 7], [6, 5], true, true],
      [[3, 4, 5], [3, 6, 5], false, true],
      [[3, 5, 4], [3, 5, 6], true, false],
      [[2, 1, 5], [2, 1, 3], true, false],
    ];
    const run = () =>
      cases.map(([sa, sb, ta, tb], i) =>
        tf.tidy(() => {
          const a = tf.tensor(randn(10 + i, sa.reduce((x, y) => x * y)), sa);
          const b = tf.tensor(randn(20 + i, sb.reduce((x, y) => x * y)), sb);
          return Array.from(tf.matMul(a, b, ta, tb).dataSync());
        }),
      );
    await setupBackend('cpu');
    const ref = run();
    await setupBackend('wasm');
    const got = run();
    ref.forEach((r, i) => expect(maxAbsDiff(got[i]!, r)).toBeLessThan(1e-5));
    // and the gradient path (transposed matMuls) agrees too
    const gradOn = () =>
      tf.tidy(() => {
        const a = tf.tensor2d(randn(3, 12), [3, 4]);
        const b = tf.tensor2d(randn(4, 20), [4, 5]);
        const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y))))([a, b]);
        return [...ga!.dataSync(), ...gb!.dataSync()];
      });
    expect(isWasmMatMulPatched()).toBe(true);
    const gWasm = gradOn();
    setWasmMatMulPatch(false);
    expect(isWasmMatMulPatched()).toBe(false);
    const gUnpatched = gradOn();
    setWasmMatMulPatch(true);
    expect(isWasmMatMulPatched()).toBe(true);
    await setupBackend('cpu');
    const gCpu = gradOn();
    await setupBackend('wasm');
    expect(maxAbsDiff(gWasm, gCpu)).toBeLessThan(1e-4);
    expect(maxAbsDiff(gUnpatched, gCpu)).toBeLessThan(1e-4);
  });

  it('bridges UnsortedSegmentSum so gather gradients work on wasm', async () => {
    await setupBackend('wasm');
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const idx = tf.tensor1d([0, 2, 0, 0], 'int32');
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.gather(v, idx)))(x);
    expect(Array.from(g.dataSync())).toEqual([3, 3, 0, 0, 1, 1]);
    const s = tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4]), tf.tensor1d([1, 0, 1, 1], 'int32'), 2);
    expect(Array.from(s.dataSync())).toEqual([2, 8]);
    const e = tf.einsum('ij,jk->ik', tf.tensor2d([1, 2], [1, 2]), tf.tensor2d([3, 4], [2, 1]));
    expect(Array.from(e.dataSync())).toEqual([11]);
    tf.dispose([x, idx, g, s, e]);
  });

  it('asking for tensorflow without @tensorflow/tfjs-node gives MmsaError MSA6501 with the install command', async () => {
    const err = await setupBackend('tensorflow').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MmsaError);
    expect((err as MmsaError).code).toBe('MSA6501');
    expect((err as MmsaError).format()).toContain('npm i @tensorflow/tfjs-node');
    const errGpu = await setupBackend('tensorflow-gpu').catch((e: unknown) => e);
    expect((errGpu as MmsaError).format()).toContain('npm i @tensorflow/tfjs-node-gpu');
    // a failed request leaves the current backend usable
    await setupBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('an unknown backend (a typo, an options object from JavaScript, a run manifest\'s value) is MSA6504 naming the choices', async () => {
    await setupBackend('wasm');
    for (const bad of ['tfjs-node', { backend: 'cpu' }, null, 1]) {
      const err = (await setupBackend(bad as never).catch((e: unknown) => e)) as MmsaError;
      expect(err, String(bad)).toBeInstanceOf(MmsaError);
      expect(err.code).toBe('MSA6504');
      expect(err.format()).toContain('wasm, cpu, tensorflow, tensorflow-gpu');
      expect(err.format()).not.toContain('tfjs-node-gpu');
    }
    expect(((await setupBackend('tfjs-node' as never).catch((e: unknown) => e)) as MmsaError).message).toBe("unknown backend 'tfjs-node'");
    expect(((await setupBackend({ backend: 'cpu' } as never).catch((e: unknown) => e)) as MmsaError).message).toBe('unknown backend: an object where a backend name was expected');
    expect(tf.getBackend()).toBe('wasm');
  });
});

describe('wasm Identity shares data', () => {
  it('tf.clone (what tfjs uses to save tensors for gradients) does not copy, and each holder survives the other', async () => {
    await setupBackend('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    const before = tf.memory();
    const z = tf.clone(y);
    expect(tf.memory().numTensors).toBe(before.numTensors + 1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
    expect(Array.from(z.dataSync())).toEqual([1, 2, 3]);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    z.dispose();
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers - 1);
    // a variable assigned from a clone keeps its value when the clone is disposed
    const v = tf.variable(tf.zeros([2]));
    const w = tf.clone(tf.tensor1d([5, 6]));
    v.assign(w);
    w.dispose();
    expect(Array.from(v.dataSync())).toEqual([5, 6]);
    v.dispose();
  });
});


describe('wasm Slice, SplitV and Unpack copy whole runs', () => {
  it('give the values of the cpu backend for every rank, axis, begin and size, float32 and int32', async () => {
    const cases: Array<{ shape: number[]; begin: number[]; size: number[] }> = [
      { shape: [7], begin: [2], size: [4] },
      { shape: [3, 5], begin: [1, 0], size: [2, 5] },
      { shape: [3, 5], begin: [0, 1], size: [3, 3] },
      { shape: [4, 6, 5], begin: [1, 2, 0], size: [2, 3, 5] },
      { shape: [4, 6, 5], begin: [0, 0, 2], size: [4, 6, 2] },
      { shape: [4, 6, 5], begin: [3, 1, 1], size: [1, 4, 3] },
      { shape: [2, 3, 4, 5, 3], begin: [1, 0, 2, 1, 0], size: [1, 3, 2, 3, 3] },
      { shape: [2, 3, 4], begin: [0, 1, 0], size: [2, 0, 4] },
    ];
    const run = async (backend: 'cpu' | 'wasm') => {
      await setupBackend(backend);
      return cases.flatMap(({ shape, begin, size }) =>
        tf.tidy(() => {
          const n = shape.reduce((a, b) => a * b, 1);
          const f = tf.tensor(randn(n, n), shape);
          const i = tf.tensor(Array.from({ length: n }, (_, k) => k * 7 - 50), shape, 'int32');
          const ax = shape.length - 1;
          const parts = tf.split(f, [1, shape[ax]! - 1], ax).map((t) => Array.from(t.dataSync()));
          return [Array.from(tf.slice(f, begin, size).dataSync()), Array.from(tf.slice(i, begin, size).dataSync()), ...parts];
        }),
      );
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(wasm).toEqual(cpu);
  });

  it('unstack gives the values and shapes of the cpu backend on every axis, float32 and int32, and its gradient', async () => {
    const shapes = [[5], [3, 4], [4, 3, 5], [2, 3, 1, 4]];
    const run = async (backend: 'cpu' | 'wasm') => {
      await setupBackend(backend);
      return shapes.flatMap((shape) =>
        tf.tidy(() => {
          const n = shape.reduce((a, b) => a * b, 1);
          const f = tf.tensor(randn(n + 1, n), shape);
          const i = tf.tensor(Array.from({ length: n }, (_, k) => k * 3 - 20), shape, 'int32');
          return shape.flatMap((_, axis) => {
            const out = [...tf.unstack(f, axis), ...tf.unstack(i, axis)].map((t) => [t.shape, t.dtype, Array.from(t.dataSync())]);
            // An axis of length 1 included: tfjs's own Unpack gradient fails there (src/runtime/backend/gradients.ts).
            const w = tf.tensor(randn(n + 2, n), shape);
            const grad = tf.grad((x: tf.Tensor) => tf.addN(tf.unstack(tf.mul(x, w), axis).map((t, k) => tf.mul(tf.sum(t), k + 1))))(f);
            return [...out, Array.from(grad.dataSync())];
          });
        }),
      );
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(wasm).toEqual(cpu);
  });

  it('unstack along an axis of length 1 and split into one piece have gradients on every backend (tfjs own fail)', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      await setupBackend(backend);
      tf.tidy(() => {
        const x = tf.tensor(randn(7, 12), [3, 1, 4]);
        const w = tf.tensor(randn(8, 12), [3, 4]);
        const viaUnstack = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.unstack(v, 1)[0]!, w)))(x);
        expect(viaUnstack.shape, backend).toEqual([3, 1, 4]);
        expect(Array.from(viaUnstack.dataSync()), backend).toEqual(Array.from(w.dataSync()));
        const viaSplit = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.split(v, 1, 2)[0]!, tf.reshape(w, [3, 1, 4]))))(x);
        expect(Array.from(viaSplit.dataSync()), backend).toEqual(Array.from(w.dataSync()));
      });
    }
  });

  it('unstack on wasm copies on the heap: it never reads the input out of the heap (tfjs read it once per output)', async () => {
    await setupBackend('wasm');
    const backend = tf.backend() as unknown as { readSync(id: tf.DataId): unknown };
    const readSync = backend.readSync;
    let reads = 0;
    backend.readSync = function (this: unknown, id: tf.DataId) {
      reads += 1;
      return readSync.call(this, id);
    };
    try {
      const x = tf.tensor(randn(3, 6 * 4 * 5), [6, 4, 5]);
      const parts = tf.unstack(x, 0);
      expect(reads).toBe(0);
      expect(parts.map((t) => t.shape)).toEqual(new Array(6).fill([4, 5]));
      tf.dispose([x, ...parts]);
    } finally {
      backend.readSync = readSync;
    }
  });
});
