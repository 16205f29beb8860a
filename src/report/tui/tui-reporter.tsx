// The Ink reporter: folds events into TuiState and re-renders at most every `throttleMs` (steps arrive far faster
// than a terminal can show them), with the first frame and the end (results, errors) drawn at once. Phase 8 (report).

import { render, type Instance } from 'ink';
import type { RunEvent } from '../../runtime/events.js';
import type { Reporter } from '../plain-reporter.js';
import { initialTuiState, reduceTui, type TuiState } from './state.js';
import { TrainView } from './TrainView.js';

export interface TuiReporterOptions {
  stdout: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  color: boolean;
  /**
   * Minimum milliseconds between two renders of step progress. Default 500 (2 frames per second): a render costs
   * ~4 ms on the training thread, so this keeps the TUI under 1% of a run (10 fps would cost ~4%).
   */
  throttleMs?: number;
  /** Clock for the throttle (tests). */
  now?: () => number;
}

export interface TuiReporter extends Reporter {
  readonly state: TuiState;
  /** Renders done so far (for the bench and tests). */
  readonly renders: number;
  /** Milliseconds spent rendering (React, layout and terminal writes), for the bench. */
  readonly renderMs: number;
  close(): void;
}

/** Drawn at once: a handful per epoch at most. Steps and data-loading progress wait for the throttle. */
const MILESTONES = new Set<RunEvent['kind']>(['pipeline.start', 'run.start', 'epoch.start', 'epoch.end', 'run.end', 'run.error']);

export function createTuiReporter(o: TuiReporterOptions): TuiReporter {
  const throttleMs = o.throttleMs ?? 500;
  const now = o.now ?? (() => performance.now());
  const state = initialTuiState();
  let instance: Instance | undefined;
  let last = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  let renders = 0;
  let renderMs = 0;
  let closed = false;
  // A closed pipe (`mmsa run | head`) must not crash the run: stop drawing, keep training.
  let broken = false;
  const onError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') broken = true;
  };
  o.stdout.on('error', onError);

  const width = () => Math.max(60, o.stdout.columns || 100);
  const view = () => <TrainView state={state} width={width()} color={o.color} />;
  const draw = () => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (broken || closed) return;
    last = now();
    renders += 1;
    const t0 = performance.now();
    if (!instance) {
      instance = render(view(), { stdout: o.stdout, ...(o.stderr ? { stderr: o.stderr } : {}), exitOnCtrlC: false, patchConsole: false, maxFps: 30 });
    } else {
      instance.rerender(view());
    }
    renderMs += performance.now() - t0;
  };

  return {
    get state() {
      return state;
    },
    get renders() {
      return renders;
    },
    get renderMs() {
      return renderMs;
    },
    onEvent(e) {
      reduceTui(state, e);
      if (MILESTONES.has(e.kind)) {
        draw();
        return;
      }
      const wait = throttleMs - (now() - last);
      if (wait <= 0) draw();
      else if (!timer) {
        timer = setTimeout(draw, wait);
        timer.unref();
      }
    },
    close() {
      if (closed) return;
      draw();
      closed = true;
      if (timer) clearTimeout(timer);
      try {
        instance?.unmount();
      } catch {
        /* the terminal went away */
      }
      o.stdout.off('error', onError);
    },
  };
}
