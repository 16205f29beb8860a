// Catalog entry 'mmim': MMIM's fusion (MMSA's models/singleTask/MMIM.py): the tanh MLP giving f, the MMILB bounds and
// the CPC scores, published as named outputs for the mmilb and node_loss tasks. Schema, shape rule, names; phases 2-5.

import { defineComponent } from '../../component.js';
import type { MmimFusion } from '../../../compiler/spec/types.generated.js';
import type { ParamDecl } from '../../../compiler/ir/types.js';
import { featureDim } from '../../../compiler/ir/types.js';
import { checkFusionInputs, linearNames, linearParams, vector } from '../../shape-helpers.js';

/** The named output holding the summed Gaussian log-likelihood bounds (lld_tv + lld_ta [+ lld_va]). */
export const LLD = 'lld';
/** The named output holding nce_t + nce_v + nce_a. */
export const NCE = 'nce';
/** The named output holding one bound's entropy projection Tanh(Linear(y -> y/4))(y), e.g. entropy_tv. */
export const entropyOutput = (pair: string): string => `entropy_${pair}`;

/** MMSA's bounds as [name, x input index, y input index] over inputs (text, audio, vision). */
export function mmilbPairs(p: { add_va: boolean }): [string, number, number][] {
  return [['tv', 0, 2], ['ta', 0, 1], ...(p.add_va ? [['va', 2, 1] as [string, number, number]] : [])];
}

/** MMSA's CPC modules: cpc_zt, cpc_zv, cpc_za predict text, vision, audio (input indices) from f. */
export const CPC_TARGETS: [string, number][] = [['zt', 0], ['zv', 2], ['za', 1]];

function mmilbParams(prefix: string, x: number, y: number): ParamDecl[] {
  return [
    ...linearParams(`${prefix}.mlp_mu.0`, x, y), ...linearParams(`${prefix}.mlp_mu.2`, y, y),
    ...linearParams(`${prefix}.mlp_logvar.0`, x, y), ...linearParams(`${prefix}.mlp_logvar.2`, y, y),
    ...linearParams(`${prefix}.entropy_prj.0`, y, Math.floor(y / 4)),
  ];
}

function mmilbNames(prefix: string): string[] {
  return ['mlp_mu.0', 'mlp_mu.2', 'mlp_logvar.0', 'mlp_logvar.2', 'entropy_prj.0'].flatMap((l) => linearNames(`${prefix}.${l}`));
}

function allParams(p: MmimFusion, dims: readonly number[]): ParamDecl[] {
  const sum = dims.reduce((a, b) => a + b, 0);
  return [
    ...linearParams('fusion_prj.linear_1', sum, p.hidden),
    ...linearParams('fusion_prj.linear_2', p.hidden, p.hidden),
    ...mmilbPairs(p).flatMap(([n, x, y]) => mmilbParams(`mi_${n}`, dims[x]!, dims[y]!)),
    ...CPC_TARGETS.flatMap(([n, i]) => linearParams(`cpc_${n}.net`, p.hidden, dims[i]!)),
  ];
}

export default defineComponent<MmimFusion>({
  kind: 'fusion',
  type: 'mmim',
  schema: 'components/fusions/mmim.schema.json',
  doc: "MMIM's fusion (MMSA's models/singleTask/MMIM.py): a tanh MLP over [text; audio; vision] giving f, the MMILB bounds text->vision and text->audio (lld and the entropy projections), and CPC scores of f against every input, published as named outputs.",
  arity: { min: 3, max: 3 },
  accepts: ['vector'],
  examples: [
    {
      label: 'mmim mosi',
      params: { type: 'mmim', inputs: ['text', 'audio', 'vision'], hidden: 128, dropout: 0.1, add_va: false },
      inputs: [['text', vector(768)], ['audio', vector(16)], ['vision', vector(16)]],
    },
    {
      label: 'with vision->audio',
      params: { type: 'mmim', inputs: ['text', 'audio', 'vision'], hidden: 8, dropout: 0, add_va: true },
      inputs: [['text', vector(12)], ['audio', vector(8)], ['vision', vector(4)]],
    },
  ],
  couplesBatch: () => 'its CPC scores each sample against every other sample of the batch',
  summary: (p) => `mmim(${p.inputs.join(', ')} -> f ${p.hidden}; MMILB ${mmilbPairs(p).map(([n]) => n).join(', ')}; CPC t, v, a)`,
  namedOutputs: (p) => [LLD, NCE, ...mmilbPairs(p).map(([n]) => entropyOutput(n))],
  paramNames: (p) => [
    ...linearNames('fusion_prj.linear_1'),
    ...linearNames('fusion_prj.linear_2'),
    ...mmilbPairs(p).flatMap(([n]) => mmilbNames(`mi_${n}`)),
    ...CPC_TARGETS.flatMap(([n]) => linearNames(`cpc_${n}.net`)),
  ],
  infer(ctx) {
    const p = ctx.params;
    if (!checkFusionInputs(ctx, 'mmim', ['vector'])) return undefined;
    const dims = ctx.inputs.map((i) => featureDim(i.type));
    const features: Record<string, ReturnType<typeof vector>> = { [LLD]: vector(1), [NCE]: vector(1) };
    for (const [n, , y] of mmilbPairs(p)) features[entropyOutput(n)] = vector(Math.floor(dims[y]! / 4));
    return { output: vector(p.hidden), params: allParams(p, dims), features };
  },
});
