// Rule metric-fit: the evaluation metrics suit the dataset's labels and the evaluated head: MMSA's sets assume a label
// scale ([-3, 3] for mosi/mosei, [-1, 1] for sims/simsv2), regression metrics need a regression head and
// classification metrics a classification head. Phase 4 (check).

import { componentOf } from '../../../components/catalog.js';
import { METRIC_SET_SCALE, isMetricSetName, metricsOf } from '../../../core/metrics.js';
import { defineRule } from '../rule.js';
import { getHead, writtenSpan } from '../spec-graph.js';


export default defineRule({
  id: 'metric-fit',
  description: 'evaluation metrics fit the label scale and the kind of the evaluated head',
  check(ctx) {
    const metrics = ctx.spec.eval?.metrics;
    if (metrics === undefined) return;
    const span = writtenSpan(ctx, ['eval', 'metrics']);
    const ds = ctx.dataset;
    if (typeof metrics === 'string' && ds) {
      const scale = isMetricSetName(metrics) ? METRIC_SET_SCALE[metrics] : undefined;
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
    const predicts = head ? componentOf('head', head)?.predicts : undefined;
    if (!head || !predicts) return;
    for (const m of metricsOf(metrics)) {
      if (m.kind === predicts) continue;
      ctx.report('MSA3025', span, { metric: m.name, head: headName, kind: head.type }, {
        hint: predicts === 'classification' ? 'score a classification head with accuracy, macro_F1, weighted_F1' : 'score a regression head with MAE, RMSE, Corr, CCC or a dataset set',
      });
      return; // one report per spec: the whole set is of the wrong kind
    }
  },
});
