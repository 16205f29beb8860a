// Rule no-test-selection: early stopping and model selection never read the test split (that would leak test
// results into training decisions). Phase 4 (check).

import { defineRule } from '../rule.js';
import { isWritten } from '../spec-graph.js';

export default defineRule({
  id: 'no-test-selection',
  description: 'train.early_stop.split and train.select.split are not `test`',
  check(ctx) {
    const train = ctx.spec.train;
    if (!train) return;
    if (train.early_stop?.split === 'test') {
      ctx.report('MSA3012', ctx.spanOf(['train', 'early_stop', 'split']), { what: 'early stopping (`train.early_stop.split`)' });
    }
    // A select section left to defaults copies early_stop's split: reported once, at early_stop.
    if (train.select?.split === 'test' && isWritten(ctx, ['train', 'select', 'split'])) {
      ctx.report('MSA3012', ctx.spanOf(['train', 'select', 'split']), { what: 'model selection (`train.select.split`)' });
    }
  },
});
