// Catalog entry 'classification': an MLP head to one logit per class (`layers.{i}`, `out`), or a passthrough.
// Schema, shape rule and parameter names; phases 2-5.

import { vector } from '../../shape-helpers.js';
import { defineComponent } from '../../component.js';
import type { ClassificationHead } from '../../../compiler/spec/types.generated.js';
import { headNames, headOutputs, inferMlpHead, summarizeHeadLayers } from '../regression/define.js';

export default defineComponent<ClassificationHead>({
  kind: 'head',
  type: 'classification',
  schema: 'components/heads/classification.schema.json',
  doc: 'Classification head: an MLP to one logit per class.',
  accepts: ['vector'],
  predicts: 'classification',
  numClasses: (p) => p.num_classes,
  namedOutputs: headOutputs,
  examples: [
    { label: 'mlp', params: { type: 'classification', input: 'fusion', hidden: [64], dropout: 0.1, dropout_each: false, activation: 'relu', passthrough: false, num_classes: 3 }, inputs: [['fusion', vector(816)]] },
    { label: 'passthrough', params: { type: 'classification', input: 'fusion', hidden: [], dropout: 0, dropout_each: false, activation: 'relu', passthrough: true, num_classes: 3 }, inputs: [['fusion', vector(3)]] },
  ],
  summary: (p) => summarizeHeadLayers(p, `${p.num_classes} logits`),
  paramNames: headNames,
  infer: (ctx) => inferMlpHead(ctx, ctx.params.num_classes, { kind: 'logits', shape: ['B', ctx.params.num_classes], dtype: 'float32' }),
});
