// MmsaError: the one exception type for user-facing runtime/data failures (bad files, bad shapes, missing data),
// and `printable`, which makes text taken from a file safe and short enough to show. Phases 6-8 and the data layer.

import type { ErrorCode } from './core/messages.js';

/** Longest message an MmsaError keeps (a listing of 40 problems fits); the rest is elided with a count. */
export const MAX_MESSAGE_CHARS = 8000;

// C0 controls (ESC starts terminal escape sequences), DEL, C1 controls and the bidirectional overrides that can
// reorder what a terminal shows.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const UNPRINTABLE_KEEP_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/** Escapes control characters and bidi overrides (`\x1b`, `\u202e`); with `keepLines`, line breaks and tabs stay. */
export function escapeUnprintable(s: string, keepLines = false): string {
  return s.replace(keepLines ? UNPRINTABLE_KEEP_LINES : UNPRINTABLE, escapeChar);
}

/** Shortens text to `max` characters, saying how much was left out. */
export function elide(s: string, max: number): string {
  if (s.length <= max) return s;
  // The count has at most as many digits as the length: the result never exceeds `max`.
  const keep = Math.max(0, max - '... ( more characters)'.length - String(s.length).length);
  return `${s.slice(0, keep)}... (${s.length - keep} more characters)`;
}

/**
 * Text from a file (a key, a name, a value) as it may appear in a message: control characters and bidi overrides
 * escaped (`\x1b`), at most `max` characters.
 */
export function printable(s: string, max = 200): string {
  const esc = (s.length > max ? s.slice(0, max) : s).replace(UNPRINTABLE, escapeChar);
  const shown = esc.length > max ? esc.slice(0, max) : esc;
  return shown.length < esc.length || s.length > max ? `${shown}... (${s.length} characters)` : shown;
}

/** A whole message: line breaks and tabs stay, other control characters are escaped, the length is capped. */
export function printableMessage(s: string, max = MAX_MESSAGE_CHARS): string {
  return elide(s.length > 4 * max ? s.slice(0, 4 * max) : s, max).replace(UNPRINTABLE_KEEP_LINES, escapeChar);
}

export class MmsaError extends Error {
  /** Stable code from the catalog (core/messages.ts), `MSA6xxx` for runtime/data problems. */
  readonly code: ErrorCode;
  /** Optional fix hint shown after the message. */
  readonly hint: string | undefined;
  /** Free-form structured details (file, offset, key path, ...), for --format json and tests. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    // Messages embed names and values from user files: whatever they hold, what reaches a terminal is printable.
    super(printableMessage(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'MmsaError';
    this.code = code;
    this.hint = opts.hint === undefined ? undefined : printableMessage(opts.hint);
    this.details = opts.details ?? {};
  }

  /** One-line-plus-hint rendering used by the CLI. */
  format(): string {
    return `error ${this.code}: ${this.message}${this.hint ? `\n  help: ${this.hint}` : ''}`;
  }
}
