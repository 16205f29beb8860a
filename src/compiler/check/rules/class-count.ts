// Rule class-count: a classification head trained with cross entropy outputs as many classes as the dataset has.
// Phase 4 (check).

import { defineRule } from '../rule.js';
import { getHead, tasks, writtenSpan } from '../spec-graph.js';

export default defineRule({
  id: 'class-count',
  description: "a cross-entropy head's num_classes equals the dataset's number of classes",
  check(ctx) {
    const n = ctx.dataset?.numClasses;
    if (n === undefined) return;
    for (const [, task] of tasks(ctx.spec)) {
      if (task.type !== 'cross_entropy' || typeof task.head !== 'string') continue;
      const head = getHead(ctx.spec, task.head);
      if (!head || head.type !== 'classification' || head.num_classes === n) continue;
      ctx.report('MSA3028', writtenSpan(ctx, ['heads', task.head, 'num_classes']), { head: task.head, out: head.num_classes, needed: n, dataset: ctx.dataset!.name });
    }
  },
});
