// Encoder 'shared_private' (MISA): private and shared projections (Linear + Sigmoid) of several inputs against plain
// JS, published as named outputs; inputs of different sizes cannot share a projection (MSA4004).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { runInfer } from '../../../compiler/components/fake-context.js';
import { flat, linearRef, maxAbsDiff, randn, reshape2, sig } from '../../../runtime/nn/ref.js';
import { lowerOne, value, vec } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const P = { type: 'shared_private', inputs: ['text', 'encoders.audio'], out: 3 };

describe('shared_private encoder', () => {
  it('publishes private_<input> and shared_<input>, and concatenates privates then shareds', () => {
    const n = lowerOne('encoder', P, [['text', vec(4)], ['encoders.audio', vec(4)]]);
    expect(Object.keys(n.node.features!)).toEqual(['private_text', 'private_audio', 'shared_text', 'shared_audio']);
    expect(n.node.params.map((p) => p.name)).toEqual(['private_text.weight', 'private_text.bias', 'private_audio.weight', 'private_audio.bias', 'shared.weight', 'shared.bias']);
    const xt = randn(1, 2 * 4), xa = randn(2, 2 * 4);
    const v = n.lowered.apply([value(tf.tensor2d(xt, [2, 4])), value(tf.tensor2d(xa, [2, 4]))], evalCtx());
    const proj = (k: string, x: number[]) => flat(linearRef(reshape2(x, 2, 4), reshape2(n.values(`${k}.weight`), 3, 4), n.values(`${k}.bias`))).map(sig);
    expect(maxAbsDiff(v.outputs!['private_text']!.dataSync(), proj('private_text', xt))).toBeLessThan(1e-5);
    expect(maxAbsDiff(v.outputs!['shared_audio']!.dataSync(), proj('shared', xa))).toBeLessThan(1e-5);
    expect(v.tensor.shape).toEqual([2, 12]);
    expect(maxAbsDiff(v.tensor.slice([0, 9], [2, 3]).dataSync(), proj('shared', xa))).toBeLessThan(1e-5);
    n.dispose();
  });

  it('reads its inputs by reference and says which outputs it publishes', () => {
    const def = getComponent('encoder', 'shared_private')!;
    expect(def.reads!(P, 'sp')).toEqual([{ name: 'text', path: ['inputs', 0] }, { name: 'encoders.audio', path: ['inputs', 1] }]);
    expect(def.namedOutputs!(P)).toEqual(['private_text', 'private_audio', 'shared_text', 'shared_audio']);
  });

  it('inputs of different sizes: MSA4004 at the odd one', () => {
    const run = runInfer(getComponent('encoder', 'shared_private')!, P, [['text', vec(4)], ['encoders.audio', vec(5)]]);
    expect(run.result).toBeUndefined();
    expect(run.reports.map((r) => [r.code, r.span])).toEqual([['MSA4004', run.inputs[1]!.span]]);
  });
});
