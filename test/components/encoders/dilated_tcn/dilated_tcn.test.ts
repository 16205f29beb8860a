// Encoder 'dilated_tcn': parallel dilated convolutions mixed and added residually, masked pooling, against plain JS;
// a padded row gives what the row alone gives; gradients checked numerically; the memory hook grows with frames.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import type { Ir, IrNode } from '../../../../src/compiler/ir/types.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { linearRef, maxAbsDiff, randn, reshape2, reshape3, type Mat } from '../../../runtime/nn/ref.js';
import { addM, conv1dRef, convWeight, meanRows, reluM } from '../../conv-ref.js';
import { checkParamGradient, gradError } from '../../grad-check.js';
import { lowerOne, seq, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('dilated_tcn encoder', () => {
  const params = { type: 'dilated_tcn', channels: 3, kernel: 3, dilations: [1, 2, 4], blocks: 2, dropout: 0, pool: 'mean', out: 2 };

  function reference(n: ReturnType<typeof lowerOne>, row: Mat): number[] {
    let h = linearRef(row, reshape2(n.values('proj.weight'), 3, row[0]!.length), n.values('proj.bias'));
    for (let b = 0; b < 2; b++) {
      const scales = params.dilations.map((d, j) => reluM(conv1dRef(h, convWeight(n.values(`blocks.${b}.branches.${j}.weight`), 3, 3, 3), n.values(`blocks.${b}.branches.${j}.bias`), { padding: 'same', dilation: d })));
      const cat = h.map((_, t) => scales.flatMap((s) => s[t]!));
      const mixed = conv1dRef(cat, convWeight(n.values(`blocks.${b}.mix.weight`), 3, 9, 1), n.values(`blocks.${b}.mix.bias`), { padding: 'same' });
      h = reluM(addM(h, mixed));
    }
    return linearRef([meanRows(h)], reshape2(n.values('linear.weight'), 2, 3), n.values('linear.bias'))[0]!;
  }

  it('multi-scale blocks against plain JS; padded frames never leak', () => {
    const n = lowerOne('encoder', params, [['vision', seq(9, 4, { lengths: 'vision_lengths' })]]);
    expect(n.node.params.find((p) => p.name === 'blocks.1.mix.weight')!.shape).toEqual([3, 9, 1]);
    const x = reshape3(randn(21, 2 * 9 * 4), 2, 9, 4);
    const lengths = [9, 5];
    const dirty = x.map((r, b) => r.map((f, t) => (t < lengths[b]! ? f : f.map(() => 1e3))));
    const y = n.lowered.apply([value(tf.tensor3d(dirty), lengths)], evalCtx()).tensor;
    const want = x.map((row, b) => reference(n, row.slice(0, lengths[b])));
    expect(maxAbsDiff(y.dataSync(), want.flat())).toBeLessThan(1e-5);
    n.dispose();
  });

  it('has the gradients of its maths (numerical check on a tiny case)', () => {
    const n = lowerOne('encoder', { ...params, blocks: 1, dilations: [1, 3] }, [['audio', seq(8, 2, { lengths: 'audio_lengths' })]], 9);
    const c = checkParamGradient(n.lowered, n.store, value(tf.tensor3d(reshape3(randn(8, 2 * 8 * 2), 2, 8, 2)), [8, 6]));
    expect(gradError(c)).toBeLessThan(1e-2);
    expect(Math.abs(c.analytic)).toBeGreaterThan(1e-3);
    n.dispose();
  });

  it('declares memory per frame: a 10^4-frame session costs 100x a 10^2-frame one', () => {
    const def = getComponent('encoder', 'dilated_tcn')!;
    const at = (T: number) => {
      const input = { id: 'modalities.audio', output: seq(T, 74) } as IrNode;
      const node = { id: 'encoders.audio', inputs: ['modalities.audio'], config: params, output: { kind: 'vector', shape: ['B', 2], dtype: 'float32' } } as unknown as IrNode;
      return def.stepMemory!(node, { ir: { nodes: [input, node] } as unknown as Ir, batch: 8, mode: 'keep', frozen: false }).saved;
    };
    expect(at(10000) / at(100)).toBeCloseTo(100, 0);
    expect(at(10000)).toBeGreaterThan(8 * 10000 * 74 * 4);
  });
});
