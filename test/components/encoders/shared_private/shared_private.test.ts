// Encoder 'shared_private' (MISA): private and shared projections (Linear + Sigmoid) of several inputs against plain
// JS, published as named outputs; inputs of different sizes cannot share a projection (MSA4004) unless projected first
// (MISA's project_* Linear -> ReLU -> LayerNorm), and the reconstructions Linear(private + shared).
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

  it('project + reconstruct: orig_<input> = LayerNorm(ReLU(Linear(x))), recon_<input> = Linear(private + shared)', () => {
    const Q = { type: 'shared_private', inputs: ['text', 'encoders.audio'], out: 3, project: true, reconstruct: true };
    const n = lowerOne('encoder', Q, [['text', vec(4)], ['encoders.audio', vec(6)]]);
    expect(Object.keys(n.node.features!)).toEqual(['private_text', 'private_audio', 'shared_text', 'shared_audio', 'orig_text', 'orig_audio', 'recon_text', 'recon_audio']);
    expect(n.node.params.map((p) => p.name)).toEqual(getComponent('encoder', 'shared_private')!.paramNames!(Q as never));
    expect(n.node.params.slice(0, 4).map((p) => [p.name, p.shape])).toEqual([['project_text.weight', [3, 4]], ['project_text.bias', [3]], ['project_text_layer_norm.weight', [3]], ['project_text_layer_norm.bias', [3]]]);
    n.store.get('encoders.n.project_audio_layer_norm.weight').assign(tf.tensor1d([0.5, 2, -1]));
    const xa = randn(2, 2 * 6);
    const v = n.lowered.apply([value(tf.tensor2d(randn(1, 2 * 4), [2, 4])), value(tf.tensor2d(xa, [2, 6]))], evalCtx());
    const lin = (k: string, x: number[][], i: number) => linearRef(x, reshape2(n.values(`${k}.weight`), 3, i), n.values(`${k}.bias`));
    const ln = (r: number[], w: number[], b: number[]) => {
      const m = r.reduce((s, x) => s + x, 0) / r.length;
      const va = r.reduce((s, x) => s + (x - m) ** 2, 0) / r.length;
      return r.map((x, i) => ((x - m) / Math.sqrt(va + 1e-5)) * w[i]! + b[i]!);
    };
    const orig = lin('project_audio', reshape2(xa, 2, 6), 6).map((r) => ln(r.map((x) => Math.max(0, x)), n.values('project_audio_layer_norm.weight'), n.values('project_audio_layer_norm.bias')));
    expect(maxAbsDiff(v.outputs!['orig_audio']!.dataSync(), flat(orig))).toBeLessThan(1e-5);
    const priv = lin('private_audio', orig, 3).map((r) => r.map(sig));
    const shared = lin('shared', orig, 3).map((r) => r.map(sig));
    expect(maxAbsDiff(v.outputs!['shared_audio']!.dataSync(), flat(shared))).toBeLessThan(1e-5);
    const recon = lin('recon_audio', priv.map((r, i) => r.map((x, j) => x + shared[i]![j]!)), 3);
    expect(maxAbsDiff(v.outputs!['recon_audio']!.dataSync(), flat(recon))).toBeLessThan(1e-5);
    n.dispose();
  });

  it('inputs of different sizes: MSA4004 at the odd one', () => {
    const run = runInfer(getComponent('encoder', 'shared_private')!, P, [['text', vec(4)], ['encoders.audio', vec(5)]]);
    expect(run.result).toBeUndefined();
    expect(run.reports.map((r) => [r.code, r.span])).toEqual([['MSA4004', run.inputs[1]!.span]]);
  });
});
