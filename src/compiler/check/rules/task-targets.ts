// Rule task-targets: every label a task trains on is provided by the dataset. Skipped when the dataset could not be
// resolved (that was reported by phase 3). Phase 4 (check).

import { suggestionHint } from '../../../core/did-you-mean.js';
import { componentOf } from '../../../components/catalog.js';
import { defineRule } from '../rule.js';
import { has, joinHints, quoteList, tasks, writtenSpan } from '../spec-graph.js';

export default defineRule({
  id: 'task-targets',
  description: "every task's target label exists in the dataset's labels",
  check(ctx) {
    const ds = ctx.dataset;
    if (!ds) return;
    const labels = Object.keys(ds.labels ?? {});
    for (const [key, task] of tasks(ctx.spec)) {
      // The labels the task says it reads (none for losses between node outputs).
      for (const label of componentOf('task', task)?.taskTargets?.(task) ?? []) {
        if (typeof label !== 'string' || has(ds.labels, label)) continue;
        const available = labels.length > 0 ? quoteList(labels) : 'none';
        // Labels are mostly single letters (M, T, A, V), where every other letter is one edit away: no guessing there.
        const did = label.length > 1 ? suggestionHint(label, labels) : '';
        const hint = joinHints(did.startsWith('did you mean') ? did : undefined, `labels available: ${available}`);
        ctx.report('MSA3015', writtenSpan(ctx, ['tasks', key, 'target']), { task: key, label, dataset: ds.name, available }, hint ? { hint } : {});
      }
    }
  },
});
