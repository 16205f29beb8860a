// Rule head-task-kinds: each task's loss fits what the heads it reads predict (the task says what it needs, the head
// what it predicts), and every head is trained by some task. Phase 4 (check).

import type { SpecPath } from '../../spec/spec-tree.js';
import { componentOf } from '../../../components/catalog.js';
import { defineRule, type RuleContext } from '../rule.js';
import { declaredHere, getHead, heads, resolveRef, taskHeadRefs, tasks } from '../spec-graph.js';

function checkKind(ctx: RuleContext, key: string, type: string, needed: string | undefined, head: string, path: SpecPath): void {
  const def = getHead(ctx.spec, head);
  const predicts = def ? componentOf('head', def)?.predicts : undefined;
  if (!needed || !def || !predicts || predicts === needed) return;
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
      const needed = componentOf('task', task)?.needsHead;
      for (const { head, path } of taskHeadRefs(key, task)) {
        trained.add(head);
        checkKind(ctx, key, task.type, needed, head, path);
      }
      // A head a task reads by reference (`inputs: [heads.M]`) is trained through it too.
      for (const r of componentOf('task', task)?.inputRefs?.(task) ?? []) {
        const ref = resolveRef(ctx.spec, r.name);
        if (ref?.kind === 'head') trained.add(ref.name);
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
