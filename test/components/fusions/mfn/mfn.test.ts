// Fusion 'mfn' (MFN): the all-steps-at-once formulation (fused LSTMs, recomputed cell states, batched attention, the
// memory loop) against MMSA's own step-by-step loop written with plain tfjs ops, forward and gradients.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { linearScan, runLstmCell, type LstmCell } from '../../../../src/components/fusions/mfn/nn.js';
import { lowerOne, seq, value, type OneNode } from '../../helpers.js';
import { evalCtx, trainCtx } from '../../../../src/runtime/nn/params.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

/** nn.LSTMCell's step: gates i, f, g, o from x W_ih^T + b_ih + h W_hh^T + b_hh. */
function cellStep(x: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D, w: { wih: tf.Tensor; whh: tf.Tensor; bih: tf.Tensor; bhh: tf.Tensor }): [tf.Tensor2D, tf.Tensor2D] {
  const H = h.shape[1];
  const g = tf.add(tf.add(tf.matMul(x, w.wih as tf.Tensor2D, false, true), w.bih), tf.add(tf.matMul(h, w.whh as tf.Tensor2D, false, true), w.bhh));
  const [i, f, gg, o] = tf.split(g, [H, H, H, H], 1);
  const c2 = tf.add(tf.mul(tf.sigmoid(f!), c), tf.mul(tf.sigmoid(i!), tf.tanh(gg!))) as tf.Tensor2D;
  return [tf.mul(tf.sigmoid(o!), tf.tanh(c2)) as tf.Tensor2D, c2];
}

const lin = (x: tf.Tensor, n: OneNode, name: string) => tf.add(tf.matMul(x as tf.Tensor2D, n.store.get(`fusion.${name}.weight`) as tf.Tensor2D, false, true), n.store.get(`fusion.${name}.bias`));

/** MMSA's MFN.forward, one step at a time (eval mode: no dropout), returning [h_l; h_a; h_v; mem]. */
function mmsaLoop(n: OneNode, xs: tf.Tensor3D[], names: string[], hidden: number[], mem: number): tf.Tensor2D {
  const B = xs[0]!.shape[0];
  const T = xs[0]!.shape[1];
  const w = names.map((m) => ({ wih: n.store.get(`fusion.lstm_${m}.weight_ih`), whh: n.store.get(`fusion.lstm_${m}.weight_hh`), bih: n.store.get(`fusion.lstm_${m}.bias_ih`), bhh: n.store.get(`fusion.lstm_${m}.bias_hh`) }));
  let h = hidden.map((H) => tf.zeros([B, H]) as tf.Tensor2D);
  let c = hidden.map((H) => tf.zeros([B, H]) as tf.Tensor2D);
  let m = tf.zeros([B, mem]) as tf.Tensor2D;
  for (let t = 0; t < T; t++) {
    const next = xs.map((x, k) => cellStep(tf.reshape(tf.slice(x, [0, t, 0], [B, 1, -1]), [B, -1]) as tf.Tensor2D, h[k]!, c[k]!, w[k]!));
    const cStar = tf.concat([...c, ...next.map((s) => s[1])], 1);
    const attention = tf.softmax(lin(tf.relu(lin(cStar, n, 'att1_fc1')), n, 'att1_fc2'));
    const attended = tf.mul(attention, cStar);
    const cHat = tf.tanh(lin(tf.relu(lin(attended, n, 'att2_fc1')), n, 'att2_fc2'));
    const both = tf.concat([attended, m], 1);
    const g1 = tf.sigmoid(lin(tf.relu(lin(both, n, 'gamma1_fc1')), n, 'gamma1_fc2'));
    const g2 = tf.sigmoid(lin(tf.relu(lin(both, n, 'gamma2_fc1')), n, 'gamma2_fc2'));
    m = tf.add(tf.mul(g1, m), tf.mul(g2, cHat)) as tf.Tensor2D;
    h = next.map((s) => s[0]);
    c = next.map((s) => s[1]);
  }
  return tf.concat([...h, m], 1) as tf.Tensor2D;
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;

describe('mfn nn', () => {
  it('linearScan: s_t = a_t s_(t-1) + b_t, and its gradients, match the unrolled ops', () => {
    const a = rand([2, 5, 3], 1) as tf.Tensor3D;
    const b = rand([2, 5, 3], 2) as tf.Tensor3D;
    const r = rand([2, 5, 3], 3);
    const unrolled = (x: tf.Tensor3D, y: tf.Tensor3D) => {
      let s = tf.zeros([2, 3]);
      const out: tf.Tensor[] = [];
      for (let t = 0; t < 5; t++) {
        s = tf.add(tf.mul(tf.reshape(tf.slice(x, [0, t, 0], [2, 1, 3]), [2, 3]), s), tf.reshape(tf.slice(y, [0, t, 0], [2, 1, 3]), [2, 3]));
        out.push(s);
      }
      return tf.stack(out, 1);
    };
    expect(maxDiff(linearScan(a, b), unrolled(a, b))).toBeLessThan(1e-6);
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(linearScan(x as tf.Tensor3D, y as tf.Tensor3D), r)))([a, b]);
    const [ua, ub] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(unrolled(x as tf.Tensor3D, y as tf.Tensor3D), r)))([a, b]);
    expect(maxDiff(ga!, ua!)).toBeLessThan(1e-5);
    expect(maxDiff(gb!, ub!)).toBeLessThan(1e-5);
  });

  it('runLstmCell: h and the recomputed c equal nn.LSTMCell stepped over time; gradients reach the weights through both', () => {
    const x = rand([3, 6, 4], 4) as tf.Tensor3D;
    const vars = { wih: tf.variable(rand([20, 4], 5)), whh: tf.variable(rand([20, 5], 6)), bih: tf.variable(rand([20], 7)), bhh: tf.variable(rand([20], 8)) };
    const cell: LstmCell = { hidden: 5, ...vars };
    const stepped = () => {
      let h = tf.zeros([3, 5]) as tf.Tensor2D;
      let c = tf.zeros([3, 5]) as tf.Tensor2D;
      const hs: tf.Tensor[] = [];
      const cs: tf.Tensor[] = [];
      for (let t = 0; t < 6; t++) {
        [h, c] = cellStep(tf.reshape(tf.slice(x, [0, t, 0], [3, 1, 4]), [3, 4]) as tf.Tensor2D, h, c, vars);
        hs.push(h);
        cs.push(c);
      }
      return { h: tf.stack(hs, 1), c: tf.stack(cs, 1) };
    };
    const ours = runLstmCell(x, cell, { cells: true });
    const ref = stepped();
    expect(maxDiff(ours.h, ref.h)).toBeLessThan(1e-5);
    expect(maxDiff(ours.c!, ref.c)).toBeLessThan(1e-5);
    const rh = rand([3, 6, 5], 9);
    const rc = rand([3, 6, 5], 10);
    const loss = (s: { h: tf.Tensor; c?: tf.Tensor }) => tf.add(tf.sum(tf.mul(s.h, rh)), tf.sum(tf.mul(s.c!, rc))) as tf.Scalar;
    const g1 = tf.variableGrads(() => loss(runLstmCell(x, cell, { cells: true })), Object.values(vars));
    const g2 = tf.variableGrads(() => loss(stepped()), Object.values(vars));
    for (const k of Object.keys(g1.grads)) expect(maxDiff(g1.grads[k]!, g2.grads[k]!), k).toBeLessThan(1e-4);
  });
});

describe('fusion mfn', () => {
  const params = { type: 'mfn', inputs: ['text', 'audio', 'vision'], hidden: [5, 3, 4], memsize: 6, nn1: { hidden: 7, dropout: 0 }, nn2: { hidden: 4, dropout: 0 }, gamma1: { hidden: 5, dropout: 0 }, gamma2: { hidden: 3, dropout: 0 } };
  const inputs: Array<[string, ReturnType<typeof seq>]> = [['text', seq(7, 8, { aligned: true })], ['audio', seq(7, 2, { aligned: true })], ['vision', seq(7, 3, { aligned: true })]];

  it("equals MMSA's step-by-step loop, forward and gradients (eval mode)", () => {
    const n = lowerOne('fusion', params, inputs, 3);
    const xs = [rand([4, 7, 8], 11), rand([4, 7, 2], 12), rand([4, 7, 3], 13)] as tf.Tensor3D[];
    const out = n.lowered.apply(xs.map((x) => value(x)), evalCtx()).tensor;
    expect(out.shape).toEqual([4, 5 + 3 + 4 + 6]);
    const ref = mmsaLoop(n, xs, ['text', 'audio', 'vision'], [5, 3, 4], 6);
    expect(maxDiff(out, ref)).toBeLessThan(1e-5);
    const r = rand([4, 18], 14);
    const vars = n.store.entries().map((e) => e.variable);
    const g1 = tf.variableGrads(() => tf.sum(tf.mul(n.lowered.apply(xs.map((x) => value(x)), evalCtx()).tensor, r)) as tf.Scalar, vars);
    const g2 = tf.variableGrads(() => tf.sum(tf.mul(mmsaLoop(n, xs, ['text', 'audio', 'vision'], [5, 3, 4], 6), r)) as tf.Scalar, vars);
    expect(Object.keys(g1.grads).length).toBe(vars.length);
    for (const k of Object.keys(g2.grads)) expect(maxDiff(g1.grads[k]!, g2.grads[k]!), k).toBeLessThan(1e-4);
    n.dispose();
  });

  it("trains on one time step (utterance-level features): forward and gradients equal MMSA's loop", () => {
    // One step means one output of every unstack over time; tfjs's own Unpack gradient failed there
    // (src/runtime/backend/gradients.ts).
    const one: Array<[string, ReturnType<typeof seq>]> = [['text', seq(1, 8, { aligned: true })], ['audio', seq(1, 2, { aligned: true })], ['vision', seq(1, 3, { aligned: true })]];
    const n = lowerOne('fusion', { ...params, gamma1: { hidden: 5, dropout: 0.3 } }, one, 3);
    const xs = [rand([4, 1, 8], 21), rand([4, 1, 2], 22), rand([4, 1, 3], 23)] as tf.Tensor3D[];
    const r = rand([4, 18], 24);
    const vars = n.store.entries().map((e) => e.variable);
    const g1 = tf.variableGrads(() => tf.sum(tf.mul(n.lowered.apply(xs.map((x) => value(x)), evalCtx()).tensor, r)) as tf.Scalar, vars);
    const g2 = tf.variableGrads(() => tf.sum(tf.mul(mmsaLoop(n, xs, ['text', 'audio', 'vision'], [5, 3, 4], 6), r)) as tf.Scalar, vars);
    // With one step the recurrent weights see only the zero initial state: gradient 0 in MMSA's loop, none here.
    for (const k of Object.keys(g2.grads)) expect(maxDiff(g1.grads[k] ?? tf.zerosLike(g2.grads[k]!), g2.grads[k]!), k).toBeLessThan(1e-4);
    // And in training mode (dropout masks drawn per step).
    const t = tf.variableGrads(() => tf.sum(tf.mul(n.lowered.apply(xs.map((x) => value(x)), trainCtx(1)).tensor, r)) as tf.Scalar, vars);
    expect(Object.keys(t.grads).sort()).toEqual(Object.keys(g1.grads).sort());
    n.dispose();
  });

  it('dropout in the gammas changes training outputs only', () => {
    const n = lowerOne('fusion', { ...params, gamma1: { hidden: 5, dropout: 0.5 }, nn1: { hidden: 7, dropout: 0.5 } }, inputs, 3);
    const xs = [rand([4, 7, 8], 11), rand([4, 7, 2], 12), rand([4, 7, 3], 13)].map((x) => value(x));
    const e1 = n.lowered.apply(xs, evalCtx()).tensor;
    const e2 = n.lowered.apply(xs, evalCtx()).tensor;
    expect(maxDiff(e1, e2)).toBe(0);
    const t = n.lowered.apply(xs, trainCtx(1)).tensor;
    // The LSTM states do not see the dropout; the memory (last 6 columns) does.
    expect(maxDiff(tf.slice(t, [0, 0], [4, 12]), tf.slice(e1, [0, 0], [4, 12]))).toBe(0);
    expect(maxDiff(tf.slice(t, [0, 12], [4, 6]), tf.slice(e1, [0, 12], [4, 6]))).toBeGreaterThan(1e-6);
    n.dispose();
  });
});

describe('head dropout_last (MFN output layers)', () => {
  it('drops only before the last Linear', () => {
    const base = { type: 'regression', input: 'fusion', hidden: [3], dropout: 1, dropout_each: false, activation: 'relu', passthrough: false, output_range: null };
    const x = value(rand([5, 4], 15));
    const last = lowerOne('head', { ...base, dropout_last: true }, [['fusion', { kind: 'vector', shape: ['B', 4], dtype: 'float32' }]], 2);
    // Everything reaching the output Linear is dropped: each row is its bias.
    const bias = last.values('out.bias')[0]!;
    for (const v of last.lowered.apply([x], trainCtx(1)).tensor.dataSync()) expect(v).toBeCloseTo(bias, 6);
    const first = lowerOne('head', { ...base, dropout_last: false }, [['fusion', { kind: 'vector', shape: ['B', 4], dtype: 'float32' }]], 2);
    // Dropping the input instead leaves out(relu(layers.0.bias)): another constant.
    const l0 = first.values('layers.0.bias').map((b) => Math.max(0, b));
    const w = first.values('out.weight');
    const expected = l0.reduce((s, v, i) => s + v * w[i]!, bias);
    for (const v of first.lowered.apply([x], trainCtx(1)).tensor.dataSync()) expect(v).toBeCloseTo(expected, 5);
    last.dispose();
    first.dispose();
  });
});
