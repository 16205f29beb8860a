// Renders diagnostics as `file:line:col - error MSAnnnn: message` with a code frame, or as JSON data.
// Used by every command that reports compiler diagnostics.

import { codeFrameColumns } from '@babel/code-frame';
import { relative } from 'node:path';
import { escapeUnprintable } from '../../errors.js';
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

/** Longest source line a code frame shows whole; longer lines are cut to a window around the span. */
const MAX_FRAME_LINE = 160;

// Source text and messages may hold terminal control characters: they are shown escaped, never sent raw.
function escapeControls(s: string): string {
  return escapeUnprintable(s, true);
}

/** One line of source for a code frame, cut around columns [from, to) when long; returns the text and the new columns. */
function frameLine(line: string, from: number, to: number): { text: string; from: number; to: number } {
  if (line.length <= MAX_FRAME_LINE) return { text: escapeControls(line), from, to };
  const start = Math.max(0, Math.min(from - 1 - 40, line.length - MAX_FRAME_LINE));
  const end = Math.min(line.length, start + MAX_FRAME_LINE);
  const pre = start > 0 ? '...' : '';
  const text = `${pre}${escapeControls(line.slice(start, end))}${end < line.length ? '...' : ''}`;
  const shift = pre.length - start;
  return { text, from: Math.max(1, from + shift), to: Math.min(text.length + 1, Math.max(from + shift + 1, to + shift)) };
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
    `${paint(CYAN, displayPath(d.span.file, opts))}:${loc.line}:${loc.column} - ${paint(sevColor, d.severity)} ${paint(BOLD, d.code)}: ${escapeControls(d.message)}`,
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
    // The frame shows one line: give the frame just that line (cut and escaped), so huge or hostile lines stay short.
    const cut = frameLine(src.lineText(loc.line), loc.column, endColumn);
    const frame = codeFrameColumns(
      `${'\n'.repeat(loc.line - 1)}${cut.text}`,
      { start: { line: loc.line, column: cut.from }, end: { line: loc.line, column: cut.to } },
      { highlightCode: false, linesAbove: 0, linesBelow: 0, forceColor: false },
    );
    lines.push(...frame.split('\n').map((l) => `  ${l.replace(/^>/, ' ')}`));
  }
  for (const r of d.related ?? []) {
    const rl = locate(host, r.span.file, r.span.start, r.span.end);
    lines.push(`  note: ${escapeControls(r.message)} (${displayPath(r.span.file, opts)}:${rl.line}:${rl.column})`);
  }
  if (d.hint) lines.push(`  help: ${escapeControls(d.hint)}`);
  return lines.join('\n');
}

export function formatDiagnostics(ds: readonly Diagnostic[], host: SourceHost, opts: FormatOptions = {}): string {
  if (ds.length === 0) return '';
  // A summary of diagnostics left out (MSA1009) counts what it stands for.
  const errors = ds.reduce((n, d) => n + (d.omitted ? d.omitted.errors : d.severity === 'error' ? 1 : 0), 0);
  const warnings = ds.reduce((n, d) => n + (d.omitted ? d.omitted.warnings : d.severity === 'warning' ? 1 : 0), 0);
  const summary = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  return `${ds.map((d) => formatDiagnostic(d, host, opts)).join('\n\n')}\n\n${summary}\n`;
}
