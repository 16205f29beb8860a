// Rule head-task-kinds: each task's loss fits the kind of the heads it reads (l1/mse/ulgm: regression;
// cross_entropy: classification), and every head is trained by some task. Phase 4 (check).

import type { SpecPath } from '../../spec/spec-tree.js';
import type { Head } from '../../spec/types.generated.js';
import { defineRule, type RuleContext } from '../rule.js';
import { declaredHere, entriesOf, getHead, heads, tasks } from '../spec-graph.js';

const NEEDS: Record<string, Head['type']> = { l1: 'regression', mse: 'regression', ulgm: 'regression', cross_entropy: 'classification' };

/** Head references of a task, each with the spec path that names it. */
function taskHeadRefs(key: string, task: { type: string } & Record<string, unknown>): { head: string; path: SpecPath }[] {
  const out: { head: string; path: SpecPath }[] = [];
  if (task.type === 'ulgm') {
    if (typeof task.fusion_head === 'string') out.push({ head: task.fusion_head, path: ['tasks', key, 'fusion_head'] });
    for (const [m, h] of entriesOf(task.heads as Record<string, unknown> | undefined)) {
      if (typeof h === 'string') out.push({ head: h, path: ['tasks', key, 'heads', m] });
    }
  } else if (typeof task.head === 'string') {
    out.push({ head: task.head, path: ['tasks', key, 'head'] });
  }
  return out;
}

function checkKind(ctx: RuleContext, key: string, type: string, head: string, path: SpecPath): void {
  const needed = NEEDS[type];
  const def = getHead(ctx.spec, head);
  if (!needed || !def || def.type === needed) return;
  ctx.report('MSA3020', ctx.spanOf(path), { task: key, type, needed, head, actual: `a ${def.type} head` }, {
    related: [{ span: ctx.spanOf(['heads', head, 'type']), message: `head '${head}' is declared as ${def.type} here` }],
  });
}

export default defineRule({
  id: 'head-task-kinds',
  description: 'tasks read heads of the kind their loss needs; every head has a task',
  check(ctx) {
    const trained = new Set<string>();
    for (const [key, task] of tasks(ctx.spec)) {
      if (!task || typeof task.type !== 'string') continue;
      for (const { head, path } of taskHeadRefs(key, task as unknown as { type: string } & Record<string, unknown>)) {
        trained.add(head);
        checkKind(ctx, key, task.type, head, path);
      }
    }
    for (const [name] of heads(ctx.spec)) {
      if (trained.has(name)) continue;
      ctx.report('MSA3017', ctx.spanOf(['heads', name], { key: true }), { name }, {
        hint: `add a task that trains it (e.g. \`tasks.${name}: {type: l1, head: ${name}}\`), or remove the head`,
        related: [declaredHere(ctx, ['tasks'], 'tasks are declared here')],
      });
    }
  },
});
