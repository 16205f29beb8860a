// Numerical gradient check for one lowered component: the analytic directional derivative of sum(y * w) along random
// directions (every trainable parameter, or the input) against central differences. Test helper.

import * as tf from '@tensorflow/tfjs';
import type { LoweredNode, NodeValue } from '../../src/runtime/lower/node.js';
import { evalCtx, type ParamStore } from '../../src/runtime/nn/params.js';
import { randn } from '../runtime/nn/ref.js';

export interface GradCheck {
  analytic: number;
  numeric: number;
}

/** Along one random direction over all trainable parameters of `store` (a node of several inputs gets them all). */
export function checkParamGradient(lowered: LoweredNode, store: ParamStore, input: NodeValue | NodeValue[], seed = 3, eps = 1e-3): GradCheck {
  const inputs = Array.isArray(input) ? input : [input];
  const vars = store.entries().filter((e) => e.trainable).map((e) => e.variable);
  const outShape = lowered.apply(inputs, evalCtx()).tensor.shape;
  const w = tf.tensor(randn(seed, outShape.reduce((a, b) => a * b, 1)), outShape);
  const f = () => tf.sum(tf.mul(lowered.apply(inputs, evalCtx()).tensor, w)) as tf.Scalar;
  const { grads } = tf.variableGrads(f, vars);
  const dirs = vars.map((v, i) => randn(seed * 31 + i, v.size));
  let analytic = 0;
  vars.forEach((v, i) => {
    const g = grads[v.name]!.dataSync();
    const d = dirs[i]!;
    for (let k = 0; k < g.length; k++) analytic += g[k]! * d[k]!;
  });
  const base = vars.map((v) => Float32Array.from(v.dataSync()));
  const at = (t: number) => {
    vars.forEach((v, i) => v.assign(tf.tensor(Float32Array.from(base[i]!, (x, k) => x + t * dirs[i]![k]!), v.shape)));
    return f().dataSync()[0]!;
  };
  const numeric = (at(eps) - at(-eps)) / (2 * eps);
  vars.forEach((v, i) => v.assign(tf.tensor(base[i]!, v.shape)));
  return { analytic, numeric };
}

/** Along one random direction of the input sequence. */
export function checkInputGradient(lowered: LoweredNode, input: NodeValue, seed = 5, eps = 1e-3): GradCheck {
  const x = input.tensor;
  const outShape = lowered.apply([input], evalCtx()).tensor.shape;
  const w = tf.tensor(randn(seed, outShape.reduce((a, b) => a * b, 1)), outShape);
  const f = (t: tf.Tensor) => tf.sum(tf.mul(lowered.apply([{ ...input, tensor: t }], evalCtx()).tensor, w)) as tf.Scalar;
  const g = tf.grad(f)(x).dataSync();
  const d = randn(seed * 17, x.size);
  const analytic = Array.from(g).reduce((s, v, k) => s + v * d[k]!, 0);
  const shifted = (t: number) => f(tf.add(x, tf.mul(tf.tensor(d, x.shape), t))).dataSync()[0]!;
  const numeric = (shifted(eps) - shifted(-eps)) / (2 * eps);
  return { analytic, numeric };
}

/** Relative disagreement, with a floor so a near-zero derivative is compared absolutely. */
export function gradError(c: GradCheck): number {
  return Math.abs(c.analytic - c.numeric) / Math.max(1, Math.abs(c.numeric));
}
