// Catalog entry 'low_rank': LMF's low-rank fusion, one rank x (d+1) x out factor per input plus fusion weights and
// bias. Schema, shape rule and parameter names (`<input>_factor`, `fusion_weights`, `fusion_bias`); phases 2-5.

import { defineComponent } from '../../component.js';
import type { LowRankFusion } from '../../../compiler/spec/types.generated.js';
import { featureDim, type ParamDecl } from '../../../compiler/ir/types.js';
import { checkFusionInputs, param, refLabel, vector } from '../../shape-helpers.js';

/** Factors are named after the spec's input names, so `audio_factor` reads like MMSA's state_dict. */
export function factorName(p: LowRankFusion, i: number, fallback: string): string {
  return `${refLabel(p.inputs[i] ?? fallback)}_factor`;
}

export default defineComponent<LowRankFusion>({
  kind: 'fusion',
  type: 'low_rank',
  schema: 'components/fusions/low_rank.schema.json',
  doc: 'LMF low-rank fusion with modality-specific rank-r factors.',
  arity: { min: 2, max: Number.POSITIVE_INFINITY },
  accepts: ['vector'],
  examples: [{ label: 'lmf', params: { type: 'low_rank', inputs: ['audio', 'video', 'text'], rank: 3, out: 1 }, inputs: [['audio', vector(16)], ['video', vector(128)], ['text', vector(64)]] }],
  summary: (p) => `low_rank(rank ${p.rank}, out ${p.out}; ${p.inputs.join(', ')})`,
  paramNames: (p) => [...p.inputs.map((n, i) => factorName(p, i, n)), 'fusion_weights', 'fusion_bias'],
  infer(ctx) {
    const p = ctx.params;
    let ok = checkFusionInputs(ctx, 'low_rank', ['vector']);
    if (!Number.isInteger(p.rank) || p.rank < 1) {
      ctx.report('MSA4004', ctx.spanOf('rank'), { node: ctx.node, detail: `rank must be a whole number of at least 1, got ${p.rank}` });
      ok = false;
    }
    if (!Number.isInteger(p.out) || p.out < 1) {
      ctx.report('MSA4004', ctx.spanOf('out'), { node: ctx.node, detail: `out must be a whole number of at least 1, got ${p.out}` });
      ok = false;
    }
    const seen = new Set<string>();
    for (const input of ctx.inputs) {
      if (seen.has(input.name)) {
        ctx.report('MSA4004', input.span, {
          node: ctx.node,
          detail: `'${input.name}' is listed twice, so two factors would both be named '${input.name}_factor'`,
        });
        ok = false;
      }
      seen.add(input.name);
    }
    if (!ok) return undefined;
    const params: ParamDecl[] = ctx.inputs.map((input, i) => param(factorName(p, i, input.name), [p.rank, featureDim(input.type) + 1, p.out]));
    params.push(param('fusion_weights', [1, p.rank]), param('fusion_bias', [1, p.out]));
    return { output: vector(p.out), params };
  },
});
