// Catalog entry 'crossmodal_attn': TFR-Net's cross-modal alignment (MMSA's models/missingTask/TFR_NET/alignment.py
// CM_ATTN) over several sequences of one width. Schema, shape rule, parameter names and named outputs; phases 2-5.

import { defineComponent } from '../../component.js';
import type { CrossmodalAttnEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim, type ParamDecl, type TensorType } from '../../../compiler/ir/types.js';
import { expectKind, refLabel, sequenceType, transformerEncoderParams } from '../../shape-helpers.js';
import { checkDropoutKeys } from '../../fusions/crossmodal/define.js';

/** The named output holding an input's concatenated sequence [memory; cross-modal outputs] (MMSA's h_ls, h_as, h_vs). */
export const alignedOutput = (label: string): string => `h_${label}`;
/** The named output holding an input's final transformer output (MMSA's h_ls_n, h_as_n, h_vs_n). */
export const finalOutput = (label: string): string => `final_${label}`;

/** Per input (by label): its memory, then its cross-modal encoders over every other input, in input order. */
export function alignPlan(p: CrossmodalAttnEncoder): Array<{ target: string; sources: string[] }> {
  const labels = p.inputs.map(refLabel);
  return labels.map((t) => ({ target: t, sources: labels.filter((s) => s !== t) }));
}

export function alignMemoryLayers(p: CrossmodalAttnEncoder): number {
  return p.memory_layers ?? Math.max(p.layers, 3);
}

export function finalLayers(p: CrossmodalAttnEncoder): number {
  return p.final?.layers ?? Math.max(p.layers, 3);
}

export function alignOutputs(p: CrossmodalAttnEncoder): string[] {
  const labels = p.inputs.map(refLabel);
  return [...labels.map(alignedOutput), ...(p.final ? labels.map(finalOutput) : [])];
}

/**
 * Parameters in MMSA's creation order: the cross-modal encoders of every input, then the memories, then the final
 * transformers (CM_ATTN builds trans_l_with_a ... trans_v_with_a, trans_x_mem, trans_x_final).
 */
function alignParams(p: CrossmodalAttnEncoder, d: number, steps: readonly number[]): ParamDecl[] {
  const plan = alignPlan(p);
  return [
    ...plan.flatMap(({ target, sources }) => sources.flatMap((s) => transformerEncoderParams(`${target}_with_${s}`, p.layers, d))),
    ...plan.flatMap(({ target }) => transformerEncoderParams(`${target}_mem`, alignMemoryLayers(p), d)),
    ...(p.final ? plan.flatMap(({ target }, i) => transformerEncoderParams(`${target}_final`, finalLayers(p), steps[i]!)) : []),
  ];
}

export default defineComponent<CrossmodalAttnEncoder>({
  kind: 'encoder',
  type: 'crossmodal_attn',
  schema: 'components/encoders/crossmodal_attn.schema.json',
  doc: "TFR-Net's cross-modal alignment: per input a self-attention memory and cross-modal transformers over the other inputs, their full sequences concatenated as named outputs h_<input>, and optional final transformers over each concatenation (final_<input>).",
  arity: { min: 2, max: Number.POSITIVE_INFINITY },
  accepts: ['sequence'],
  reads: (p) => p.inputs.map((name, i) => ({ name, path: ['inputs', i] })),
  outputKind: () => 'sequence',
  namedOutputs: alignOutputs,
  examples: [
    {
      label: 'tfr_net mosi',
      params: {
        type: 'crossmodal_attn', inputs: ['encoders.text', 'encoders.audio', 'encoders.vision'], heads: 6, layers: 3, memory_layers: null,
        attn_dropout: { text: 0.2, audio: 0.1, vision: 0 }, memory_attn_dropout: 0.2, relu_dropout: 0.2, res_dropout: 0.2, embed_dropout: 0.2,
        attn_mask: true, positions: true, final: { heads: 25, layers: null, attn_dropout: 0.2, attend_over: 'batch' },
      },
      inputs: [['text', sequenceType(50, 30)], ['audio', sequenceType(375, 30)], ['vision', sequenceType(500, 30)]],
    },
    {
      label: 'two inputs, no final',
      params: { type: 'crossmodal_attn', inputs: ['a', 'b'], heads: 2, layers: 1, memory_layers: 1, attn_dropout: 0, memory_attn_dropout: 0, relu_dropout: 0, res_dropout: 0, embed_dropout: 0, attn_mask: false, positions: false, final: null },
      inputs: [['a', sequenceType(5, 4)], ['b', sequenceType(7, 4)]],
    },
  ],
  couplesBatch: (p) => (p.final?.attend_over === 'batch' ? 'final.attend_over: batch attends across the samples of the batch' : undefined),
  summary(p) {
    const n = p.inputs.length;
    const parts = [`${n} memories x ${alignMemoryLayers(p)} layers`, `${n * (n - 1)} cross-modal x ${p.layers} layers`, `heads ${p.heads}`];
    if (p.attn_mask) parts.push('causal mask');
    if (p.positions) parts.push('positions');
    if (p.final) parts.push(`final x ${finalLayers(p)} layers over the ${p.final.attend_over}, heads ${p.final.heads}`);
    return `crossmodal_attn(${p.inputs.map(refLabel).join(', ')}; ${parts.join(', ')}) -> sequences h_<input>`;
  },
  // The memory plan's generic bound is used: TFR-Net's sequences are short next to MulT's at MOSI's lengths.
  paramNames: (p) => alignParams(p, 1, p.inputs.map(() => 1)).map((d) => d.name),
  // MMSA's TransformerEncoder registers a `version` buffer (fairseq's state-dict version), its sinusoidal position
  // embedding a one-element `_float_tensor` buffer (a dtype carrier); nothing reads either.
  mmsaNames: {
    ignore: (p: CrossmodalAttnEncoder) =>
      alignPlan(p).flatMap(({ target, sources }) => {
        const withPositions = [...sources.map((s) => `${target}_with_${s}`), `${target}_mem`];
        return [
          ...withPositions.flatMap((m) => [`${m}.version`, ...(p.positions ? [`${m}.embed_positions._float_tensor`] : [])]),
          ...(p.final ? [`${target}_final.version`] : []),
        ];
      }),
  },
  infer(ctx) {
    const p = ctx.params;
    const labels = p.inputs.map(refLabel);
    checkDropoutKeys(ctx, labels);
    const first = ctx.inputs[0];
    if (!first) return undefined;
    let ok = true;
    for (const input of ctx.inputs) ok = expectKind(ctx, 'crossmodal_attn', input, ['sequence']) && ok;
    if (!ok) return undefined;
    const d = featureDim(first.type);
    for (const other of ctx.inputs.slice(1)) {
      const od = featureDim(other.type);
      if (od !== d) {
        ok = false;
        ctx.report('MSA4004', other.span, { node: ctx.node, detail: `every input must have the same width: '${first.name}' gives ${d} features, '${other.name}' ${od}` }, {
          hint: 'project the inputs to one width first (TFR-Net: conv1d encoders with the same `out`)',
        });
      }
    }
    if (d % p.heads !== 0) {
      ok = false;
      ctx.report('MSA4004', ctx.spanOf('heads'), { node: ctx.node, detail: `${p.heads} heads do not divide the inputs' width ${d}` });
    }
    const steps = ctx.inputs.map((i) => i.type.shape[1]);
    if (p.final) {
      ctx.inputs.forEach((input, i) => {
        const T = steps[i];
        if (typeof T !== 'number') {
          ok = false;
          ctx.report('MSA4004', input.span, { node: ctx.node, detail: `the final transformers' width is the sequence length, and '${input.name}' has no fixed length` }, {
            hint: 'read sequences of a fixed padded length, or set `final: null`',
          });
        } else if (T % p.final!.heads !== 0) {
          ok = false;
          ctx.report('MSA4004', ctx.spanOf('final'), { node: ctx.node, detail: `final.heads ${p.final!.heads} does not divide the ${T} steps of '${input.name}' (the final transformer's width)` }, {
            hint: 'pick a number of heads that divides every input length (TFR-Net: num_temporal_head)',
          });
        }
      });
    }
    if (!ok) return undefined;
    const width = ctx.inputs.length * d;
    const features: Record<string, TensorType> = {};
    labels.forEach((l, i) => {
      features[alignedOutput(l)] = sequenceType(steps[i] as number, width);
      if (p.final) features[finalOutput(l)] = sequenceType(steps[i] as number, width);
    });
    return { output: features[alignedOutput(labels[0]!)]!, params: alignParams(p, d, steps as number[]), features };
  },
});
