// Rule component-checks: every component's own semantic check (its define.ts `check`), for invariants only it knows
// (ULGM's head layout). Phase 4 (check).

import { componentOf } from '../../../components/catalog.js';
import { componentEntries } from '../../../components/component.js';
import { defineRule } from '../rule.js';

export default defineRule({
  id: 'component-checks',
  description: "each component's own checks (from its folder)",
  check(ctx) {
    for (const { kind, key, entry, path } of componentEntries(ctx.spec)) {
      const def = componentOf(kind, entry);
      if (!def?.check) continue;
      def.check({ ...ctx, key, params: entry, path, componentOf });
    }
  },
});
