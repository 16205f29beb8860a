// Catalog entry 'cyclic_translation': MCTN's seq2seq translations (source -> cycle target -> source, joint -> second
// target) with attention decoders; outputs the second encoder's joint sequence and publishes the translation loss.
// Schema, shape rule, parameter and MMSA names; phases 2-5.

import { defineComponent } from '../../component.js';
import type { CyclicTranslationFusion } from '../../../compiler/spec/types.generated.js';
import { featureDim, type ParamDecl } from '../../../compiler/ir/types.js';
import { checkFusionInputs, linearParams, param, rnnParams, sequenceType, vector } from '../../shape-helpers.js';

/** The named output holding MSE(vision) + MSE(text) + MSE(audio) of the three translations. */
export const TRANSLATION_LOSS = 'translation_loss';

function encoderParams(prefix: string, inSize: number, H: number): ParamDecl[] {
  return [...rnnParams(`${prefix}.rnn`, { gates: 4, inSize, hidden: H, layers: 1, bidirectional: true }), param(`${prefix}.fc.weight`, [H, H])];
}

function decoderParams(prefix: string, D: number, H: number): ParamDecl[] {
  return [
    param(`${prefix}.attention.attn.weight`, [H, 2 * H]),
    param(`${prefix}.attention.v.weight`, [1, H]),
    ...rnnParams(`${prefix}.rnn`, { gates: 4, inSize: D + H, hidden: H, layers: 1, bidirectional: true }),
    ...linearParams(`${prefix}.fc_out`, 2 * H, D),
  ];
}

/** MMSA's module order: encoder1, decoder1, encoder2, decoder2 (the state_dict's own names). */
function allParams(D: number, H: number): ParamDecl[] {
  return [...encoderParams('encoder1', D, H), ...decoderParams('decoder1', D, H), ...encoderParams('encoder2', H, H), ...decoderParams('decoder2', D, H)];
}

/**
 * MCTN registers each shared module under several names (attn1 is decoder1.attention; seq2seq1 holds encoder1 and
 * decoder1), so its state_dict repeats every tensor; the aliases are skipped on import.
 */
function aliasNames(): string[] {
  const names = allParams(1, 1).map((p) => p.name);
  const out: string[] = [];
  for (const n of names) {
    for (const [from, to] of [['encoder1.', 'seq2seq1.encoder.'], ['decoder1.', 'seq2seq1.decoder.'], ['encoder2.', 'seq2seq2.encoder.'], ['decoder2.', 'seq2seq2.decoder.']] as const) {
      if (n.startsWith(from)) out.push(to + n.slice(from.length));
    }
    if (n.startsWith('decoder1.attention.')) out.push(`attn1.${n.slice('decoder1.attention.'.length)}`);
    if (n.startsWith('decoder2.attention.')) out.push(`attn2.${n.slice('decoder2.attention.'.length)}`);
  }
  return out;
}

/** The common feature size: pad_to, else the widest input. */
export function paddedDim(p: CyclicTranslationFusion, dims: readonly number[]): number {
  return p.pad_to ?? Math.max(...dims);
}

export default defineComponent<CyclicTranslationFusion>({
  kind: 'fusion',
  type: 'cyclic_translation',
  schema: 'components/fusions/cyclic_translation.schema.json',
  doc: "MCTN's cyclic translation: seq2seq with attention from the first input to the second and back, then from the joint representation to the third; outputs the joint sequence.",
  arity: { min: 3, max: 3 },
  accepts: ['sequence'],
  needsAligned: true,
  examples: [
    {
      label: 'mctn',
      params: { type: 'cyclic_translation', inputs: ['text', 'vision', 'audio'], hidden: 32, max_seq_len: 50, batch_as_time: false },
      inputs: [['text', sequenceType(50, 768, { aligned: true })], ['vision', sequenceType(50, 20, { aligned: true })], ['audio', sequenceType(50, 5, { aligned: true })]],
    },
  ],
  couplesBatch: (p) => (p.batch_as_time ? 'batch_as_time runs its recurrences along the batch axis' : undefined),
  summary: (p) => `cyclic_translation(${p.inputs[0]} -> ${p.inputs[1]} -> ${p.inputs[0]}, joint -> ${p.inputs[2]}; hidden ${p.hidden}${p.batch_as_time ? ', along the batch axis (MMSA)' : ''})`,
  namedOutputs: () => [TRANSLATION_LOSS],
  paramNames: (p) => allParams(1, p.hidden ?? 32).map((x) => x.name),
  infer(ctx) {
    const p = ctx.params;
    if (!checkFusionInputs(ctx, 'cyclic_translation', ['sequence'], { kindCode: 'MSA4002' })) return undefined;
    const dims = ctx.inputs.map((i) => featureDim(i.type));
    const D = paddedDim(p, dims);
    const wide = ctx.inputs.find((i) => featureDim(i.type) > D);
    if (wide) {
      ctx.report('MSA4004', ctx.spanOf('pad_to'), { node: ctx.node, detail: `pad_to ${D} is narrower than '${wide.name}' (${featureDim(wide.type)} features); inputs are zero-padded, never cut` });
      return undefined;
    }
    const first = ctx.inputs[0]!;
    const T0 = first.type.shape[1];
    for (const other of ctx.inputs.slice(1)) {
      const To = other.type.shape[1];
      if (typeof T0 === 'number' && typeof To === 'number' && To !== T0) {
        ctx.report('MSA4003', other.span, { node: ctx.node, a: `'${first.name}'`, la: T0, b: `'${other.name}'`, lb: To }, { related: [{ span: first.span, message: `'${first.name}' has ${T0} steps` }] });
        return undefined;
      }
    }
    const T = typeof T0 === 'number' ? Math.min(T0, p.max_seq_len) : p.max_seq_len;
    return { output: sequenceType(T, p.hidden, { aligned: true }), params: allParams(D, p.hidden), features: { [TRANSLATION_LOSS]: vector(1) } };
  },
  mmsaNames: { ignore: aliasNames() },
});
