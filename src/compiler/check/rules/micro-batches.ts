// Rule micro-batches: a train.micro_batches count above 1 splits every batch into chunks whose gradients add up to
// the batch's only when each sample's loss depends on that sample alone; components whose maths couples the samples
// of a batch (declared by their `couplesBatch`) refuse it. Phase 4 (check).

import { componentOf } from '../../../components/catalog.js';
import { componentEntries } from '../../../components/component.js';
import { defineRule } from '../rule.js';
import { declaredHere } from '../spec-graph.js';

export default defineRule({
  id: 'micro-batches',
  description: 'train.micro_batches above 1 only where no component couples the samples of a batch',
  check(ctx) {
    const m = ctx.spec.train?.micro_batches;
    if (typeof m !== 'number' || m <= 1) return;
    for (const { kind, key, entry, path } of componentEntries(ctx.spec)) {
      const why = componentOf(kind, entry)?.couplesBatch?.(entry as never);
      if (!why) continue;
      ctx.report('MSA3044', ctx.spanOf(['train', 'micro_batches']), { count: m, what: kind, name: key, type: String(entry['type']), why }, {
        related: [declaredHere(ctx, path, `${kind} '${key}' is declared here`)],
      });
    }
  },
});
