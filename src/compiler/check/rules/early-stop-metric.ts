// Rule early-stop-metric: early stopping and model selection watch `loss` or a metric the eval metric set computes.
// Phase 4 (check).

import { didYouMean } from '../../diagnostics/did-you-mean.js';
import { defineRule } from '../rule.js';
import { computedMetricKeys, isWritten, joinHints } from '../spec-graph.js';

export default defineRule({
  id: 'early-stop-metric',
  description: 'early_stop.metric and select.metric are loss or a computed metric',
  check(ctx) {
    const train = ctx.spec.train;
    if (!train) return;
    const metrics = ctx.spec.eval?.metrics ?? ctx.dataset?.metrics;
    const keys = computedMetricKeys(metrics);
    if (!keys) return;
    for (const section of ['early_stop', 'select'] as const) {
      const metric = train[section]?.metric;
      if (typeof metric !== 'string' || metric === 'loss' || metric === 'Loss' || keys.includes(metric)) continue;
      // A defaulted select copies early_stop's metric: reported once, at early_stop.
      if (section === 'select' && !isWritten(ctx, ['train', section, 'metric'])) continue;
      const available = keys.join(', ');
      const close = didYouMean(metric, ['loss', ...keys]);
      const hint = joinHints(close !== undefined ? `did you mean '${close}'?` : undefined, `use \`loss\` or one of: ${available}`);
      ctx.report('MSA3026', ctx.spanOf(['train', section, 'metric']), { what: section === 'select' ? 'model selection' : 'early stopping', metric, available }, hint ? { hint } : {});
    }
  },
});
