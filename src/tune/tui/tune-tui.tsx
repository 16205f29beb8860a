// The Ink reporter of `mmsa tune`: folds tune events into TuneViewState and redraws at most every 500 ms (trial
// milestones at once); the final table is printed as plain text after the live view. Phase 8 (report).

import { render, type Instance } from 'ink';
import type { TuneEvent } from '../search.js';
import { createPlainTuneReporter, type TuneReporter } from '../tune-reporters.js';
import { initialTuneState, reduceTune, type TuneViewState } from '../tune-state.js';
import { TuneView } from './TuneView.js';

export function createTuneTui(o: { stdout: NodeJS.WriteStream; stderr?: NodeJS.WriteStream; color: boolean; throttleMs?: number }): TuneReporter & { readonly state: TuneViewState } {
  let state = initialTuneState();
  let instance: Instance | undefined;
  let timer: NodeJS.Timeout | undefined;
  let last = 0;
  const throttle = o.throttleMs ?? 500;
  const view = () => <TuneView state={state} width={Math.max(60, o.stdout.columns || 100)} color={o.color} now={Date.now()} />;
  const draw = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    last = Date.now();
    if (!instance) instance = render(view(), { stdout: o.stdout, ...(o.stderr ? { stderr: o.stderr } : {}), exitOnCtrlC: false, patchConsole: false });
    else instance.rerender(view());
  };
  return {
    get state() {
      return state;
    },
    onEvent(e: TuneEvent) {
      state = reduceTune(state, e);
      if (e.kind === 'tune.end') {
        draw();
        instance?.unmount();
        instance = undefined;
        // The end as plain text (it stays on screen after the live view): best, test, the message of a failure.
        createPlainTuneReporter({ out: (s) => o.stdout.write(s), err: (s) => (o.stderr ?? o.stdout).write(s), objective: state.objective }).onEvent(e);
        return;
      }
      if (e.kind !== 'trial.event' || Date.now() - last >= throttle) draw();
      else if (!timer) timer = setTimeout(draw, throttle);
    },
    close() {
      if (timer) clearTimeout(timer);
      instance?.unmount();
    },
  };
}
