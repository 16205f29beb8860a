// Catalog entry 'mfn': the Memory Fusion Network (MMSA's models/singleTask/MFN.py) over aligned sequences. Schema,
// shape rule and parameter names (`lstm_<input>.*`, `att1_fc1` ... `gamma2_fc2`, MMSA's own); phases 2-5.

import { defineComponent, type ShapeContext } from '../../component.js';
import type { MfnFusion } from '../../../compiler/spec/types.generated.js';
import { featureDim, type ParamDecl } from '../../../compiler/ir/types.js';
import { checkFusionInputs, linearNames, linearParams, param, sequenceType, vector } from '../../shape-helpers.js';

/** nn.LSTMCell(in, hidden) names: no layer suffix, unlike nn.LSTM. */
export function lstmCellParams(prefix: string, inSize: number, hidden: number): ParamDecl[] {
  const G = 4 * hidden;
  return [param(`${prefix}.weight_ih`, [G, inSize]), param(`${prefix}.weight_hh`, [G, hidden]), param(`${prefix}.bias_ih`, [G]), param(`${prefix}.bias_hh`, [G])];
}

export function lstmCellNames(prefix: string): string[] {
  return ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'].map((n) => `${prefix}.${n}`);
}

/** Two Linears `<prefix>_fc1` (in -> hidden) and `<prefix>_fc2` (hidden -> out), MMSA's naming of its MLP blocks. */
export function twoLayerParams(prefix: string, inSize: number, hidden: number, out: number): ParamDecl[] {
  return [...linearParams(`${prefix}_fc1`, inSize, hidden), ...linearParams(`${prefix}_fc2`, hidden, out)];
}

export function twoLayerNames(prefix: string): string[] {
  return [...linearNames(`${prefix}_fc1`), ...linearNames(`${prefix}_fc2`)];
}

interface MfnFamily {
  inputs: string[];
  hidden: number[];
  in_dims?: number[] | undefined;
}

/**
 * Shared by mfn and graph_mfn: every input an aligned sequence of the same length (MSA4003 otherwise), one hidden size
 * per input (MSA4004). Returns the inputs' feature sizes, or undefined when the inputs do not fit.
 */
export function checkMfnInputs(ctx: ShapeContext<MfnFamily>, type: string): number[] | undefined {
  const p = ctx.params;
  if (!checkFusionInputs(ctx, type, ['sequence'], { kindCode: 'MSA4002' })) return undefined;
  if (p.hidden.length !== ctx.inputs.length) {
    ctx.report('MSA4004', ctx.spanOf('hidden'), {
      node: ctx.node,
      detail: `'hidden' lists ${p.hidden.length} size${p.hidden.length === 1 ? '' : 's'} for ${ctx.inputs.length} input${ctx.inputs.length === 1 ? '' : 's'} (one LSTMCell per input)`,
    });
    return undefined;
  }
  const first = ctx.inputs[0];
  const T = first?.type.shape[1];
  for (const other of ctx.inputs.slice(1)) {
    const To = other.type.shape[1];
    if (first && typeof T === 'number' && typeof To === 'number' && To !== T) {
      ctx.report(
        'MSA4003',
        other.span,
        { node: ctx.node, a: `'${first.name}'`, la: T, b: `'${other.name}'`, lb: To },
        { related: [{ span: first.span, message: `'${first.name}' has ${T} steps` }] },
      );
    }
  }
  return ctx.inputs.map((i) => featureDim(i.type));
}

export function summarizeMemory(p: MfnFamily & { memsize: number }): string {
  return `${p.inputs.map((n, i) => `lstm_cell(${n}, ${p.hidden[i] ?? '?'})`).join(', ')}; memory ${p.memsize}`;
}

/** The MFN's own configuration: what the mfn fusion and MFM's embedded MFN share. */
export type MfnCore = Pick<MfnFusion, 'inputs' | 'hidden' | 'memsize' | 'nn1' | 'nn2' | 'gamma1' | 'gamma2'>;

/** Size of the MFN's output [h_T of every input; mem_T]. */
export function mfnOutDim(p: MfnCore): number {
  return p.hidden.reduce((s, h) => s + h, 0) + p.memsize;
}

/** The MFN's parameters under `prefix` ('' for the fusion itself, `mfn_encoder.` inside MFM), MMSA's names. */
export function mfnParams(p: MfnCore, dims: readonly number[], prefix = ''): ParamDecl[] {
  // MMSA's window of two steps: [c_{t-1}; c_t] of every input.
  const att = 2 * p.hidden.reduce((s, h) => s + h, 0);
  const params: ParamDecl[] = [];
  p.inputs.forEach((n, i) => params.push(...lstmCellParams(`${prefix}lstm_${n}`, dims[i]!, p.hidden[i]!)));
  params.push(
    ...twoLayerParams(`${prefix}att1`, att, p.nn1.hidden, att),
    ...twoLayerParams(`${prefix}att2`, att, p.nn2.hidden, p.memsize),
    ...twoLayerParams(`${prefix}gamma1`, att + p.memsize, p.gamma1.hidden, p.memsize),
    ...twoLayerParams(`${prefix}gamma2`, att + p.memsize, p.gamma2.hidden, p.memsize),
  );
  return params;
}

export function mfnNames(p: Pick<MfnCore, 'inputs'>, prefix = ''): string[] {
  return [...p.inputs.flatMap((n) => lstmCellNames(`${prefix}lstm_${n}`)), ...['att1', 'att2', 'gamma1', 'gamma2'].flatMap((b) => twoLayerNames(`${prefix}${b}`))];
}

const mosi3 = (): Array<[string, ReturnType<typeof sequenceType>]> => [
  ['text', sequenceType(50, 768, { aligned: true })],
  ['audio', sequenceType(50, 5, { aligned: true })],
  ['vision', sequenceType(50, 20, { aligned: true })],
];

export default defineComponent<MfnFusion>({
  kind: 'fusion',
  type: 'mfn',
  schema: 'components/fusions/mfn.schema.json',
  doc: 'Memory Fusion Network: one LSTMCell per input over aligned sequences, delta-memory attention over the cell states of two consecutive steps, multi-view gated memory; the last hidden states and the memory.',
  arity: { min: 1, max: Number.POSITIVE_INFINITY },
  accepts: ['sequence'],
  needsAligned: true,
  examples: [
    {
      label: 'mfn mosi',
      params: { type: 'mfn', inputs: ['text', 'audio', 'vision'], hidden: [256, 32, 256], memsize: 400, nn1: { hidden: 32, dropout: 0.2 }, nn2: { hidden: 64, dropout: 0 }, gamma1: { hidden: 256, dropout: 0.7 }, gamma2: { hidden: 32, dropout: 0.5 } },
      inputs: mosi3(),
    },
    {
      label: 'two inputs',
      params: { type: 'mfn', inputs: ['a', 'b'], hidden: [4, 3], memsize: 5, nn1: { hidden: 6, dropout: 0 }, nn2: { hidden: 4, dropout: 0 }, gamma1: { hidden: 3, dropout: 0 }, gamma2: { hidden: 2, dropout: 0 } },
      inputs: [['a', sequenceType(7, 3, { aligned: true })], ['b', sequenceType(7, 2, { aligned: true })]],
    },
  ],
  summary: (p) => `mfn(${summarizeMemory(p)}; attention ${p.nn1.hidden}, c-hat ${p.nn2.hidden}, gammas ${p.gamma1.hidden}/${p.gamma2.hidden})`,
  paramNames: (p) => mfnNames(p),
  infer(ctx) {
    const p = ctx.params;
    const dims = checkMfnInputs(ctx, 'mfn');
    if (!dims) return undefined;
    return { output: vector(mfnOutDim(p)), params: mfnParams(p, dims) };
  },
});
