// Rule metric-fit: the evaluation metrics suit the dataset's labels and the evaluated head: MMSA's sets assume a label
// scale ([-3, 3] for mosi/mosei, [-1, 1] for sims/simsv2), regression metrics need a regression head and
// classification metrics a classification head. Phase 4 (check).

import { METRICS, METRIC_SETS } from '../../../runtime/metrics/registry.js';
import { defineRule } from '../rule.js';
import { getHead, writtenSpan } from '../spec-graph.js';

const SCALE: Record<string, [number, number]> = { mosi: [-3, 3], mosei: [-3, 3], sims: [-1, 1], simsv2: [-1, 1] };

/** 'regression' | 'classification' for each metric of a set or list; unknown names are skipped (reported elsewhere). */
function kindsOf(metrics: string | string[]): Map<string, 'regression' | 'classification'> {
  const names = typeof metrics === 'string' ? ((METRIC_SETS as Record<string, readonly string[] | undefined>)[metrics] ?? []) : metrics;
  const out = new Map<string, 'regression' | 'classification'>();
  for (const n of names) {
    const def = METRICS.get(n);
    if (def) out.set(n, def.kind);
  }
  return out;
}

export default defineRule({
  id: 'metric-fit',
  description: 'evaluation metrics fit the label scale and the kind of the evaluated head',
  check(ctx) {
    const metrics = ctx.spec.eval?.metrics;
    if (metrics === undefined) return;
    const span = writtenSpan(ctx, ['eval', 'metrics']);
    const ds = ctx.dataset;
    if (typeof metrics === 'string' && ds) {
      const scale = SCALE[metrics];
      if (scale && ds.task === 'classification') {
        ctx.report('MSA3021', span, { set: metrics, meant: `regression labels in [${scale.join(', ')}]`, actual: `classes${ds.numClasses ? ` (${ds.numClasses})` : ''}` }, { hint: "use `metrics: classification` or a list such as [accuracy, macro_F1]" });
      } else if (scale && ds.labelRange && (ds.labelRange[0] !== scale[0] || ds.labelRange[1] !== scale[1])) {
        ctx.report('MSA3021', span, { set: metrics, meant: `labels in [${scale.join(', ')}]`, actual: `in [${ds.labelRange.join(', ')}]` }, {
          hint: `the ${metrics} bins and clipping assume that scale; use the dataset's own set (${typeof ds.metrics === 'string' ? ds.metrics : 'regression'}) or a list such as [MAE, RMSE, Corr, CCC]`,
        });
      }
    }
    const headName = ctx.spec.eval?.head;
    const head = typeof headName === 'string' ? getHead(ctx.spec, headName) : undefined;
    if (!head || typeof head.type !== 'string') return;
    for (const [name, kind] of kindsOf(metrics)) {
      if (kind === head.type) continue;
      ctx.report('MSA3025', span, { metric: name, head: headName, kind: head.type }, {
        hint: head.type === 'classification' ? 'score a classification head with accuracy, macro_F1, weighted_F1' : 'score a regression head with MAE, RMSE, Corr, CCC or a dataset set',
      });
      return; // one report per spec: the whole set is of the wrong kind
    }
  },
});
