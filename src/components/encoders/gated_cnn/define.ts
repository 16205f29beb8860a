// Catalog entry 'gated_cnn': a Linear to `channels`, stacked GLU convolutions with residual connections over a frame
// sequence, pooled over valid frames (or kept as a sequence). Schema, shape rule, parameter names, memory; phases 2-5.

import { defineComponent, type NodeMemory } from '../../component.js';
import type { GatedCnnEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim, type Ir, type IrNode, type TensorType } from '../../../compiler/ir/types.js';
import { checkDeclaredDim, conv1dParams, expectKind, linearNames, linearParams, sampleElements, sequenceType, singleInput, vector } from '../../shape-helpers.js';

/**
 * Bytes of a CNN encoder's training step (shared by gated_cnn and dilated_tcn): `forward` floats per frame of its
 * forward pass (the input's features added here), about 3x with the backward pass's intermediates, which tfjs holds
 * until the step's gradients are done; `scratch` floats per frame for one layer's transient and evaluation memory.
 */
export function convStepMemory(node: Pick<IrNode, 'inputs' | 'output'>, ir: Ir, batch: number, forward: number, scratch: number): NodeMemory {
  const input = ir.nodes.find((n) => n.id === node.inputs[0]?.split(':')[0])?.output;
  const T = typeof input?.shape[1] === 'number' ? input.shape[1] : 1;
  const perFrame = (input ? featureDim(input) : 0) + forward;
  const bytes = 4 * batch * (3 * T * perFrame + sampleElements(node.output));
  return { saved: bytes, transient: 4 * batch * T * scratch, host: 0, eval: 4 * batch * T * scratch };
}

/** The output of a CNN encoder: a vector after pooling, else the sequence (with the input's lengths) at width `dim`. */
export function convOutput(input: TensorType, pool: 'mean' | 'max' | 'none', dim: number): TensorType {
  if (pool !== 'none') return vector(dim);
  return { ...input, shape: ['B', input.shape[1]!, dim] };
}

export default defineComponent<GatedCnnEncoder>({
  kind: 'encoder',
  type: 'gated_cnn',
  schema: 'components/encoders/gated_cnn.schema.json',
  doc: 'Gated CNN (GLU convolutions, stacked, residual) over audio or vision frames, pooled over valid frames.',
  accepts: ['sequence'],
  outputKind: (p) => (p.pool === 'none' ? 'sequence' : 'vector'),
  examples: [
    { label: 'audio, mean', params: { type: 'gated_cnn', channels: 8, kernel: 3, layers: 2, dropout: 0.1, pool: 'mean', out: 4 }, inputs: [['audio', sequenceType(50, 5, { lengths: 'audio_lengths' })]] },
    { label: 'sequence out', params: { type: 'gated_cnn', channels: 6, kernel: 5, layers: 1, dropout: 0, pool: 'none', out: null }, inputs: [['vision', sequenceType(20, 7)]] },
  ],
  summary: (p) => `gated_cnn(${p.layers} x glu conv ${p.kernel}, channels ${p.channels}${p.dropout > 0 ? `, dropout ${p.dropout}` : ''}, ${p.pool === 'none' ? 'sequence' : `${p.pool} pool`})${p.out === null ? '' : ` -> linear ${p.out}`}`,
  paramNames: (p) => [
    ...linearNames('proj'),
    ...Array.from({ length: p.layers }, (_, i) => linearNames(`layers.${i}`)).flat(),
    ...(p.out === null ? [] : linearNames('linear')),
  ],
  infer(ctx) {
    const p = ctx.params;
    const input = singleInput(ctx);
    if (!input || !expectKind(ctx, 'gated_cnn', input, ['sequence'])) return undefined;
    checkDeclaredDim(ctx, p.in_dim, input, 'in_dim');
    const C = p.channels;
    const params = [...linearParams('proj', featureDim(input.type), C)];
    for (let i = 0; i < p.layers; i++) params.push(...conv1dParams(`layers.${i}`, C, 2 * C, p.kernel));
    if (p.out !== null) params.push(...linearParams('linear', C, p.out));
    return { output: convOutput(input.type, p.pool, p.out ?? C), params };
  },
  stepMemory(node, { ir, batch }) {
    // Floats per frame and layer: the masked, dropped and padded input, the K taps and their concatenation, the 2C
    // product and bias, the gate's halves, sigmoid, product, residual sum, scale and mask ((2K + 12) C).
    const p = node.config;
    const layer = (2 * p.kernel + 12) * p.channels;
    return convStepMemory(node, ir, batch, 2 * p.channels + p.layers * layer, layer + 2 * p.channels);
  },
});
