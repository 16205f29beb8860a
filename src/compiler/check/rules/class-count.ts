// Rule class-count: a head that outputs class scores, trained by a task that needs them (cross entropy), outputs as many
// classes as the dataset has. Phase 4 (check).

import { defineRule } from '../rule.js';
import { componentOf } from '../../../components/catalog.js';
import { getHead, taskHeadRefs, tasks, writtenSpan } from '../spec-graph.js';

export default defineRule({
  id: 'class-count',
  description: "a cross-entropy head's num_classes equals the dataset's number of classes",
  check(ctx) {
    const n = ctx.dataset?.numClasses;
    if (n === undefined) return;
    const reported = new Set<string>();
    for (const [key, task] of tasks(ctx.spec)) {
      if (componentOf('task', task)?.needsHead !== 'classification') continue;
      for (const { head: name } of taskHeadRefs(key, task)) {
        const head = getHead(ctx.spec, name);
        const out = head ? componentOf('head', head)?.numClasses?.(head) : undefined;
        if (out === undefined || out === n || reported.has(name)) continue;
        reported.add(name);
        ctx.report('MSA3028', writtenSpan(ctx, ['heads', name, 'num_classes']), { head: name, out, needed: n, dataset: ctx.dataset!.name });
      }
    }
  },
});
