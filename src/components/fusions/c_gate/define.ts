// Catalog entry 'c_gate': TFR-Net's gated fusion (models/missingTask/TFR_NET/fusion.py GATE_F without its classifier,
// which is the head): per sequence C_GATE, the vectors concatenated. Phases 2-5.

import { defineComponent } from '../../component.js';
import type { CGateFusion } from '../../../compiler/spec/types.generated.js';
import { featureDim, formatType, type ParamDecl } from '../../../compiler/ir/types.js';
import { conv1dParams, linearParams, rnnParams, sequenceType, vector } from '../../shape-helpers.js';

const DEFAULT_NAMES = ['text', 'audio', 'vision'];

/** Module name of sequence i: `names[i]`, else text/audio/vision, else `seq<i>` (MMSA's `<name>_encoder`). */
export function cGateName(p: { names?: string[] | undefined }, i: number): string {
  return p.names?.[i] ?? DEFAULT_NAMES[i] ?? `seq${i}`;
}

function cGateParams(p: CGateFusion, dims: number[]): ParamDecl[] {
  return dims.flatMap((d, i) => {
    const h = p.hidden[i]!;
    const pre = `${cGateName(p, i)}_encoder`;
    return [
      ...rnnParams(`${pre}.gru.gru`, { gates: 3, inSize: d, hidden: h, layers: p.gru_layers, bidirectional: true }),
      ...conv1dParams(`${pre}.cnn`, 2 * h, 1, 3),
      ...linearParams(`${pre}.fc`, 2 * h + d, h),
    ];
  });
}

export default defineComponent<CGateFusion>({
  kind: 'fusion',
  type: 'c_gate',
  schema: 'components/fusions/c_gate.schema.json',
  doc: "TFR-Net's gated fusion: per sequence a packed bidirectional GRU, a Conv1d gate on its outputs, tanh(Linear([x, gated GRU outputs])), max over time; the vectors concatenated.",
  arity: { min: 2, max: Number.POSITIVE_INFINITY },
  accepts: ['sequence', 'vector'],
  examples: [
    {
      label: 'tfr_net',
      params: { type: 'c_gate', inputs: ['t', 'a', 't_mask', 'a_mask'], hidden: [6, 4], gru_layers: 2, dropout: 0.2 },
      inputs: [['t', sequenceType(5, 9)], ['a', sequenceType(7, 9)], ['t_mask', vector(5)], ['a_mask', vector(7)]],
    },
  ],
  summary: (p) => `c_gate(${p.inputs.length / 2} sequences; bi-GRU x${p.gru_layers} hidden ${p.hidden.join('/')}, conv gate, max over time${p.dropout ? `, dropout ${p.dropout}` : ''}) -> concat`,
  paramNames: (p) => cGateParams(p, p.hidden.map(() => 1)).map((d) => d.name),
  infer(ctx) {
    const p = ctx.params;
    const n = ctx.inputs.length / 2;
    if (!Number.isInteger(n) || p.hidden.length !== n) {
      ctx.report('MSA4004', ctx.spanOf('inputs'), { node: ctx.node, detail: `c_gate reads sequences then one mask each (an even count), and one hidden size per sequence: got ${ctx.inputs.length} inputs and ${p.hidden.length} hidden sizes` }, { hint: 'list the sequences, then their masks, and one hidden size per sequence' });
      return undefined;
    }
    const dims: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = ctx.inputs[i]!;
      const m = ctx.inputs[n + i]!;
      const T = s.type.shape[1];
      if (s.type.kind !== 'sequence' || m.type.kind !== 'vector' || m.type.shape[1] !== T) {
        ctx.report('MSA4004', m.span, { node: ctx.node, detail: `sequence '${s.name}' (${formatType(s.type)}) needs a [${String(T)}] mask, but '${m.name}' gives ${formatType(m.type)}` }, { hint: "read the modality's mask (missing: {output: mask}) of the same feature" });
        return undefined;
      }
      dims.push(featureDim(s.type));
    }
    return { output: vector(p.hidden.reduce((a, b) => a + b, 0)), params: cGateParams(p, dims) };
  },
});
