// How result tables show a metric: x100 for MMSA's metric sets (as MMSA's run.py and results tables), as is for
// custom metric sets, and a column header or title that says which. Phase 8 (report).

import type { AggregateCell } from '../runtime/events.js';

/** The scale of an aggregate (older summaries without `scale` were always x100). */
export function aggregateScale(aggregate: Record<string, AggregateCell>): 100 | 1 {
  const first = Object.values(aggregate)[0];
  return first?.scale ?? 100;
}

/** A table cell "mean +- std" from an aggregate cell (already scaled): 2 decimals when x100, else 4. */
export function formatCell(cell: [number, number], scale: 100 | 1): string {
  const d = scale === 100 ? 2 : 4;
  return `${cell[0].toFixed(d)} +- ${cell[1].toFixed(d)}`;
}

/** A column header that says when its values are x100. */
export function scaledHeader(key: string, scale: 100 | 1): string {
  return scale === 100 ? `${key} (x100)` : key;
}
