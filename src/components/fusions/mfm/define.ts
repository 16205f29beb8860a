// Catalog entry 'mfm': the Multimodal Factorization Model (MMSA's models/singleTask/MFM.py) over aligned sequences.
// Schema, shape rule, parameter and MMSA names, the named outputs its losses read; phases 2-5.

import { defineComponent } from '../../component.js';
import type { MfmFusion } from '../../../compiler/spec/types.generated.js';
import type { ParamDecl } from '../../../compiler/ir/types.js';
import { linearNames, linearParams, sequenceType, vector } from '../../shape-helpers.js';
import { checkMfnInputs, lstmCellNames, lstmCellParams, mfnNames, mfnOutDim, mfnParams, summarizeMemory, twoLayerNames, twoLayerParams } from '../mfn/define.js';

/** The named output holding MMD(z_m) summed over every input and z_y (before the task weight, MMSA's lda_mmd). */
export const MMD_LOSS = 'mmd_loss';
/** The named output holding MSE(x-hat_m, x_m) of one input (before the task weight, MMSA's lda_xl / lda_xa / lda_xv). */
export const reconLoss = (input: string): string => `recon_loss_${input}`;
/** The named outputs holding the factors themselves (B x size), for losses of a user's own. */
export const factor = (input: string): string => `z_${input}`;
export const FACTOR_Y = 'z_y';

/** The embedded MFN's output Linears: MMSA builds them (so its state_dict holds them) but MFM never calls them. */
const UNUSED_MFN_HEAD = [...linearNames('mfn_encoder.out_fc1'), ...linearNames('mfn_encoder.out_fc2')];

function allParams(p: MfmFusion, dims: readonly number[]): ParamDecl[] {
  const params: ParamDecl[] = [];
  p.inputs.forEach((n, i) => params.push(...lstmCellParams(`encoder_${n}.lstm`, dims[i]!, p.z[i]!), ...linearParams(`encoder_${n}.fc1`, p.z[i]!, p.z[i]!)));
  p.inputs.forEach((n, i) => params.push(...lstmCellParams(`decoder_${n}.lstm`, p.fy + p.f[i]!, p.fy + p.f[i]!), ...linearParams(`decoder_${n}.fc1`, p.fy + p.f[i]!, dims[i]!)));
  params.push(...mfnParams(p, dims, 'mfn_encoder.'), ...linearParams('last_to_zy_fc1', mfnOutDim(p), p.zy), ...twoLayerParams('zy_to_fy', p.zy, p.fy, p.fy));
  p.inputs.forEach((n, i) => params.push(...twoLayerParams(`z_to_f_${n}`, p.z[i]!, p.f[i]!, p.f[i]!)));
  return params;
}

const small = { hidden: [4, 3, 3], memsize: 5, nn1: { hidden: 4, dropout: 0 }, nn2: { hidden: 3, dropout: 0 }, gamma1: { hidden: 3, dropout: 0 }, gamma2: { hidden: 2, dropout: 0 } };

export default defineComponent<MfmFusion>({
  kind: 'fusion',
  type: 'mfm',
  schema: 'components/fusions/mfm.schema.json',
  doc: 'Multimodal Factorization Model: per-input LSTMCell encoders (generative factors z_m), an embedded MFN (discriminative factor z_y), LSTMCell decoders reconstructing every input from [f_y; f_m]; outputs f_y and publishes each input\'s reconstruction MSE and the MMD of the factors.',
  arity: { min: 1, max: Number.POSITIVE_INFINITY },
  accepts: ['sequence'],
  needsAligned: true,
  examples: [
    {
      label: 'mfm mosi',
      params: {
        type: 'mfm', inputs: ['text', 'audio', 'vision'], hidden: [128, 32, 128], memsize: 64,
        nn1: { hidden: 32, dropout: 0.7 }, nn2: { hidden: 64, dropout: 0 }, gamma1: { hidden: 32, dropout: 0 }, gamma2: { hidden: 64, dropout: 0.5 },
        zy: 80, fy: 64, z: [64, 80, 80], f: [32, 16, 64], zy_dropout: 0.5, z_dropout: [0.5, 0.7, 0.5], mmd_kernel_div_dim: true,
      },
      inputs: [['text', sequenceType(50, 768, { aligned: true })], ['audio', sequenceType(50, 5, { aligned: true })], ['vision', sequenceType(50, 20, { aligned: true })]],
    },
    {
      label: 'two inputs',
      params: { type: 'mfm', inputs: ['a', 'b'], ...small, hidden: [4, 3], zy: 3, fy: 2, z: [3, 2], f: [2, 2], zy_dropout: 0, mmd_kernel_div_dim: false },
      inputs: [['a', sequenceType(7, 3, { aligned: true })], ['b', sequenceType(7, 2, { aligned: true })]],
    },
  ],
  couplesBatch: () => 'its MMD loss compares the batch of factors with a batch of prior samples',
  summary: (p) =>
    `mfm(encoders ${p.inputs.map((n, i) => `${n} -> z ${p.z[i] ?? '?'} -> f ${p.f[i] ?? '?'}`).join(', ')}; mfn ${summarizeMemory(p)} -> z_y ${p.zy} -> f_y ${p.fy}; decoders read [f_y; f_m])`,
  namedOutputs: (p) => [...p.inputs.map(reconLoss), MMD_LOSS, ...p.inputs.map(factor), FACTOR_Y],
  paramNames: (p) => [
    ...p.inputs.flatMap((n) => [...lstmCellNames(`encoder_${n}.lstm`), ...linearNames(`encoder_${n}.fc1`)]),
    ...p.inputs.flatMap((n) => [...lstmCellNames(`decoder_${n}.lstm`), ...linearNames(`decoder_${n}.fc1`)]),
    ...mfnNames(p, 'mfn_encoder.'),
    ...linearNames('last_to_zy_fc1'),
    ...twoLayerNames('zy_to_fy'),
    ...p.inputs.flatMap((n) => twoLayerNames(`z_to_f_${n}`)),
  ],
  infer(ctx) {
    const p = ctx.params;
    const dims = checkMfnInputs(ctx, 'mfm');
    if (!dims) return undefined;
    for (const [key, list, what] of [['z', p.z, 'generative factor size'], ['f', p.f, 'f size'], ['z_dropout', p.z_dropout, 'dropout']] as const) {
      if (list !== undefined && list.length !== p.inputs.length) {
        ctx.report('MSA4004', ctx.spanOf(key), { node: ctx.node, detail: `'${key}' lists ${list.length} value${list.length === 1 ? '' : 's'} for ${p.inputs.length} input${p.inputs.length === 1 ? '' : 's'} (one ${what} per input)` });
        return undefined;
      }
    }
    const features: Record<string, ReturnType<typeof vector>> = { [MMD_LOSS]: vector(1), [FACTOR_Y]: vector(p.zy) };
    p.inputs.forEach((n, i) => {
      features[reconLoss(n)] = vector(1);
      features[factor(n)] = vector(p.z[i]!);
    });
    return { output: vector(p.fy), params: allParams(p, dims), features };
  },
  mmsaNames: { ignore: UNUSED_MFN_HEAD },
});
