// Rule metric-names: every metric the spec names is one the catalog knows (core/metrics.ts): each name of an
// `eval.metrics` list (no two reporting the same key), and what early stopping and model selection watch (`loss` or a
// key the evaluation reports). Unknown names are located and get a did-you-mean. Phase 4 (check).

import { didYouMean } from '../../../core/did-you-mean.js';
import { LOSS_KEY, METRIC_CATALOG, metricInfo, resultKeys, suggestMetric } from '../../../core/metrics.js';
import type { SpecPath } from '../../spec/spec-tree.js';
import { defineRule, type RuleContext } from '../rule.js';
import { isWritten, joinHints } from '../spec-graph.js';

/** The metric list the evaluation computes and where it is written (eval.metrics, else a custom dataset's list). */
function metricList(ctx: RuleContext): { names: unknown[]; path: SpecPath } | undefined {
  const ev = ctx.spec.eval?.metrics;
  if (Array.isArray(ev) && isWritten(ctx, ['eval', 'metrics'])) return { names: ev, path: ['eval', 'metrics'] };
  const ds = ctx.spec.dataset as { metrics?: unknown } | undefined;
  if (ds && typeof ds === 'object' && Array.isArray(ds.metrics)) return { names: ds.metrics, path: ['dataset', 'metrics'] };
  return undefined;
}

function checkList(ctx: RuleContext): void {
  const list = metricList(ctx);
  if (!list) return;
  const byKey = new Map<string, string>();
  list.names.forEach((name, i) => {
    if (typeof name !== 'string') return;
    const info = metricInfo(name);
    if (!info) {
      const close = suggestMetric(name);
      ctx.report('MSA3029', ctx.spanOf([...list.path, i]), { name }, {
        hint: joinHints(close !== undefined ? `did you mean '${close}'?` : undefined, `known metrics: ${METRIC_CATALOG.map((m) => m.name).join(', ')}`),
      });
      return;
    }
    const other = byKey.get(info.key);
    if (other !== undefined) {
      ctx.report('MSA3038', ctx.spanOf([...list.path, i]), { a: other, b: name, key: info.key }, {
        related: [{ span: ctx.spanOf([...list.path, list.names.indexOf(other)]), message: `'${other}' is listed here` }],
      });
      return;
    }
    byKey.set(info.key, name);
  });
}

/** Early stopping, model selection and plateau schedulers watch `loss` or a key the evaluation reports (any case). */
function checkWatched(ctx: RuleContext): void {
  const train = ctx.spec.train;
  const metrics = ctx.spec.eval?.metrics ?? ctx.dataset?.metrics;
  if (!train || metrics === undefined) return;
  const keys = resultKeys(metrics);
  const known = new Set([LOSS_KEY, ...keys].map((k) => k.toLowerCase()));
  const watched: { what: string; path: SpecPath; metric: unknown }[] = [
    { what: 'early stopping', path: ['train', 'early_stop', 'metric'], metric: train.early_stop?.metric },
    // A defaulted select copies early_stop's metric: reported once, at early_stop.
    ...(isWritten(ctx, ['train', 'select', 'metric']) ? [{ what: 'model selection', path: ['train', 'select', 'metric'], metric: train.select?.metric }] : []),
  ];
  const plateau = (s: unknown, path: SpecPath) => {
    if (s && typeof s === 'object' && (s as { type?: unknown }).type === 'plateau') watched.push({ what: 'lr scheduler', path: [...path, 'metric'], metric: (s as { metric?: unknown }).metric });
  };
  plateau(train.scheduler, ['train', 'scheduler']);
  (train.stages ?? []).forEach((st, i) => plateau(st?.scheduler, ['train', 'stages', i, 'scheduler']));
  for (const { what, path, metric } of watched) {
    if (typeof metric !== 'string' || known.has(metric.toLowerCase())) continue;
    const available = keys.join(', ');
    const close = didYouMean(metric, ['loss', ...keys]);
    const hint = joinHints(close !== undefined ? `did you mean '${close}'?` : undefined, `use \`loss\` or one of: ${available}`);
    ctx.report('MSA3026', ctx.spanOf(path), { what, metric, available }, hint ? { hint } : {});
  }
}

export default defineRule({
  id: 'metric-names',
  description: 'metric lists name catalog metrics; early stopping and selection watch loss or a computed metric',
  check(ctx) {
    checkList(ctx);
    checkWatched(ctx);
  },
});
