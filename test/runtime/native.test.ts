import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { activeNativeKernels, isNativeMatMulActive, isWasmMatMulPatched, setNativeMatMul, setupBackend } from '../../src/runtime/backend.js';
import { missingCpuFlags, NATIVE_VERSION, resolveNativeMode, resolveThreads, type NativeKernels } from '../../src/runtime/native.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeDisabled, requireNative } from '../helpers/native.js';
import { mulberry32 } from '../helpers/prng.js';

/** C = op(A) op(B) in float64, plus sum |a||b| per element for the error bound. */
function refGemm(batch: number, M: number, N: number, K: number, tA: boolean, tB: boolean, A: Float32Array, sA: number, B: Float32Array, sB: number) {
  const c = new Float64Array(batch * M * N);
  const mag = new Float64Array(batch * M * N);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        let m = 0;
        for (let k = 0; k < K; k++) {
          const a = A[b * sA + (tA ? k * M + i : i * K + k)]!;
          const v = B[b * sB + (tB ? j * K + k : k * N + j)]!;
          s += a * v;
          m += Math.abs(a * v);
        }
        c[(b * M + i) * N + j] = s;
        mag[(b * M + i) * N + j] = m;
      }
    }
  }
  return { c, mag };
}

describe.skipIf(nativeDisabled)('native sgemm (the addon, on a plain ArrayBuffer)', () => {
  let k: NativeKernels;
  beforeAll(() => {
    k = requireNative();
  });

  it('reports the instruction set it was built for', () => {
    const info = k.info();
    expect(info.version).toBe(NATIVE_VERSION);
    expect(['avx512', 'avx2', 'generic']).toContain(info.isa);
  });

  it('matches a float64 reference for every transpose, odd sizes, broadcast batches and offsets, the same bits for 1-3 threads', () => {
    const rnd = mulberry32(7);
    const sizes = [1, 2, 3, 7, 16, 17, 31, 33, 64, 65, 97];
    const pick = () => sizes[Math.floor(rnd() * sizes.length)]!;
    for (let n = 0; n < 120; n++) {
      const M = pick(), N = pick(), K = n % 17 === 0 ? 0 : pick();
      const batch = 1 + Math.floor(rnd() * 3);
      const tA = rnd() < 0.5, tB = rnd() < 0.5;
      const bcastA = batch > 1 && rnd() < 0.3, bcastB = batch > 1 && !bcastA && rnd() < 0.3;
      const sA = bcastA ? 0 : M * K, sB = bcastB ? 0 : K * N;
      const offA = 3, offB = offA + (bcastA ? 1 : batch) * M * K + 5, offC = offB + (bcastB ? 1 : batch) * K * N + 1;
      const heap = new Float32Array(offC + batch * M * N + 2);
      for (let i = 0; i < offC; i++) heap[i] = rnd() * 2 - 1;
      const A = heap.slice(offA, offB - 5), B = heap.slice(offB, offC - 1);
      const { c, mag } = refGemm(batch, M, N, K, tA, tB, A, sA, B, sB);
      const outs: Float32Array[] = [];
      for (const threads of [1, 2, 3]) {
        heap.fill(123, offC);
        k.sgemm(heap.buffer, batch, M, N, K, tA ? 1 : 0, tB ? 1 : 0, offA, sA, offB, sB, offC, M * N, threads);
        outs.push(heap.slice(offC, offC + batch * M * N));
        expect(heap[offC + batch * M * N]).toBe(123); // nothing written past C
      }
      const got = outs[0]!;
      for (let i = 0; i < got.length; i++) {
        const tol = 2e-6 * mag[i]! + 1e-30;
        if (!(Math.abs(got[i]! - c[i]!) <= tol)) throw new Error(`case ${n} (${batch}x${M}x${N}x${K} tA=${tA} tB=${tB}): C[${i}] = ${got[i]} vs ${c[i]}`);
      }
      expect(Buffer.from(outs[1]!.buffer).equals(Buffer.from(got.buffer))).toBe(true);
      expect(Buffer.from(outs[2]!.buffer).equals(Buffer.from(got.buffer))).toBe(true);
    }
  });

  it('large products (a text-LSTM projection and a TFN-wide K) stay within float32 accuracy, threads bit-identical', () => {
    const rnd = mulberry32(11);
    for (const [M, N, K, tA, tB] of [[300, 256, 768, 0, 1], [256, 768, 300, 1, 0], [8, 16, 140481, 0, 0]] as const) {
      const heap = new Float32Array(M * K + K * N + M * N);
      for (let i = 0; i < M * K + K * N; i++) heap[i] = rnd() - 0.5;
      const A = heap.subarray(0, M * K), B = heap.subarray(M * K, M * K + K * N);
      const { c, mag } = refGemm(1, M, N, K, tA === 1, tB === 1, A, 0, B, 0);
      k.sgemm(heap.buffer, 1, M, N, K, tA, tB, 0, 0, M * K, 0, M * K + K * N, M * N, 1);
      const one = heap.slice(M * K + K * N);
      k.sgemm(heap.buffer, 1, M, N, K, tA, tB, 0, 0, M * K, 0, M * K + K * N, M * N, 2);
      const two = heap.slice(M * K + K * N);
      expect(Buffer.from(one.buffer).equals(Buffer.from(two.buffer))).toBe(true);
      let worst = 0;
      for (let i = 0; i < one.length; i++) worst = Math.max(worst, Math.abs(one[i]! - c[i]!) / (mag[i]! + 1e-30));
      expect(worst).toBeLessThan(2e-6);
    }
  });

  it('rejects operands outside the buffer and bad sizes with MSA6510 instead of touching memory', () => {
    const heap = new Float32Array(16);
    const call = (...a: number[]) => () => (k.sgemm as (...x: unknown[]) => void)(heap.buffer, ...a);
    expect(call(1, 4, 4, 4, 0, 0, 0, 0, 0, 0, 8, 16, 1)).toThrow(/outside the buffer/);
    expect(call(2, 2, 2, 2, 0, 0, 0, 4, 0, 4, 12, 4, 1)).toThrow(/outside the buffer/);
    expect(call(1, 0, 2, 2, 0, 0, 0, 0, 0, 0, 8, 4, 1)).toThrow(/bad sizes/);
    expect(call(1, 2, 2, 2, 0, 0, -1, 0, 0, 0, 8, 4, 1)).toThrow(/bad offsets/);
    expect(() => (k.sgemm as (...x: unknown[]) => void)(new Float32Array(4), 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1)).toThrow(/ArrayBuffer/);
    try {
      call(1, 4, 4, 4, 0, 0, 0, 0, 0, 0, 8, 16, 1)();
    } catch (e) {
      expect((e as { code?: string }).code).toBe('MSA6510');
    }
  });

  it('the LSTM recurrence splits the batch over threads with the same bits as one thread (forward, saved state, backward)', () => {
    const rnd = mulberry32(23);
    const B = 40, T = 30, H = 64, G = 4 * H; // B*H*H*T*8 = 39M multiply-adds: above the threading threshold
    const xs = Float32Array.from({ length: B * T * G }, () => rnd() * 2 - 1);
    const W = Float32Array.from({ length: G * H }, () => (rnd() - 0.5) * 0.3);
    const lens = Int32Array.from({ length: B }, (_, b) => (b * 7) % (T + 1));
    const order = Int32Array.from({ length: T }, (_, k) => T - 1 - k); // reverse direction
    const dys = Float32Array.from({ length: B * (T + 1) * H }, () => rnd() - 0.5);
    const run = (threads: number) => {
      const y = new Float32Array(B * (T + 1) * H);
      const acts = new Float32Array(B * T * G), tanhC = new Float32Array(B * T * H), cPrev = new Float32Array(B * T * H), hPrev = new Float32Array(B * T * H);
      k.lstmForward(B, T, H, T, order, lens, xs, W, y, acts, tanhC, cPrev, hPrev, threads);
      const dxp = new Float32Array(B * T * G);
      k.lstmBackward(B, T, H, T, order, lens, dys, acts, tanhC, cPrev, W, dxp, threads);
      return [y, acts, tanhC, cPrev, hPrev, dxp];
    };
    const one = run(1);
    for (const threads of [2, 3, 5]) {
      run(threads).forEach((a, i) => expect(Buffer.from(a.buffer).equals(Buffer.from(one[i]!.buffer))).toBe(true));
    }
    // rows past their length: outputs stay 0, and a zero-length row has an all-zero gradient
    const y = one[0]!;
    expect(y.subarray(0, (T + 1) * H).every((v) => v === 0)).toBe(true); // lens[0] = 0
    expect(one[5]!.subarray(0, T * G).every((v) => v === 0)).toBe(true);
    expect(y.subarray((T + 1) * H, 2 * (T + 1) * H).some((v) => v !== 0)).toBe(true); // lens[1] = 7
  });

  it('checks the LSTM entry points\' arrays before running', () => {
    const B = 2, T = 3, H = 2, G = 8;
    const order = Int32Array.from([0, 1, 2]);
    const y = new Float32Array(B * (T + 1) * H);
    const ok = () => k.lstmForward(B, T, H, 3, order, Int32Array.from([3, 1]), new Float32Array(B * T * G), new Float32Array(G * H), y, null, null, null, null, 1);
    expect(ok).not.toThrow();
    expect(() => k.lstmForward(B, T, H, 3, order, Int32Array.from([3, 4]), new Float32Array(B * T * G), new Float32Array(G * H), y, null, null, null, null, 1)).toThrow(/length is outside/);
    expect(() => k.lstmForward(B, T, H, 3, order, Int32Array.from([3, 1]), new Float32Array(B * T * G - 1), new Float32Array(G * H), y, null, null, null, null, 1)).toThrow(/xs has 47 elements, needs 48/);
    expect(() => k.lstmForward(B, T, H, 3, order, Int32Array.from([3, 1]), new Float32Array(B * T * G), new Float32Array(G * H), y, new Float32Array(B * T * G), null, null, null, 1)).toThrow(/all given or all null/);
    expect(() => k.lstmForward(B, T, H, 3, Int32Array.from([0, 5, 1]), Int32Array.from([3, 1]), new Float32Array(B * T * G), new Float32Array(G * H), y, null, null, null, null, 1)).toThrow(/order has a step outside/);
    expect(() => k.lstmBackward(B, T, H, 3, order, Float32Array.from([3, 1]) as unknown as Int32Array, y, new Float32Array(B * T * G), new Float32Array(B * T * H), new Float32Array(B * T * H), new Float32Array(G * H), new Float32Array(B * T * G), 1)).toThrow(/lens must be a Int32Array/);
  });
});

/** erf in float64: its Taylor series below |x| = 2.5, erfc's continued fraction above (both ~1e-12 or better). */
function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 2.5) {
    let cf = ax;
    for (let k = 80; k >= 1; k--) cf = ax + k / 2 / cf;
    return Math.sign(x) * (1 - Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * cf));
  }
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const t = term / (2 * n + 1);
    sum += t;
    if (Math.abs(t) < 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

describe.skipIf(nativeDisabled)('native BERT layer kernels (the addon, on a plain ArrayBuffer)', () => {
  let k: NativeKernels;
  beforeAll(() => {
    k = requireNative();
  });

  it('GELU (exact erf form) and its derivative are within float32 accuracy of float64 over [-8, 8]', () => {
    const n = 16001;
    const heap = new ArrayBuffer(4 * (5 * n + 1));
    const f = new Float32Array(heap);
    for (let i = 0; i < n; i++) f[i] = -8 + i / 1000; // x
    f[n] = 0; // bias (C = 1)
    f.fill(1, 4 * n + 1, 5 * n + 1); // dact = 1
    k.biasGelu(heap, n, 1, 0, n, n + 1, 2 * n + 1, 2); // pre, act
    k.geluBackward(heap, n, 4 * n + 1, n + 1, 3 * n + 1, 2); // dpre
    let errAct = 0;
    let errGrad = 0;
    for (let i = 0; i < n; i++) {
      const x = f[i]!;
      const cdf = 0.5 * (1 + erf64(x / Math.SQRT2));
      errAct = Math.max(errAct, Math.abs(f[2 * n + 1 + i]! - x * cdf) / Math.max(1, Math.abs(x)));
      const d = cdf + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
      errGrad = Math.max(errGrad, Math.abs(f[3 * n + 1 + i]! - d));
    }
    expect(errAct).toBeLessThan(5e-7);
    expect(errGrad).toBeLessThan(1e-6);
  });

  it('LayerNorm and softmax forward match float64, and their backward matches finite differences', () => {
    const rnd = mulberry32(5);
    const N = 6;
    const C = 40;
    const n = N * C;
    // layout: a, bias, residual, gamma, beta, y, xhat, rstd | dy, dx, dmasked, dgamma, dbeta, dbias
    const sizes = [n, C, n, C, C, n, n, N, n, n, n, C, C, C];
    const offs: number[] = [];
    let total = 0;
    for (const s of sizes) {
      offs.push(total);
      total += s;
    }
    const heap = new ArrayBuffer(4 * total);
    const f = new Float32Array(heap);
    for (const i of [0, 1, 2, 3, 4, 8]) for (let j = 0; j < sizes[i]!; j++) f[offs[i]! + j] = i === 3 ? 1 + 0.3 * (rnd() - 0.5) : rnd() - 0.5;
    const mask = Float32Array.from({ length: n }, () => (rnd() < 0.1 ? 0 : 1 / 0.9));
    const o = offs as [number, number, number, number, number, number, number, number, number, number, number, number, number, number];
    const forward = () => k.layerNormForward(heap, N, C, o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7], 2, mask, 1e-12);
    forward();
    const loss = () => {
      let l = 0;
      for (let i = 0; i < n; i++) l += f[o[5] + i]! * f[o[8] + i]!;
      return l;
    };
    for (let r = 0; r < N; r++) {
      const row = Array.from({ length: C }, (_, j) => (f[o[0] + r * C + j]! + f[o[1] + j]!) * mask[r * C + j]! + f[o[2] + r * C + j]!);
      const mean = row.reduce((a, b) => a + b, 0) / C;
      const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / C;
      for (let j = 0; j < C; j++) {
        const y = ((row[j]! - mean) / Math.sqrt(v + 1e-12)) * f[o[3] + j]! + f[o[4] + j]!;
        expect(Math.abs(f[o[5] + r * C + j]! - y)).toBeLessThan(2e-6);
      }
    }
    k.layerNormBackward(heap, N, C, o[8], o[6], o[7], o[3], o[9], o[10], o[11], o[12], o[13], 2, mask);
    // d loss / d a[i] by central differences (in float64 over the float32 forward)
    for (const i of [0, 7, 45, 130, 239]) {
      const keep = f[o[0] + i]!;
      const h = 1e-2;
      f[o[0] + i] = keep + h;
      forward();
      const up = loss();
      f[o[0] + i] = keep - h;
      forward();
      const down = loss();
      f[o[0] + i] = keep;
      expect(Math.abs((up - down) / (2 * h) - f[o[10] + i]!)).toBeLessThan(2e-3);
    }
    forward();
    const dbias0 = Array.from({ length: N }, (_, r) => f[o[10] + r * C]!).reduce((a, b) => a + b, 0);
    expect(f[o[13]]!).toBeCloseTo(dbias0, 5);

    // softmax over keys with an additive mask, dropout, and its backward
    const B = 2;
    const H = 3;
    const L = 5;
    const rows = B * H * L;
    const sm = new Float32Array(new ArrayBuffer(4 * (5 * rows * L + B * L)));
    for (let i = 0; i < rows * L; i++) sm[i] = 3 * (rnd() - 0.5);
    for (let b = 0; b < B; b++) for (let j = 0; j < L; j++) sm[rows * L + b * L + j] = j < L - b ? 0 : -10000;
    const dm = Float32Array.from({ length: rows * L }, () => (rnd() < 0.1 ? 0 : 1 / 0.9));
    const P = rows * L + B * L;
    k.softmaxForward(sm.buffer, B, H, L, 0, rows * L, P, P + rows * L, 1, dm, 0.125);
    for (let r = 0; r < rows; r++) {
      const b = Math.floor(r / (H * L));
      const z = Array.from({ length: L }, (_, j) => sm[r * L + j]! * 0.125 + sm[rows * L + b * L + j]!);
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, c) => a + c, 0);
      for (let j = 0; j < L; j++) {
        expect(Math.abs(sm[P + r * L + j]! - e[j]! / s)).toBeLessThan(1e-6);
        expect(sm[P + rows * L + r * L + j]).toBe(Math.fround(sm[P + r * L + j]! * dm[r * L + j]!));
      }
    }
    for (let i = 0; i < rows * L; i++) sm[P + 2 * rows * L + i] = rnd() - 0.5; // d dropped
    k.softmaxBackward(sm.buffer, rows, L, P, P + 2 * rows * L, P + 3 * rows * L, 1, dm, 0.125);
    for (let r = 0; r < rows; r++) {
      const p = Array.from({ length: L }, (_, j) => sm[P + r * L + j]!);
      const dp = Array.from({ length: L }, (_, j) => sm[P + 2 * rows * L + r * L + j]! * dm[r * L + j]!);
      const dot = p.reduce((a, v, j) => a + v * dp[j]!, 0);
      for (let j = 0; j < L; j++) expect(Math.abs(sm[P + 3 * rows * L + r * L + j]! - p[j]! * (dp[j]! - dot) * 0.125)).toBeLessThan(1e-6);
    }
  });

  it('rejects operands outside the buffer with MSA6510', () => {
    const heap = new ArrayBuffer(4 * 100);
    expect(() => k.biasGelu(heap, 10, 10, 0, 100, 0, 0, 1)).toThrowError(/biasGelu: operand outside the buffer/);
    expect(() => k.layerNormForward(heap, 10, 10, 0, 0, 0, 0, 0, 0, 0, 95, 1, null, 1e-12)).toThrowError(/outside the buffer/);
    expect(() => k.softmaxBackward(heap, 10, 10, 0, 0, 0, 1, new Float32Array(5), 1)).toThrowError(/mask has 5 elements, needs 100/);
  });
});

describe.skipIf(nativeDisabled)('native BatchMatMul under the wasm backend', () => {
  beforeAll(async () => {
    requireNative();
    await setupBackend('wasm');
  });

  it('is on by default, recorded in the backend details, and off with native: off', async () => {
    const on = await setupBackend('wasm');
    expect(on.details.native).toMatchObject({ active: true, threads: resolveThreads() });
    expect(isNativeMatMulActive()).toBe(true);
    const off = await setupBackend('wasm', { native: 'off' });
    expect(off.details.native).toMatchObject({ active: false, reason: expect.stringMatching(/disabled/) });
    expect(isNativeMatMulActive()).toBe(false);
    expect(isWasmMatMulPatched()).toBe(true);
    await setupBackend('wasm', { native: 'on', threads: 2 });
    expect(activeNativeKernels()?.threads).toBe(2);
    await setupBackend('wasm');
  });

  it('gives what XNNPACK gives (transposes, rank 3, one-against-many broadcast, gradients) and falls back for general broadcasts', () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[37, 19], [19, 23], false, false],
      [[19, 37], [19, 23], true, false],
      [[37, 19], [23, 19], false, true],
      [[4, 19, 37], [4, 23, 19], true, true],
      [[4, 7, 9], [9, 5], false, false],
      [[5, 9], [3, 5, 6], true, false],
      [[2, 1, 4, 5], [1, 3, 5, 6], false, false],
      [[0, 5], [5, 3], false, false],
    ];
    const rnd = mulberry32(5);
    const inputs = cases.map(([sa, sb]) => [sa, sb].map((s) => tf.tensor(Float32Array.from({ length: s.reduce((x, y) => x * y, 1) }, () => rnd() - 0.5), s)));
    const run = () => cases.map(([, , ta, tb], i) => tf.matMul(inputs[i]![0]!, inputs[i]![1]!, ta, tb));
    const saved = activeNativeKernels()!;
    const native = run();
    setNativeMatMul(undefined);
    const xnn = run();
    setNativeMatMul(saved.mod, saved.threads);
    native.forEach((t, i) => {
      expect(t.shape).toEqual(xnn[i]!.shape);
      const a = t.dataSync(), b = xnn[i]!.dataSync();
      for (let j = 0; j < a.length; j++) if (!(Math.abs(a[j]! - b[j]! ) < 1e-5)) throw new Error(`case ${i}: element ${j}: native ${a[j]} vs ${b[j]}`);
    });
    const grad = () => tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, w, false, true))))([inputs[2]![0]!, inputs[2]![1]!]);
    const gn = grad();
    setNativeMatMul(undefined);
    const gx = grad();
    setNativeMatMul(saved.mod, saved.threads);
    gn.forEach((g, i) => expect(tf.max(tf.abs(tf.sub(g, gx[i]!))).dataSync()[0]).toBeLessThan(1e-4));
    tf.dispose([...inputs.flat(), ...native, ...xnn, ...gn, ...gx]);
  });

  it('an empty inner dimension gives zeros (XNNPACK on wasm leaves the output uninitialised)', () => {
    const y = tf.matMul(tf.zeros([4, 0]), tf.zeros([0, 3]));
    expect(y.shape).toEqual([4, 3]);
    expect(Array.from(y.dataSync())).toEqual(new Array(12).fill(0));
    y.dispose();
  });

  it('Sum over leading axes (bias gradients) agrees with the transposing wasm kernel; other axes fall back', () => {
    const rnd = mulberry32(9);
    const x = tf.tensor(Float32Array.from({ length: 6 * 5 * 7 }, () => rnd() - 0.5), [6, 5, 7]);
    const empty = tf.zeros([0, 4]);
    const cases: [tf.Tensor, number | number[], boolean][] = [[x, 0, false], [x, [0, 1], false], [x, [1, 0], true], [x, -3, true], [x, 1, false], [x, [0, 2], false], [x, 2, true], [empty, 0, false]];
    const run = () => cases.map(([t, axis, keep]) => tf.sum(t, axis, keep));
    const saved = activeNativeKernels()!;
    const a = run();
    setNativeMatMul(undefined);
    const b = run();
    setNativeMatMul(saved.mod, saved.threads);
    a.forEach((t, i) => {
      expect(t.shape).toEqual(b[i]!.shape);
      const u = t.dataSync(), v = b[i]!.dataSync();
      for (let j = 0; j < u.length; j++) expect(Math.abs(u[j]! - v[j]!)).toBeLessThan(1e-5);
    });
    expect(Array.from(a[7]!.dataSync())).toEqual([0, 0, 0, 0]);
    // the bias gradient of x W^T + b goes through it
    const w = tf.randomNormal([3, 7]);
    const bias = tf.zeros([3]);
    const g = tf.grad((bb: tf.Tensor) => tf.sum(tf.square(tf.add(tf.matMul(tf.reshape(x, [30, 7]), w, false, true), bb))))(bias);
    const y = tf.add(tf.matMul(tf.reshape(x, [30, 7]), w, false, true), bias);
    const ref = tf.sum(tf.mul(y, 2), 0);
    expect(tf.max(tf.abs(tf.sub(g, ref))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, empty, ...a, ...b, w, bias, g, y, ref]);
  });

  it('frees what it allocates', () => {
    const a = tf.randomNormal([20, 30]);
    const b = tf.randomNormal([40, 30]);
    tf.matMul(a, b, false, true).dispose();
    const before = tf.memory();
    for (let i = 0; i < 5; i++) tf.matMul(a, b, false, true).dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    tf.dispose([a, b]);
  });
});

describe('native mode and threads from options and the environment', () => {
  it('resolves explicit values first, then MMSA_NATIVE / MMSA_THREADS', () => {
    const env = { ...process.env };
    try {
      delete process.env.MMSA_NATIVE;
      expect(resolveNativeMode()).toBe('auto');
      process.env.MMSA_NATIVE = '0';
      expect(resolveNativeMode()).toBe('off');
      expect(resolveNativeMode('on')).toBe('on');
      process.env.MMSA_NATIVE = 'on';
      expect(resolveNativeMode()).toBe('on');
      process.env.MMSA_THREADS = '3';
      expect(resolveThreads()).toBe(3);
      expect(resolveThreads(1)).toBe(1);
      process.env.MMSA_THREADS = 'lots';
      expect(resolveThreads()).toBeGreaterThanOrEqual(1);
      expect(resolveThreads(500)).toBe(64);
    } finally {
      process.env = env;
    }
  });
});

describe('a native library built on another CPU', () => {
  it('is refused when this CPU lacks an instruction-set feature the build machine had (no SIGILL), kept otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsa-cpu-'));
    const lib = join(dir, 'x.node');
    const cpuinfo = join(dir, 'cpuinfo');
    writeFileSync(cpuinfo, 'processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma\n');
    writeFileSync(`${lib}.cpu.json`, JSON.stringify({ march: '-march=native', flags: ['avx', 'avx2', 'avx512f', 'avx512bw', 'fma', 'hypervisor', 'sse'] }));
    expect(missingCpuFlags(lib, cpuinfo)).toEqual(['avx512f', 'avx512bw']); // 'hypervisor' is not an instruction set
    writeFileSync(`${lib}.cpu.json`, JSON.stringify({ march: '-march=native', flags: ['avx', 'avx2', 'fma', 'sse'] }));
    expect(missingCpuFlags(lib, cpuinfo)).toEqual([]);
    writeFileSync(`${lib}.cpu.json`, JSON.stringify({ march: '', flags: ['avx512f'] })); // built without -march=native
    expect(missingCpuFlags(lib, cpuinfo)).toEqual([]);
    expect(missingCpuFlags(join(dir, 'no-record.node'), cpuinfo)).toEqual([]);
  });
});
