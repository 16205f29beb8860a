// Rule torch-shuffle: train.shuffle_rng 'torch' continues the init_rng 'torch' stream, and gives MMSA's loader orders
// only while every pass draws as MMSA's (shuffled valid/test) and nothing else draws from torch's stream in between
// (its dropout does when p > 0). Phase 4 (check).

import { componentEntries } from '../../../components/component.js';
import { defineRule } from '../rule.js';
import { declaredHere } from '../spec-graph.js';

/** Paths (below a component entry) of every `*dropout*` key whose value is a number above 0. */
function findDropouts(value: unknown, path: string[]): string[][] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
    if (/dropout/i.test(k) && typeof v === 'number' && v > 0) return [[...path, k]];
    return findDropouts(v, [...path, k]);
  });
}

export default defineRule({
  id: 'torch-shuffle',
  description: "train.shuffle_rng 'torch' needs init_rng 'torch'; with dropout on, only the first epoch's order is MMSA's",
  check(ctx) {
    const t = ctx.spec.train;
    if (t?.shuffle_rng !== 'torch') return;
    const at = ctx.spanOf(['train', 'shuffle_rng']);
    if (t.init_rng !== 'torch') {
      ctx.report('MSA3053', at, {});
      return;
    }
    if (t.shuffle_eval === false) ctx.report('MSA3055', ctx.spanOf(['train', 'shuffle_eval']), {});
    const drops = componentEntries(ctx.spec).flatMap(({ path, entry }) => findDropouts(entry, path));
    if (drops.length > 0) {
      ctx.report('MSA3054', at, { keys: drops.map((p) => p.join('.')).join(', ') }, {
        related: drops.slice(0, 4).map((p) => declaredHere(ctx, p, `${p.join('.')} is set here`)),
      });
    }
  },
});
