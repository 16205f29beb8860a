// Catalog entry 'shared_private': MISA's shared and private spaces over several vectors (models/singleTask/MISA.py
// shared_private): per input a private Linear + Sigmoid, one shared Linear + Sigmoid for all; reads several nodes and
// publishes each input's `private_<name>` and `shared_<name>` (with `project`, `orig_<name>`; with `reconstruct`,
// `recon_<name>`). Schema, shape rule, names; phases 2-5.

import { defineComponent } from '../../component.js';
import type { SharedPrivateEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim, formatType, type ParamDecl } from '../../../compiler/ir/types.js';
import { expectKind, linearParams, param, refLabel, vector } from '../../shape-helpers.js';

/** The name an input gives its outputs and parameters: `encoders.text` -> `text`, `encoders.x:out` -> `x_out`. */
export const inputLabel = refLabel;

export function spOutputs(p: SharedPrivateEncoder): string[] {
  const labels = p.inputs.map(inputLabel);
  const out = [...labels.map((l) => `private_${l}`), ...labels.map((l) => `shared_${l}`)];
  if (p.project) out.push(...labels.map((l) => `orig_${l}`));
  if (p.reconstruct) out.push(...labels.map((l) => `recon_${l}`));
  return out;
}

/** MISA's projection to one size: Linear `project_<name>`, ReLU, LayerNorm `project_<name>_layer_norm`. */
function projectParams(label: string, d: number, out: number): ParamDecl[] {
  return [...linearParams(`project_${label}`, d, out), param(`project_${label}_layer_norm.weight`, [out]), param(`project_${label}_layer_norm.bias`, [out])];
}

/** Parameters in declaration order: projections, privates, the shared Linear, reconstructions. */
function spParams(p: SharedPrivateEncoder, dims: number[]): ParamDecl[] {
  const labels = p.inputs.map(inputLabel);
  const d = p.project ? p.out : dims[0]!;
  return [
    ...(p.project ? labels.flatMap((l, i) => projectParams(l, dims[i]!, p.out)) : []),
    ...labels.flatMap((l) => linearParams(`private_${l}`, d, p.out)),
    ...linearParams('shared', d, p.out),
    ...(p.reconstruct ? labels.flatMap((l) => linearParams(`recon_${l}`, p.out, p.out)) : []),
  ];
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
      label: 'spaces only',
      params: { type: 'shared_private', inputs: ['text', 'audio', 'vision'], out: 8, project: false, reconstruct: false },
      inputs: [['text', vector(8)], ['audio', vector(8)], ['vision', vector(8)]],
    },
    {
      label: 'misa',
      params: { type: 'shared_private', inputs: ['text', 'audio', 'vision'], out: 8, project: true, reconstruct: true },
      inputs: [['text', vector(12)], ['audio', vector(20)], ['vision', vector(80)]],
    },
  ],
  summary: (p) =>
    `shared_private(${p.inputs.join(', ')}; out ${p.out}${p.project ? ', projected (linear, relu, layer norm)' : ''}, sigmoid) -> private + shared${p.reconstruct ? ' + reconstructions' : ''}`,
  paramNames: (p) => spParams(p, p.inputs.map(() => 1)).map((d) => d.name),
  infer(ctx) {
    const p = ctx.params;
    if (!ctx.inputs.every((i) => expectKind(ctx, 'shared_private', i, ['vector']))) return undefined;
    const first = ctx.inputs[0];
    if (!first) return undefined;
    const d = featureDim(first.type);
    const odd = p.project ? undefined : ctx.inputs.find((i) => featureDim(i.type) !== d);
    if (odd) {
      ctx.report('MSA4004', odd.span, { node: ctx.node, detail: `the shared projection needs inputs of one size, but '${first.name}' gives ${d} and '${odd.name}' gives ${featureDim(odd.type)}` }, {
        hint: 'set project: true (MISA projects every utterance vector to hidden_size), or project the inputs to one size first',
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
    const params = spParams(p, ctx.inputs.map((i) => featureDim(i.type)));
    const features = Object.fromEntries(spOutputs(p).map((n) => [n, vector(p.out)]));
    return { output: vector(2 * labels.length * p.out), params, features };
  },
});
