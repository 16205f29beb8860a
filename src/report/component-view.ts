// ComponentView: what a component folder's view.ts gives the reporters: named plots of its run data (`mmsa report`,
// `--plot <name>`) and a line for the terminal UI. Reporters ask the views; they never test a component type. Phase 8.
//
// Views hold no React or Ink: the TUI line is plain text, so the CLI (which lists the plot names for `--plot`) loads
// the views without loading the terminal UI.

import type { Spec } from './plot/vega-specs.js';
import type { RunData } from './run-data.js';

export interface ComponentPlot {
  /** Plot name for `mmsa report --plot <name>` (e.g. `drift`). */
  name: string;
  /** The plot's Vega-Lite specs for one run (none when the run has no data for it); `epoch` picks one epoch where it applies. */
  specs(run: RunData, epoch?: number): Spec[];
  /**
   * Where the HTML report puts it: absent, among the run's plots (after loss and metrics); else in a section of its
   * own under this heading, after the run's plots.
   */
  section?: string;
  /** For plots drawn per epoch: what `--epoch` picks (`--help` text) and the epoch drawn without it (the last one). */
  epoch?: { what: string; last(run: RunData): number | undefined };
  /** Why the run has no spec of this plot although it has the component (`cannot draw plot ...: <why>`). */
  missing(run: RunData, epoch?: number): string;
}

export interface ComponentView {
  plots?: ComponentPlot[];
  /**
   * The terminal UI's line for the latest data a task of this type reported (`task.update`, or the task's part of
   * `epoch.end`), fitted to `width` columns; null when the data holds nothing this view draws.
   */
  tuiLine?(data: Record<string, unknown>, width: number): string | null;
}

export function defineView(view: ComponentView): ComponentView {
  return view;
}
