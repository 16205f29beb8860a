// Rule component-checks: every component's own semantic check (its define.ts `check`), for invariants only it knows
// (ULGM's head layout). Phase 4 (check).

import { componentOf } from '../../../components/catalog.js';
import { KIND_SECTIONS, type ComponentKind } from '../../../components/component.js';
import { defineRule } from '../rule.js';
import { entriesOf, fusionOf } from '../spec-graph.js';

export default defineRule({
  id: 'component-checks',
  description: "each component's own checks (from its folder)",
  check(ctx) {
    const entries: [ComponentKind, string, unknown][] = [];
    for (const kind of ['encoder', 'head', 'task'] as const) {
      const section = ctx.spec[KIND_SECTIONS[kind] as 'encoders' | 'heads' | 'tasks'] as Record<string, unknown> | undefined;
      for (const [key, entry] of entriesOf(section)) entries.push([kind, key, entry]);
    }
    const fusion = fusionOf(ctx.spec);
    if (fusion) entries.push(['fusion', 'fusion', fusion]);
    for (const [kind, key, entry] of entries) {
      const def = componentOf(kind, entry);
      if (!def?.check) continue;
      const path = kind === 'fusion' ? ['fusion'] : [KIND_SECTIONS[kind], key];
      def.check({ ...ctx, key, params: entry, path, componentOf });
    }
  },
});
