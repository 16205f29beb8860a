// Rule train-stages: training stages name declared optimizer groups and tasks, each in at most one stage, every
// trainable group and every task in some stage, at most one stage taking "the rest" of either, unique stage names;
// with stages, schedulers belong to the stages (not train.scheduler). Phase 4 (check).

import { suggestionHint } from '../../../core/did-you-mean.js';
import type { SpecPath } from '../../spec/spec-tree.js';
import { defineRule, type RuleContext } from '../rule.js';
import { isWritten, tasks } from '../spec-graph.js';

type Part = 'groups' | 'tasks';

const WHAT: Record<Part, { what: string; never: string }> = {
  groups: { what: 'optimizer group', never: 'updated' },
  tasks: { what: 'task', never: 'trained' },
};

function checkPart(ctx: RuleContext, part: Part, declared: string[], skip: Set<string>): void {
  const stages = ctx.spec.train.stages;
  const owner = new Map<string, number>();
  const rest: number[] = [];
  stages.forEach((st, si) => {
    const names = st[part];
    if (names === undefined) {
      rest.push(si);
      return;
    }
    names.forEach((name, i) => {
      const path: SpecPath = ['train', 'stages', si, part, i];
      if (!declared.includes(name)) {
        const hint = suggestionHint(name, declared, `${WHAT[part].what}s declared`);
        ctx.report('MSA3001', ctx.spanOf(path), { what: WHAT[part].what, name }, hint ? { hint } : {});
        return;
      }
      const first = owner.get(name);
      if (first !== undefined) {
        ctx.report('MSA3039', ctx.spanOf(path), { what: WHAT[part].what, name, a: stages[first]!.name, b: st.name }, {
          related: [{ span: ctx.spanOf(['train', 'stages', first, part]), message: `stage '${stages[first]!.name}' lists it here` }],
        });
        return;
      }
      owner.set(name, si);
    });
  });
  if (rest.length > 1) {
    ctx.report('MSA3041', ctx.spanOf(['train', 'stages', rest[1]!], { key: true }), { part, a: stages[rest[0]!]!.name, b: stages[rest[1]!]!.name });
  }
  if (rest.length > 0) return;
  for (const name of declared) {
    if (owner.has(name) || skip.has(name)) continue;
    ctx.report('MSA3040', ctx.spanOf(['train', 'stages'], { key: true }), { what: WHAT[part].what, name, never: WHAT[part].never }, {
      hint: `add '${name}' to a stage's \`${part}\`, or leave \`${part}\` out of one stage so it takes the rest`,
    });
  }
}

/** train.reinit names declared optimizer groups (it shares this rule: both name groups of train.optimizer). */
function checkReinit(ctx: RuleContext): void {
  const reinit = ctx.spec.train?.reinit;
  if (!reinit) return;
  const groups = ctx.spec.train.optimizer.groups;
  const declared = groups.length > 0 ? groups.map((g) => g.name) : ['all'];
  reinit.groups.forEach((name, i) => {
    if (declared.includes(name)) return;
    const hint = suggestionHint(name, declared, 'optimizer groups declared');
    ctx.report('MSA3001', ctx.spanOf(['train', 'reinit', 'groups', i]), { what: 'optimizer group', name }, hint ? { hint } : {});
  });
}

export default defineRule({
  id: 'train-stages',
  description: 'stages name declared groups and tasks, each once, covering all; schedulers belong to stages',
  check(ctx) {
    const train = ctx.spec.train;
    checkReinit(ctx);
    const stages = train?.stages;
    if (!Array.isArray(stages) || stages.length === 0) return;
    const seen = new Map<string, number>();
    stages.forEach((st, si) => {
      const first = seen.get(st.name);
      if (first !== undefined) {
        ctx.report('MSA3043', ctx.spanOf(['train', 'stages', si, 'name']), { name: st.name }, {
          related: [{ span: ctx.spanOf(['train', 'stages', first, 'name']), message: 'first used here' }],
        });
      } else {
        seen.set(st.name, si);
      }
    });
    const groups = train.optimizer.groups;
    const groupNames = groups.length > 0 ? groups.map((g) => g.name) : ['all'];
    // A frozen group is never updated anyway: no stage needs to name it.
    const frozen = new Set(groups.filter((g) => g.trainable === false).map((g) => g.name));
    checkPart(ctx, 'groups', groupNames, frozen);
    checkPart(ctx, 'tasks', tasks(ctx.spec).map(([k]) => k), new Set());
    if (train.scheduler && isWritten(ctx, ['train', 'scheduler'])) {
      ctx.report('MSA3042', ctx.spanOf(['train', 'scheduler'], { key: true }), {}, {
        related: [{ span: ctx.spanOf(['train', 'stages'], { key: true }), message: 'the stages are declared here' }],
      });
    }
  },
});
