// Encoder 'precomputed': no parameters; the [CLS] row, the padded mean, the last valid step, or the sequence itself.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { getComponent } from '../../../../src/components/catalog.js';
import { setupBackend } from '../../../../src/runtime/backend.js';
import { evalCtx } from '../../../../src/runtime/nn/params.js';
import { lowerOne, seq, value } from '../../helpers.js';

beforeAll(async () => {
  await setupBackend('wasm');
});

const x = [[[1, 1], [2, 2], [3, 3]], [[4, 4], [5, 5], [6, 6]]];

describe('precomputed encoder', () => {
  it.each([
    ['cls', [[1, 1], [4, 4]]],
    ['mean', [[2, 2], [5, 5]]],
    ['last', [[2, 2], [6, 6]]],
  ] as const)('select %s', (select, want) => {
    const n = lowerOne('encoder', { type: 'precomputed', select }, [['text', seq(3, 2, { lengths: 'text_lengths' })]]);
    expect(n.node.params).toEqual([]);
    expect(n.lowered.apply([value(tf.tensor3d(x), [2, 3])], evalCtx()).tensor.arraySync()).toEqual(want);
    n.dispose();
  });

  it('select sequence passes the sequence through, and says how to get a vector', () => {
    const n = lowerOne('encoder', { type: 'precomputed', select: 'sequence' }, [['text', seq(3, 2)]]);
    const v = value(tf.tensor3d(x));
    expect(n.lowered.apply([v], evalCtx())).toBe(v);
    const def = getComponent('encoder', 'precomputed')!;
    expect(def.outputKind!({ type: 'precomputed', select: 'sequence' })).toBe('sequence');
    expect(def.outputKind!({ type: 'precomputed', select: 'cls' })).toBe('vector');
    expect(def.outputKindFix!({ type: 'precomputed', select: 'sequence' }, 'vector')).toMatch(/select: cls/);
    n.dispose();
  });
});
