// Rule missing-raw: a modality with `missing:` (MMSA's data_missing) reads a raw token or frame feature as stored,
// since MMSA draws its masks over the padded arrays before any reshaping. Phase 4 (check).

import { defineRule } from '../rule.js';
import { has, modalities } from '../spec-graph.js';

export default defineRule({
  id: 'missing-raw',
  description: 'a modality with missing: reads token rows or frame sequences without time_mean, seq_len or avg_pool',
  check(ctx) {
    for (const [name, m] of modalities(ctx.spec)) {
      if (!m.missing) continue;
      const clash = m.preprocess?.time_mean ? 'preprocess.time_mean' : m.preprocess?.seq_len != null ? 'preprocess.seq_len' : m.align === 'avg_pool' ? 'align: avg_pool' : undefined;
      if (clash) {
        ctx.report('MSA3052', ctx.spanOf(['modalities', name, 'missing'], { key: true }), { name, detail: `it also sets ${clash}, which reshapes the frames the masks are drawn over` });
        continue;
      }
      const ds = ctx.dataset;
      if (!ds || typeof m.feature !== 'string' || !has(ds.features, m.feature)) continue;
      const shape = Array.isArray(ds.features[m.feature]!.shape) ? ds.features[m.feature]!.shape : [];
      if (shape.length !== 2) {
        ctx.report('MSA3052', ctx.spanOf(['modalities', name, 'missing'], { key: true }), { name, detail: `feature '${m.feature}' has shape [${shape.join(', ')}], not token rows [3, L] or frames [T, D]` });
      }
    }
  },
});
