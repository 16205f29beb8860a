// defineComponent: one catalog entry per encoder/fusion/head/task type, tying its JSON Schema, shape rule,
// parameter declarations, plan summary and (lazily loaded) tfjs lowering together. Used by phases 2, 4, 5 and 6.

import type { MessageCode } from '../compiler/diagnostics/messages.js';
import type { DiagnosticExtras } from '../compiler/diagnostics/diagnostic.js';
import type { Span } from '../compiler/source/source-file.js';
import type { ParamDecl, ScheduleHook, TensorType } from '../compiler/ir/types.js';

export type ComponentKind = 'encoder' | 'fusion' | 'head' | 'task';

export interface ShapeInput {
  /** Node id of the input (`encoders.text`, `modalities.audio`, `fusion`). */
  id: string;
  /** The name the spec used for it. */
  name: string;
  type: TensorType;
  /** Span of the reference in the spec (the input's list item / `input:` value). */
  span: Span;
}

export interface ShapeContext<P> {
  /** Node id being inferred (`encoders.audio`). */
  node: string;
  params: P;
  inputs: ShapeInput[];
  /** Span of a param of this component (falls back to the component's span). */
  spanOf(param: string, opts?: { key?: boolean }): Span;
  /** Whole component span. */
  span: Span;
  report(code: MessageCode, span: Span, args?: Record<string, unknown>, extras?: DiagnosticExtras): void;
}

export interface ShapeResult {
  output: TensorType;
  params: ParamDecl[];
  features?: Record<string, TensorType>;
}

export interface TaskContext<P> {
  name: string;
  params: P;
  span: Span;
}

export interface ComponentDef<P = any> {
  kind: ComponentKind;
  type: string;
  /** Schema file under schemas/, e.g. `components/encoders/lstm.schema.json`. */
  schema: string;
  /** One sentence for docs and `mmsa schema`. */
  doc: string;
  /** Fusions: how many inputs are allowed. */
  arity?: { min: number; max: number };
  /** What input kinds the component accepts (encoders/fusions/heads). */
  accepts?: TensorType['kind'][];
  /** Needs all sequence inputs aligned to each other (early fusion; tensor fusion over sequences). */
  needsAligned?: boolean;
  /** One-line description for `mmsa plan`: `lstm(hidden 16, packed) -> linear 16`. */
  summary(params: P): string;
  /**
   * Parameter names (local to the node) without needing shapes, so rules can check group coverage before phase 5.
   * Must agree with the names `infer` declares (a test checks).
   */
  paramNames?(params: P): string[];
  /** Shape rule: output type and parameter shapes from the input types; reports problems through ctx.report. */
  infer?(ctx: ShapeContext<P>): ShapeResult | undefined;
  /** Tasks: the heads and labels a task reads. */
  taskHeads?(params: P, name: string): string[];
  taskTargets?(params: P): string[];
  /** Tasks: hooks the schedule runs (ULGM: init pass, per-step updates). */
  hooks?(params: P): ScheduleHook[];
  /** Lazy tfjs lowering (phase 6), filled in by the catalog; never imported by the compiler front end. */
  lower?: () => Promise<unknown>;
}

export function defineComponent<P>(def: ComponentDef<P>): ComponentDef<P> {
  return def;
}
