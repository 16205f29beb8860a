// Fusion 'low_rank' (LMF): the low-rank block against the plain-JS LMF formula.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { ParamStore } from '../../../../src/runtime/nn/params.js';
import { createLowRankFusion } from '../../../../src/components/fusions/low_rank/nn.js';
import { randn } from '../../../runtime/nn/ref.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('low_rank fusion', () => {
  it('low-rank fusion matches the plain-JS LMF formula and trains without the broadcast-matMul bug', () => {
    const store = new ParamStore({ seed: 6 });
    const dims = [2, 3, 2], rank = 3;
    const lmf = createLowRankFusion(store, 'lmf', dims, rank);
    expect(store.entries().map((e) => `${e.name}:${e.shape.join('x')}`)).toEqual([
      'audio_factor:3x3x1', 'video_factor:3x4x1', 'text_factor:3x3x1', 'fusion_weights:1x3', 'fusion_bias:1x1',
    ]);
    const B = 4;
    const xs = dims.map((d, i) => randn(30 + i, B * d));
    const inputs = xs.map((x, i) => tf.tensor2d(x, [B, dims[i]!]));
    const { output, z } = lmf.apply(inputs);
    const factors = lmf.factors.map((f) => f.dataSync());
    const w = lmf.fusionWeights.dataSync();
    const bias = lmf.fusionBias.dataSync()[0]!;
    for (let b = 0; b < B; b++) {
      let y = bias;
      for (let r = 0; r < rank; r++) {
        let prod = 1;
        dims.forEach((d, m) => {
          const hat = [1, ...xs[m]!.slice(b * d, (b + 1) * d)];
          prod *= hat.reduce((s, v, i) => s + v * factors[m]![r * (d + 1) + i]!, 0);
        });
        expect(Math.abs(z.dataSync()[b * rank + r]! - prod)).toBeLessThan(1e-5);
        y += w[r]! * prod;
      }
      expect(Math.abs(output.dataSync()[b]! - y)).toBeLessThan(1e-5);
    }
    const { grads } = tf.variableGrads(() => tf.sum(lmf.apply(inputs).output) as tf.Scalar, store.trainableVariables());
    for (const f of lmf.factors) expect(grads[f.name]!.dataSync().every(Number.isFinite)).toBe(true);
    store.dispose();
  });
});
