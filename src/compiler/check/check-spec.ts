// checkSpec: runs every semantic rule over a normalized spec and returns what they reported (also forwarding each
// diagnostic to the caller's `report`, when given). Phase 4 (check): rules never throw on user input, so nothing is caught.

import { makeDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';
import { spanAt } from '../spec/spec-tree.js';
import type { Rule, RuleContext } from './rule.js';
import { ALL_RULES } from './rules/index.js';

export type CheckInput = Omit<RuleContext, 'spanOf' | 'report'> & Partial<Pick<RuleContext, 'spanOf' | 'report'>>;

export function checkSpec(ctxBase: CheckInput, rules: readonly Rule[] = ALL_RULES): Diagnostic[] {
  const out: Diagnostic[] = [];
  const forward = ctxBase.report;
  const ctx: RuleContext = {
    spec: ctxBase.spec,
    tree: ctxBase.tree,
    dataset: ctxBase.dataset,
    spanOf: ctxBase.spanOf ?? ((path, opts) => spanAt(ctxBase.tree, path, opts)),
    report: (code, span, args, extras) => {
      out.push(makeDiagnostic(code, span, args, extras));
      forward?.(code, span, args, extras);
    },
  };
  for (const rule of rules) rule.check(ctx);
  return out;
}
