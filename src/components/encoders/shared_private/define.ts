// Catalog entry 'shared_private': MISA's shared and private spaces over several vectors (models/singleTask/MISA.py
// shared_private): per input a private Linear + Sigmoid, one shared Linear + Sigmoid for all; reads several nodes and
// publishes each input's `private_<name>` and `shared_<name>`. Schema, shape rule, names; phases 2-5.

import { defineComponent } from '../../component.js';
import type { SharedPrivateEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim, formatType, type ParamDecl } from '../../../compiler/ir/types.js';
import { expectKind, linearNames, linearParams, refLabel, vector } from '../../shape-helpers.js';

/** The name an input gives its outputs and parameters: `encoders.text` -> `text`, `encoders.x:out` -> `x_out`. */
export const inputLabel = refLabel;

export function spOutputs(p: SharedPrivateEncoder): string[] {
  const labels = p.inputs.map(inputLabel);
  return [...labels.map((l) => `private_${l}`), ...labels.map((l) => `shared_${l}`)];
}

export default defineComponent<SharedPrivateEncoder>({
  kind: 'encoder',
  type: 'shared_private',
  schema: 'components/encoders/shared_private.schema.json',
  doc: "MISA's shared and private spaces: each input's private projection and one projection shared by all inputs (Linear + Sigmoid), published as named outputs.",
  arity: { min: 2, max: Number.POSITIVE_INFINITY },
  accepts: ['vector'],
  reads: (p) => p.inputs.map((name, i) => ({ name, path: ['inputs', i] })),
  outputKind: () => 'vector',
  namedOutputs: spOutputs,
  examples: [
    {
      label: 'misa',
      params: { type: 'shared_private', inputs: ['text', 'audio', 'vision'], out: 8 },
      inputs: [['text', vector(8)], ['audio', vector(8)], ['vision', vector(8)]],
    },
  ],
  summary: (p) => `shared_private(${p.inputs.join(', ')}; out ${p.out}, sigmoid) -> private + shared`,
  paramNames: (p) => [...p.inputs.flatMap((r) => linearNames(`private_${inputLabel(r)}`)), ...linearNames('shared')],
  infer(ctx) {
    const p = ctx.params;
    if (!ctx.inputs.every((i) => expectKind(ctx, 'shared_private', i, ['vector']))) return undefined;
    const first = ctx.inputs[0];
    if (!first) return undefined;
    const d = featureDim(first.type);
    const odd = ctx.inputs.find((i) => featureDim(i.type) !== d);
    if (odd) {
      ctx.report('MSA4004', odd.span, { node: ctx.node, detail: `the shared projection needs inputs of one size, but '${first.name}' gives ${d} and '${odd.name}' gives ${featureDim(odd.type)}` }, {
        hint: 'project the inputs to one size first (MISA projects every utterance vector to hidden_size)',
        related: [{ span: first.span, message: `'${first.name}' gives ${formatType(first.type)}` }],
      });
      return undefined;
    }
    const labels = p.inputs.map(inputLabel);
    const twice = labels.find((l, i) => labels.indexOf(l) !== i);
    if (twice !== undefined) {
      ctx.report('MSA4004', ctx.spanOf('inputs'), { node: ctx.node, detail: `two inputs would both publish 'private_${twice}'` });
      return undefined;
    }
    const params: ParamDecl[] = [...labels.flatMap((l) => linearParams(`private_${l}`, d, p.out)), ...linearParams('shared', d, p.out)];
    const features = Object.fromEntries(spOutputs(p).map((n) => [n, vector(p.out)]));
    return { output: vector(2 * labels.length * p.out), params, features };
  },
});
