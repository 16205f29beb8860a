// Rule seeds-unique: run seeds are distinct and fit the 32-bit unsigned range the runtime's generators take.
// Phase 4 (check).

import { defineRule } from '../rule.js';

const MAX_SEED = 4294967295;

export default defineRule({
  id: 'seeds-unique',
  description: 'seeds are unique integers in [0, 4294967295]',
  check(ctx) {
    const seeds = ctx.spec.seeds;
    if (!Array.isArray(seeds)) return;
    const first = new Map<number, number>();
    seeds.forEach((seed, i) => {
      if (typeof seed !== 'number') return;
      const span = ctx.spanOf(['seeds', i]);
      if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) ctx.report('MSA3014', span, { seed });
      const prev = first.get(seed);
      if (prev === undefined) {
        first.set(seed, i);
        return;
      }
      ctx.report('MSA3013', span, { seed }, { related: [{ span: ctx.spanOf(['seeds', prev]), message: `seed ${seed} first appears here` }] });
    });
  },
});
