// ULGM label drift: how far each modality's generated labels have moved from the multimodal labels (mean |y_m - y_M|).
// Phase 8 (report).

import { Box, Text } from 'ink';
import { bar } from './ProgressBar.js';

export function DriftLine({ drift, scale = 1 }: { drift: Record<string, number>; scale?: number }) {
  const entries = Object.entries(drift);
  if (entries.length === 0) return null;
  return (
    <Box gap={2}>
      <Text>ULGM drift |y_m - y_M|</Text>
      {entries.map(([m, v]) => (
        <Text key={m}>
          {m} {Number.isFinite(v) ? v.toFixed(3) : 'nan'} [{bar(v, scale, 8)}]
        </Text>
      ))}
    </Box>
  );
}
