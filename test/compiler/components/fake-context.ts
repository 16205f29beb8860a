// Test helper: a tiny ShapeContext that records reports, with a distinct span per param and per input.
import type { ComponentDef, ShapeContext, ShapeInput, ShapeResult } from '../../../src/components/component.js';
import type { DiagnosticExtras } from '../../../src/compiler/diagnostics/diagnostic.js';
import type { MessageCode } from '../../../src/core/messages.js';
import type { TensorType } from '../../../src/compiler/ir/types.js';
import type { Span } from '../../../src/compiler/source/source-file.js';

export const FILE = 'spec.yaml';

export interface Recorded {
  code: MessageCode;
  span: Span;
  args: Record<string, unknown>;
  extras: DiagnosticExtras | undefined;
}

/** Each param gets its own span so tests can tell which place a report points at. */
export function paramSpan(param: string): Span {
  let h = 0;
  for (const c of param) h = (h * 31 + c.charCodeAt(0)) % 10_000;
  return { file: FILE, start: 1000 + h, end: 1000 + h + param.length };
}

export const COMPONENT_SPAN: Span = { file: FILE, start: 0, end: 500 };

export function inputSpan(i: number): Span {
  return { file: FILE, start: 600 + i * 10, end: 605 + i * 10 };
}

export function seq(T: number, D: number, extra: Partial<TensorType> = {}): TensorType {
  return { kind: 'sequence', shape: ['B', T, D], dtype: 'float32', aligned: false, ...extra };
}

export function vec(D: number): TensorType {
  return { kind: 'vector', shape: ['B', D], dtype: 'float32' };
}

export function tokens(L: number): TensorType {
  return { kind: 'tokens', shape: ['B', 3, L], dtype: 'int32' };
}

export interface FakeRun {
  result: ShapeResult | undefined;
  reports: Recorded[];
  inputs: ShapeInput[];
}

export function runInfer<P>(def: ComponentDef<P>, params: P, inputs: Array<[string, TensorType]>, node = 'node'): FakeRun {
  const reports: Recorded[] = [];
  const shapeInputs: ShapeInput[] = inputs.map(([name, type], i) => ({ id: `x.${name}`, name, type, span: inputSpan(i) }));
  const ctx: ShapeContext<P> = {
    node,
    params,
    inputs: shapeInputs,
    span: COMPONENT_SPAN,
    spanOf: (param) => paramSpan(param),
    report: (code, span, args = {}, extras) => {
      reports.push({ code, span, args, extras });
    },
  };
  if (!def.infer) throw new Error(`${def.kind} '${def.type}' has no shape rule`);
  return { result: def.infer(ctx), reports, inputs: shapeInputs };
}
