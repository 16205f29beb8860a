// lowerOptimizer: Adam/AdamW over the IR's parameter groups: each group's decayed params, its no-decay params as a
// second group with weight decay 0, frozen groups kept (trainable: false) so they are never stepped. Phase 6 (lower).

import type { Ir } from '../../compiler/ir/types.js';
import { MmsaError } from '../../errors.js';
import type { ParamEntry, ParamStore } from '../nn/params.js';
import { Adam, type AdamGroupSpec } from '../train/optim/adam.js';

export function lowerOptimizer(ir: Ir, store: ParamStore): Adam {
  const used = new Set<string>();
  const take = (group: string, keys: readonly string[]): ParamEntry[] =>
    keys.map((k) => {
      const e = store.entry(k);
      if (!e) throw new MmsaError('MSA5002', `internal: optimizer group '${group}' lists '${k}', which the model does not have`);
      if (e.buffer) throw new MmsaError('MSA5002', `internal: optimizer group '${group}' lists the buffer '${k}'`);
      if (used.has(k)) throw new MmsaError('MSA5002', `internal: '${k}' is in more than one optimizer group`);
      used.add(k);
      return e;
    });
  const specs: AdamGroupSpec[] = [];
  for (const g of ir.groups) {
    const decay = take(g.name, g.params);
    const noDecay = take(g.name, g.noDecayParams);
    if (!g.trainable) {
      // Frozen (LMF's fusion weights): not in any gradient computation either, so mark the variables themselves.
      for (const e of [...decay, ...noDecay]) {
        e.trainable = false;
        e.variable.trainable = false;
      }
    }
    const base = { lr: g.lr, trainable: g.trainable };
    // Variables created frozen (BERT with finetune: false) never get gradients: like torch parameters whose .grad is
    // None, they are left out of the update (they stay counted as owned by their group above).
    const live = (es: ParamEntry[]) => (g.trainable ? es.filter((e) => e.variable.trainable) : es);
    const d = live(decay);
    const nd = live(noDecay);
    if (d.length > 0 || nd.length === 0) specs.push({ ...base, name: g.name, params: d, weightDecay: g.weightDecay });
    if (nd.length > 0) specs.push({ ...base, name: `${g.name}_no_decay`, params: nd, weightDecay: 0 });
  }
  const missing = store.entries().filter((e) => !e.buffer && !used.has(e.key));
  if (missing.length > 0) {
    throw new MmsaError('MSA5002', `internal: parameters in no optimizer group: ${missing.slice(0, 5).map((e) => e.key).join(', ')}${missing.length > 5 ? ', ...' : ''}`, {
      hint: "add a catch-all group (`params: ['*']`) to train.optimizer.groups",
    });
  }
  const o = ir.schedule.optimizer;
  return new Adam(specs, { mode: o.type, betas: o.betas, eps: o.eps });
}
