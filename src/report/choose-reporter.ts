// Which reporter `mmsa run` / `mmsa watch` use: the Ink TUI only on an interactive terminal (stdout a TTY, no CI,
// TERM not dumb), plain lines otherwise, NDJSON on request; colour off under NO_COLOR or TERM=dumb. Phase 8 (report).

import type { RunEvent } from '../runtime/events.js';
import { createNdjsonReporter } from './ndjson-reporter.js';
import { createPlainReporter, type Reporter } from './plain-reporter.js';

export const REPORTERS = ['auto', 'tui', 'plain', 'ndjson'] as const;
export type ReporterChoice = (typeof REPORTERS)[number];
export type ReporterName = Exclude<ReporterChoice, 'auto'>;

export interface TerminalFacts {
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/** `CI` / `CONTINUOUS_INTEGRATION` set to anything but an explicit false (the convention of is-in-ci). */
export function inCi(env: NodeJS.ProcessEnv): boolean {
  for (const k of ['CI', 'CONTINUOUS_INTEGRATION']) {
    const v = env[k];
    if (v !== undefined && v !== '0' && v.toLowerCase() !== 'false') return true;
  }
  return false;
}

export function isInteractive(t: TerminalFacts): boolean {
  return t.isTTY && !inCi(t.env) && t.env['TERM'] !== 'dumb';
}

/** https://no-color.org: any non-empty NO_COLOR turns colour off; so does a dumb terminal or a non-TTY. */
export function colorEnabled(t: TerminalFacts): boolean {
  const nc = t.env['NO_COLOR'];
  if (nc !== undefined && nc !== '') return false;
  return isInteractive(t);
}

/** `auto` (or nothing) picks the TUI on an interactive terminal and plain lines anywhere else. */
export function chooseReporter(requested: ReporterChoice | undefined, t: TerminalFacts): ReporterName {
  if (requested === 'plain' || requested === 'ndjson') return requested;
  // An explicit --reporter tui on a pipe would fill logs with cursor movements: plain is the honest fallback.
  return isInteractive(t) ? 'tui' : 'plain';
}

export interface ReporterSinks {
  out: (s: string) => void;
  err: (s: string) => void;
  /** The real terminal stream for the TUI (Ink writes and measures it directly). */
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

/** Builds the reporter; the TUI module (and with it React/Ink) is loaded only when it is used. */
export async function createReporter(name: ReporterName, sinks: ReporterSinks, t: TerminalFacts): Promise<Reporter> {
  if (name === 'ndjson') return createNdjsonReporter({ out: sinks.out });
  if (name === 'tui' && sinks.stdout) {
    const { createTuiReporter } = await import('./tui/tui-reporter.js');
    return createTuiReporter({ stdout: sinks.stdout, ...(sinks.stderr ? { stderr: sinks.stderr } : {}), color: colorEnabled(t) });
  }
  return createPlainReporter({ out: sinks.out, err: sinks.err });
}

/** Feeds a finished list of events to a reporter and closes it. */
export function replay(reporter: Reporter, events: Iterable<RunEvent>): void {
  for (const e of events) reporter.onEvent(e);
  reporter.close?.();
}
