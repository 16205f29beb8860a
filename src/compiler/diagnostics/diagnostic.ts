// Diagnostic: the data every phase reports user mistakes as, plus a small collector.
// Shared by phases 0-6; messages come from the catalog in messages.ts.

import type { Span } from '../source/source-file.js';
import { MESSAGES, type MessageCode } from '../../core/messages.js';

export type Severity = 'error' | 'warning' | 'info';

export interface RelatedInfo {
  span: Span;
  message: string;
}

export interface Diagnostic {
  code: MessageCode;
  severity: Severity;
  message: string;
  /** Absent only for problems without a place (e.g. a file that cannot be read is reported with a 0-length span). */
  span: Span;
  hint?: string;
  related?: RelatedInfo[];
}

export interface DiagnosticExtras {
  hint?: string;
  related?: RelatedInfo[];
  severity?: Severity;
}

/** Fills a catalog template: `{name}` is replaced by args.name. */
export function renderMessage(template: string, args: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => {
    const v = args[k];
    if (v === undefined) return `{${k}}`;
    if (Array.isArray(v)) return v.map(String).join(', ');
    return String(v);
  });
}

export function makeDiagnostic(code: MessageCode, span: Span, args: Record<string, unknown> = {}, extras: DiagnosticExtras = {}): Diagnostic {
  const entry = MESSAGES[code];
  const d: Diagnostic = {
    code,
    severity: extras.severity ?? entry.severity,
    message: renderMessage(entry.message, args),
    span,
  };
  const hint = extras.hint ?? (entry.hint ? renderMessage(entry.hint, args) : undefined);
  if (hint) d.hint = hint;
  if (extras.related && extras.related.length > 0) d.related = extras.related;
  return d;
}

/** Collects diagnostics of one phase; phases keep going after a mistake and stop at phase boundaries. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  add(code: MessageCode, span: Span, args: Record<string, unknown> = {}, extras: DiagnosticExtras = {}): Diagnostic {
    const d = makeDiagnostic(code, span, args, extras);
    this.items.push(d);
    return d;
  }

  push(...ds: Diagnostic[]): void {
    this.items.push(...ds);
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}

/** Stable order: file, start offset, end offset, code, message. Duplicates (same code+span+message) are dropped. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of ds) {
    const key = `${d.span.file}\0${d.span.start}\0${d.span.end}\0${d.code}\0${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out.sort(
    (a, b) =>
      (a.span.file < b.span.file ? -1 : a.span.file > b.span.file ? 1 : 0) ||
      a.span.start - b.span.start ||
      a.span.end - b.span.end ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}
