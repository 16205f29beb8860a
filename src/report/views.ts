// Which component views apply: the plots of a run (the report's own and those of the components the run has), the
// `--plot` names, and the TUI lines of the tasks a live run reports on. Views come from the generated list
// (src/components/views.generated.ts); nothing here names a component. Phase 8 (report).

import { componentEntries } from '../components/component.js';
import { VIEWS } from '../components/views.generated.js';
import type { ComponentPlot } from './component-view.js';
import type { RunData } from './run-data.js';

/** Every plot of a component view, with the component (`kind/type`) whose view draws it. */
export const VIEW_PLOTS: readonly { component: string; plot: ComponentPlot }[] = Object.entries(VIEWS).flatMap(([component, v]) => (v.plots ?? []).map((plot) => ({ component, plot })));

/** The plots of a run, in the order the report shows them: training curves, the components' plots, test plots. */
export const RUN_PLOTS: readonly string[] = ['loss', 'metrics', ...VIEW_PLOTS.map((p) => p.plot.name), 'scatter', 'confusion', 'robustness'];

export function viewPlot(name: string): { component: string; plot: ComponentPlot } | undefined {
  return VIEW_PLOTS.find((p) => p.plot.name === name);
}

/**
 * The components (`kind/type`) a run was built from: its spec.lock.json, and the task types its task.update events
 * name (a run directory without a lock file).
 */
export function componentsOfRun(r: RunData): Set<string> {
  const out = new Set<string>();
  for (const { kind, entry } of componentEntries(r.lock?.spec ?? {})) if (typeof entry['type'] === 'string') out.add(`${kind}/${entry['type']}`);
  for (const e of r.events) if (e.kind === 'task.update' && e.type) out.add(`task/${e.type}`);
  return out;
}

/** The component plots of a run: those of the components it has. */
export function viewPlotsOf(r: RunData): ComponentPlot[] {
  const has = componentsOfRun(r);
  return VIEW_PLOTS.filter((p) => has.has(p.component)).map((p) => p.plot);
}

/** The plot names `mmsa report --plot` can draw for this run (component plots only when the run has the component). */
export function runPlotsOf(r: RunData): string[] {
  const mine = new Set(viewPlotsOf(r).map((p) => p.name));
  return RUN_PLOTS.filter((n) => !viewPlot(n) || mine.has(n));
}

/**
 * The TUI line of one task's latest data: from the view of its type; for events recorded before task.update named
 * the type, from the first task view that draws the data.
 */
export function tuiLineOf(task: { type?: string; data: Record<string, unknown> }, width: number): string | null {
  if (task.type !== undefined) return VIEWS[`task/${task.type}`]?.tuiLine?.(task.data, width) ?? null;
  for (const [component, v] of Object.entries(VIEWS)) {
    if (!component.startsWith('task/') || !v.tuiLine) continue;
    const line = v.tuiLine(task.data, width);
    if (line !== null) return line;
  }
  return null;
}
