// ULGM label drift: how far each modality's generated labels have moved from the multimodal labels (mean |y_m - y_M|),
// with a bar each when the terminal is wide enough. Phase 8 (report).

import { Text } from 'ink';
import { bar } from './ProgressBar.js';

export function driftText(drift: Record<string, number>, scale = 1, width = Infinity): string {
  const value = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'nan');
  const entries = Object.entries(drift);
  const withBars = `ULGM drift |y_m - y_M|  ${entries.map(([m, v]) => `${m} ${value(v)} [${bar(v, scale, 8)}]`).join('  ')}`;
  return withBars.length <= width ? withBars : `ULGM drift |y_m - y_M|  ${entries.map(([m, v]) => `${m} ${value(v)}`).join('  ')}`;
}

export function DriftLine({ drift, scale = 1, width }: { drift: Record<string, number>; scale?: number; width?: number }) {
  if (Object.keys(drift).length === 0) return null;
  return <Text>{driftText(drift, scale, width)}</Text>;
}
