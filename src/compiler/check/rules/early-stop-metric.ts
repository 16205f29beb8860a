// Rule early-stop-metric: early stopping and model selection watch `loss` or a metric the eval metric set computes.
// Phase 4 (check).

import { didYouMean } from '../../diagnostics/did-you-mean.js';
import { defineRule } from '../rule.js';
import { isWritten, joinHints } from '../spec-graph.js';

const MOSI = ['Has0_acc_2', 'Has0_F1_score', 'Non0_acc_2', 'Non0_F1_score', 'Mult_acc_5', 'Mult_acc_7', 'MAE', 'Corr'];
const SIMS = ['Mult_acc_2', 'Mult_acc_3', 'Mult_acc_5', 'F1_score', 'MAE', 'Corr'];
const SETS: Record<string, readonly string[]> = { mosi: MOSI, mosei: MOSI, sims: SIMS, simsv2: SIMS };

/**
 * Result keys a metric set reports, or undefined when they cannot be known here (generic `regression` /
 * `classification` sets depend on the runtime's registry). A listed metric reports under its name without a
 * `set/` prefix (`sims/MAE` reports `MAE`).
 */
function computedKeys(metrics: unknown): string[] | undefined {
  if (typeof metrics === 'string') return SETS[metrics] ? [...SETS[metrics]] : undefined;
  if (!Array.isArray(metrics)) return undefined;
  const keys = new Set<string>();
  for (const m of metrics) {
    if (typeof m !== 'string') continue;
    keys.add(m);
    const slash = m.lastIndexOf('/');
    if (slash >= 0) keys.add(m.slice(slash + 1));
  }
  return [...keys];
}

export default defineRule({
  id: 'early-stop-metric',
  description: 'early_stop.metric and select.metric are loss or a computed metric',
  check(ctx) {
    const train = ctx.spec.train;
    if (!train) return;
    const metrics = ctx.spec.eval?.metrics ?? ctx.dataset?.metrics;
    const keys = computedKeys(metrics);
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
