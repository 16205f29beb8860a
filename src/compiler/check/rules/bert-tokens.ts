// Rule bert-tokens: an encoder that reads only token ids (BERT) reads integer token rows (ids, mask, segments: shape
// [3, L]), not precomputed float features. Skipped when the dataset or the feature is unknown. Phase 4 (check).

import { componentOf } from '../../../components/catalog.js';
import { defineRule } from '../rule.js';
import { encoderModality, encoders, getModality, has } from '../spec-graph.js';

export default defineRule({
  id: 'bert-tokens',
  description: 'bert encoders read int token features of shape [3, L]',
  check(ctx) {
    const ds = ctx.dataset;
    if (!ds) return;
    for (const [key, enc] of encoders(ctx.spec)) {
      const accepts = componentOf('encoder', enc)?.accepts;
      if (!accepts || accepts.some((k) => k !== 'tokens')) continue;
      const modalityName = encoderModality(key, enc);
      const modality = getModality(ctx.spec, modalityName);
      if (!modality || typeof modality.feature !== 'string' || !has(ds.features, modality.feature)) continue;
      const f = ds.features[modality.feature]!;
      const shape = Array.isArray(f.shape) ? f.shape : [];
      if (f.dtype === 'int' && shape.length === 2 && shape[0] === 3) continue;
      const actual = `${f.dtype} features of shape [${shape.join(', ')}]`;
      ctx.report('MSA3027', ctx.spanOf(['encoders', key, 'type']), { name: key, key: modality.feature, actual }, {
        related: [{ span: ctx.spanOf(['modalities', modalityName, 'feature']), message: `modality '${modalityName}' reads feature '${modality.feature}' here` }],
      });
    }
  },
});
