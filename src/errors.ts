// MmsaError: the one exception type for user-facing runtime/data failures (bad files, bad shapes, missing data).
// Used by phases 6-8 and the data layer; compiler phases report Diagnostics instead of throwing.

import type { ErrorCode } from './core/messages.js';

export class MmsaError extends Error {
  /** Stable code from the catalog (core/messages.ts), `MSA6xxx` for runtime/data problems. */
  readonly code: ErrorCode;
  /** Optional fix hint shown after the message. */
  readonly hint: string | undefined;
  /** Free-form structured details (file, offset, key path, ...), for --format json and tests. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'MmsaError';
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details ?? {};
  }

  /** One-line-plus-hint rendering used by the CLI. */
  format(): string {
    return `error ${this.code}: ${this.message}${this.hint ? `\n  help: ${this.hint}` : ''}`;
  }
}
