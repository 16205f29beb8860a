// Rule: one semantic invariant over the normalized spec, in a file of its own under check/rules/.
// Phase 4 (check): every rule runs, each reports diagnostics, none throws on user input.

import type { DiagnosticExtras } from '../diagnostics/diagnostic.js';
import type { MessageCode } from '../../core/messages.js';
import type { Span } from '../source/source-file.js';
import type { SpecNode, SpecPath } from '../spec/spec-tree.js';
import type { PipelineSpec } from '../spec/types.generated.js';
import type { ResolvedDataset } from '../ir/types.js';

export interface RuleContext {
  /** The normalized spec (defaults filled, extends merged, interpolation done). */
  spec: PipelineSpec;
  /** The merged spanned tree the spec was read from; spans point into the file each value came from. */
  tree: SpecNode;
  /** The resolved dataset, or undefined when it could not be resolved (already reported). */
  dataset: ResolvedDataset | undefined;
  /** Span of the value at a path of the spec (`['heads', 'M', 'input']`); `key: true` for the key's span. */
  spanOf(path: SpecPath, opts?: { key?: boolean }): Span;
  report(code: MessageCode, span: Span, args?: Record<string, unknown>, extras?: DiagnosticExtras): void;
}

export interface Rule {
  /** kebab-case id, equal to the file name. */
  id: string;
  description: string;
  check(ctx: RuleContext): void;
}

export function defineRule(rule: Rule): Rule {
  return rule;
}
