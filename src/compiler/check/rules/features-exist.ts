// Rule features-exist: each modality reads a feature the dataset has. Skipped when the dataset could not be resolved.
// Phase 4 (check).

import { didYouMean } from '../../../core/did-you-mean.js';
import { defineRule } from '../rule.js';
import { has, joinHints, modalities, quoteList } from '../spec-graph.js';

export default defineRule({
  id: 'features-exist',
  description: "each modality's feature exists in the dataset",
  check(ctx) {
    const ds = ctx.dataset;
    if (!ds) return;
    const names = Object.keys(ds.features ?? {});
    for (const [key, modality] of modalities(ctx.spec)) {
      const feature = modality?.feature;
      if (typeof feature !== 'string' || has(ds.features, feature)) continue;
      const available = names.length > 0 ? quoteList(names) : 'none';
      const close = didYouMean(feature, names);
      const hint = joinHints(close !== undefined ? `did you mean '${close}'?` : undefined, `features available: ${available}`);
      ctx.report('MSA3019', ctx.spanOf(['modalities', key, 'feature']), { dataset: ds.name, key: feature, available }, hint ? { hint } : {});
    }
  },
});
