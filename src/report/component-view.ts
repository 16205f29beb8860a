// ComponentView: what a component folder's view.ts gives the reporters: named plots of its run data (`mmsa report`,
// `--plot <name>`) and a line for the terminal UI. Reporters ask the views; they never test a component type. Phase 8.

import type { ReactElement } from 'react';
import type { Spec } from './plot/vega-specs.js';
import type { RunData } from './run-data.js';

export interface ComponentPlot {
  /** Plot name for `mmsa report --plot <name>` (e.g. `drift`). */
  name: string;
  /** The plot's Vega-Lite specs for one run (none when the run has no data for it); `epoch` picks one epoch where it applies. */
  specs(run: RunData, epoch?: number): Spec[];
}

export interface ComponentView {
  plots?: ComponentPlot[];
  /** The terminal UI's line for the latest data a task of this type reported (`task.update`), or null. */
  tuiLine?(data: Record<string, unknown>): ReactElement | null;
}

export function defineView(view: ComponentView): ComponentView {
  return view;
}
