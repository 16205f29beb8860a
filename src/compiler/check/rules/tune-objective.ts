// Rule tune-objective: a search scores trials on validation (never test), with a metric the eval set computes, at an
// epoch chosen on validation, within a budget. Phase 4 (check).

import { didYouMean } from '../../../core/did-you-mean.js';
import { defineRule } from '../rule.js';
import { computedMetricKeys, isWritten, joinHints } from '../spec-graph.js';
import { gridSize, resolveSpace } from '../../../tune/space.js';

export default defineRule({
  id: 'tune-objective',
  description: 'tune.objective reads a computed metric on valid; selection on valid; a budget',
  check(ctx) {
    const tune = ctx.spec.tune;
    if (!tune) return;
    const split = tune.objective.split;
    if (split === 'test') ctx.report('MSA3030', ctx.spanOf(['tune', 'objective', 'split']));
    if (split === 'train') ctx.report('MSA3031', ctx.spanOf(['tune', 'objective', 'split']));
    const select = ctx.spec.train.select.split;
    // Test selection is reported by no-test-selection.
    if (select === 'train') ctx.report('MSA3036', ctx.spanOf(['train', 'select', 'split']), { split: select });
    const metric = tune.objective.metric;
    const keys = computedMetricKeys(ctx.spec.eval?.metrics ?? ctx.dataset?.metrics);
    if (keys && metric !== 'loss' && metric !== 'Loss' && !keys.includes(metric)) {
      const available = keys.join(', ');
      const close = didYouMean(metric, ['loss', ...keys]);
      const hint = joinHints(close !== undefined ? `did you mean '${close}'?` : undefined, `use \`loss\` or one of: ${available}`);
      ctx.report('MSA3026', ctx.spanOf(['tune', 'objective', 'metric']), { what: 'the tuning objective', metric, available }, hint ? { hint } : {});
    }
    const { params } = resolveSpace(tune.space);
    const finite = tune.strategy === 'grid' && gridSize(params) !== undefined;
    if (tune.budget.trials === undefined && tune.budget.minutes === undefined && !finite) {
      ctx.report('MSA3037', isWritten(ctx, ['tune', 'budget']) ? ctx.spanOf(['tune', 'budget'], { key: true }) : ctx.spanOf(['tune'], { key: true }));
    }
  },
});
