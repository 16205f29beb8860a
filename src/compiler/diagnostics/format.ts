// Renders diagnostics as `file:line:col - error MSAnnnn: message` with a code frame, or as JSON data.
// Used by every command that reports compiler diagnostics.

import { codeFrameColumns } from '@babel/code-frame';
import { relative } from 'node:path';
import type { SourceHost } from '../source/source-file.js';
import type { Diagnostic } from './diagnostic.js';

export interface FormatOptions {
  /** Paths are printed relative to this directory (default: as given). */
  cwd?: string;
  color?: boolean;
}

export interface JsonRelated {
  message: string;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface JsonDiagnostic extends JsonRelated {
  code: string;
  severity: string;
  hint: string | null;
  related: JsonRelated[];
}

function displayPath(path: string, opts: FormatOptions): string {
  if (!opts.cwd) return path;
  const rel = relative(opts.cwd, path);
  return rel.startsWith('..') ? path : rel;
}

function locate(host: SourceHost, file: string, start: number, end: number) {
  const src = host.get(file);
  if (!src) return { line: 1, column: 1, endLine: 1, endColumn: 1 };
  const s = src.positionAt(start);
  const e = src.positionAt(Math.max(start, end));
  return { line: s.line, column: s.column, endLine: e.line, endColumn: e.column };
}

export function toJsonDiagnostics(ds: readonly Diagnostic[], host: SourceHost, opts: FormatOptions = {}): JsonDiagnostic[] {
  return ds.map((d) => ({
    code: d.code,
    severity: d.severity,
    message: d.message,
    file: displayPath(d.span.file, opts),
    ...locate(host, d.span.file, d.span.start, d.span.end),
    hint: d.hint ?? null,
    related: (d.related ?? []).map((r) => ({
      message: r.message,
      file: displayPath(r.span.file, opts),
      ...locate(host, r.span.file, r.span.start, r.span.end),
    })),
  }));
}

const RED = '\u001b[31m';
const YELLOW = '\u001b[33m';
const CYAN = '\u001b[36m';
const BOLD = '\u001b[1m';
const RESET = '\u001b[0m';

/** One diagnostic with its code frame, related notes and hint. */
export function formatDiagnostic(d: Diagnostic, host: SourceHost, opts: FormatOptions = {}): string {
  const color = opts.color ?? false;
  const paint = (c: string, s: string) => (color ? `${c}${s}${RESET}` : s);
  const loc = locate(host, d.span.file, d.span.start, d.span.end);
  const sevColor = d.severity === 'error' ? RED : d.severity === 'warning' ? YELLOW : CYAN;
  const lines = [
    `${paint(CYAN, displayPath(d.span.file, opts))}:${loc.line}:${loc.column} - ${paint(sevColor, d.severity)} ${paint(BOLD, d.code)}: ${d.message}`,
  ];
  const src = host.get(d.span.file);
  if (src && src.text.length > 0) {
    // A zero-width span still gets one caret; multi-line spans are cut at the end of the first line.
    let endLine = loc.endLine;
    let endColumn = loc.endColumn;
    if (endLine !== loc.line) {
      endLine = loc.line;
      endColumn = src.lineText(loc.line).length + 1;
    }
    if (endColumn <= loc.column) endColumn = loc.column + 1;
    const frame = codeFrameColumns(
      src.text,
      { start: { line: loc.line, column: loc.column }, end: { line: endLine, column: endColumn } },
      { highlightCode: false, linesAbove: 0, linesBelow: 0, forceColor: false },
    );
    lines.push(...frame.split('\n').map((l) => `  ${l.replace(/^>/, ' ')}`));
  }
  for (const r of d.related ?? []) {
    const rl = locate(host, r.span.file, r.span.start, r.span.end);
    lines.push(`  note: ${r.message} (${displayPath(r.span.file, opts)}:${rl.line}:${rl.column})`);
  }
  if (d.hint) lines.push(`  help: ${d.hint}`);
  return lines.join('\n');
}

export function formatDiagnostics(ds: readonly Diagnostic[], host: SourceHost, opts: FormatOptions = {}): string {
  if (ds.length === 0) return '';
  const errors = ds.filter((d) => d.severity === 'error').length;
  const warnings = ds.filter((d) => d.severity === 'warning').length;
  const summary = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  return `${ds.map((d) => formatDiagnostic(d, host, opts)).join('\n\n')}\n\n${summary}\n`;
}
