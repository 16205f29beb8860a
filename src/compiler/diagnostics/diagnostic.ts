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
  /** On an MSA1009 summary: the diagnostics it stands for. */
  omitted?: { count: number; errors: number; warnings: number };
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
    this.pushAll(ds);
  }

  /** Adds every diagnostic of a list (no argument spread: a broken file can produce hundreds of thousands). */
  pushAll(ds: readonly Diagnostic[]): void {
    for (const d of ds) this.items.push(d);
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

/** Diagnostics shown per file; the rest are summarised by one MSA1009 ("and N more"). */
export const MAX_DIAGNOSTICS_PER_FILE = 100;

/**
 * Keeps the first `max` diagnostics of each file (in the given order, normally sorted by position) and replaces the
 * rest of that file's by one MSA1009 at the first left out, saying how many errors and warnings it stands for.
 */
export function capDiagnostics(ds: readonly Diagnostic[], max = MAX_DIAGNOSTICS_PER_FILE): Diagnostic[] {
  const shown = new Map<string, number>();
  const omitted = new Map<string, { first: Diagnostic; count: number; errors: number; warnings: number }>();
  const out: Diagnostic[] = [];
  const omit = (file: string, d: Diagnostic, count: number, errors: number, warnings: number) => {
    const o = omitted.get(file) ?? { first: d, count: 0, errors: 0, warnings: 0 };
    o.count += count;
    o.errors += errors;
    o.warnings += warnings;
    omitted.set(file, o);
  };
  for (const d of ds) {
    const file = d.span.file;
    // A summary from an earlier cap (the parser caps its own output) adds to this file's count.
    if (d.omitted !== undefined) {
      omit(file, d, d.omitted.count, d.omitted.errors, d.omitted.warnings);
      continue;
    }
    const n = shown.get(file) ?? 0;
    if (n < max) {
      shown.set(file, n + 1);
      out.push(d);
      continue;
    }
    omit(file, d, 1, d.severity === 'error' ? 1 : 0, d.severity === 'warning' ? 1 : 0);
  }
  for (const o of omitted.values()) {
    const severity: Severity = o.errors > 0 ? 'error' : o.warnings > 0 ? 'warning' : 'info';
    const summary = makeDiagnostic('MSA1009', o.first.span, { count: o.count, errors: o.errors, warnings: o.warnings }, { severity });
    summary.omitted = { count: o.count, errors: o.errors, warnings: o.warnings };
    out.push(summary);
  }
  return omitted.size > 0 ? sortDiagnostics(out) : out;
}
