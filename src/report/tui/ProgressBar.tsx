// TUI progress line of the current epoch: bar, batches done / total, throughput, ETA, then the live losses.
// Phase 8 (report).

import { Box, Text } from 'ink';
import { fmtDuration, fmtNum, type TuiState } from './state.js';

/** Text bar of `width` cells; plain characters so it reads in any terminal font. */
export function bar(done: number, total: number, width: number): string {
  const f = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const full = Math.round(f * width);
  return `${'#'.repeat(full)}${'-'.repeat(width - full)}`;
}

export function ProgressBar({ state, width, color }: { state: TuiState; width: number; color: boolean }) {
  const ep = state.epochsMax ? `${state.epoch}/${state.epochsMax}` : `${state.epoch}`;
  const barWidth = Math.max(10, Math.min(40, width - 60));
  const losses = Object.entries(state.taskLosses);
  return (
    <Box flexDirection="column">
      <Box gap={1}>
        <Text>epoch {ep}</Text>
        <Text {...(color ? { color: 'green' } : {})}>[{bar(state.step, state.steps, barWidth)}]</Text>
        <Text>
          {state.step}/{state.steps} batches
        </Text>
        <Text>{Math.round(state.throughput)} ex/s</Text>
        <Text>ETA {fmtDuration(state.eta)}</Text>
      </Box>
      <Box gap={2}>
        <Text>loss {fmtNum(state.loss)}</Text>
        {losses.map(([k, v]) => (
          <Text key={k} dimColor={color}>
            {k} {fmtNum(v)}
          </Text>
        ))}
      </Box>
    </Box>
  );
}
