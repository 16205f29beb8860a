// Head 'regression': Dropout -> Linear -> activation per hidden layer, Linear to one value, the first hidden activation
// published as `hidden0`; TFN's output range squashes with constant buffers; LMF's passthrough has no layers.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { flat, linearRef, maxAbsDiff, randn, relu, reshape2, sig } from '../../../runtime/nn/ref.js';
import { lowerOne, value, vec } from '../../helpers.js';
import { runInfer } from '../../../compiler/components/fake-context.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const BASE = { type: 'regression', input: 'fusion', hidden: [4, 3], dropout: 0.5, dropout_each: false, activation: 'relu', passthrough: false, output_range: null };

describe('regression head', () => {
  it('gives one value per row and its first hidden activation as hidden0 (eval mode: no dropout)', () => {
    const n = lowerOne('head', BASE, [['fusion', vec(5)]]);
    expect(n.node.features).toEqual({ hidden0: vec(4) });
    const xs = randn(4, 2 * 5);
    const out = n.lowered.apply([value(tf.tensor2d(xs, [2, 5]))], evalCtx());
    const lin = (k: string, x: number[][], o: number, i: number) => linearRef(x, reshape2(n.values(`${k}.weight`), o, i), n.values(`${k}.bias`));
    const f = relu(lin('layers.0', reshape2(xs, 2, 5), 4, 5));
    const y = lin('out', relu(lin('layers.1', f, 3, 4)), 1, 3);
    expect(out.tensor.shape).toEqual([2, 1]);
    expect(maxAbsDiff(out.feature!.dataSync(), flat(f))).toBeLessThan(1e-5);
    expect(maxAbsDiff(out.tensor.dataSync(), flat(y))).toBeLessThan(1e-5);
    expect(getComponent('head', 'regression')!.namedOutputs!(BASE)).toEqual(['hidden0']);
    n.dispose();
  });

  it('squashes into the output range with constant buffers (TFN), even for extreme inputs', () => {
    const n = lowerOne('head', { ...BASE, output_range: [-3, 3] }, [['fusion', vec(2)]]);
    expect(n.values('output_range.scale')).toEqual([6]);
    expect(n.values('output_range.shift')).toEqual([-3]);
    expect(n.store.entry('heads.n.output_range.scale')!.trainable).toBe(false);
    const y = Array.from(n.lowered.apply([value(tf.tensor2d([[1e4, -1e4], [0.3, 0.1]]))], evalCtx()).tensor.dataSync());
    expect(y.every((v) => v >= -3 && v <= 3)).toBe(true);
    const raw = (x: number[]) => flat(linearRef([x], reshape2(n.values('out.weight'), 1, 3), n.values('out.bias')))[0]!;
    // Hidden layers: recompute the raw output of row 2 to check the squash formula exactly.
    const h1 = relu(linearRef([[0.3, 0.1]], reshape2(n.values('layers.0.weight'), 4, 2), n.values('layers.0.bias')));
    const h2 = relu(linearRef(h1, reshape2(n.values('layers.1.weight'), 3, 4), n.values('layers.1.bias')))[0]!;
    expect(y[1]).toBeCloseTo(sig(raw(h2)) * 6 - 3, 5);
    n.dispose();
  });

  it('passthrough returns its input and publishes nothing', () => {
    const p = { ...BASE, hidden: [], passthrough: true };
    const n = lowerOne('head', p, [['fusion', vec(1)]]);
    expect(n.node.params).toEqual([]);
    expect(n.lowered.apply([value(tf.tensor2d([[0.25]]))], evalCtx()).tensor.arraySync()).toEqual([[0.25]]);
    expect(getComponent('head', 'regression')!.namedOutputs!(p)).toEqual([]);
    n.dispose();
  });

  it("MulT's residual block: out(x + proj2(relu(proj1(x)))) in eval mode; no hidden layers allowed beside it", () => {
    const n = lowerOne('head', { ...BASE, hidden: [], residual: true }, [['fusion', vec(3)]]);
    expect(n.node.params.map((p) => p.name)).toEqual(['proj1.weight', 'proj1.bias', 'proj2.weight', 'proj2.bias', 'out.weight', 'out.bias']);
    const xs = randn(9, 2 * 3);
    const lin = (k: string, x: number[][], o: number, i: number) => linearRef(x, reshape2(n.values(`${k}.weight`), o, i), n.values(`${k}.bias`));
    const x = reshape2(xs, 2, 3);
    const r = lin('proj2', relu(lin('proj1', x, 3, 3)), 3, 3).map((row, i) => row.map((v, j) => v + x[i]![j]!));
    const y = n.lowered.apply([value(tf.tensor2d(xs, [2, 3]))], evalCtx()).tensor;
    expect(maxAbsDiff(y.dataSync(), flat(lin('out', r, 1, 3)))).toBeLessThan(1e-5);
    n.dispose();
    const bad = runInfer(getComponent('head', 'regression')!, { ...BASE, hidden: [4], residual: true }, [['fusion', vec(3)]]);
    expect(bad.reports.map((x) => x.args['detail'])).toEqual(["a residual head has no hidden layers, but 'hidden' lists 1"]);
  });
});
