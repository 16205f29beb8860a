// TUI header: pipeline, dataset, backend and which seed of how many is training (or how many seeds the run has,
// before the first starts and when every seed is reused). Phase 8 (report).

import { Box, Text } from 'ink';
import type { TuiState } from './state.js';

export function Header({ state, color }: { state: TuiState; color: boolean }) {
  const seed =
    state.seed !== null
      ? `seed ${state.seed} (${state.seedIndex + 1} of ${state.seedCount})`
      : state.seeds.length > 0
        ? `seed${state.seeds.length === 1 ? '' : 's'} ${state.seeds.join(', ')}`
        : '';
  return (
    // Wraps whole items onto a second line on a narrow terminal instead of squeezing them together.
    <Box columnGap={2} flexWrap="wrap">
      <Text bold {...(color ? { color: 'cyan' } : {})}>
        {state.pipeline || 'mmsa'}
      </Text>
      {state.dataset ? <Text>{state.dataset}</Text> : null}
      {state.backend ? <Text dimColor={color}>backend {state.backend}</Text> : null}
      {seed ? <Text>{seed}</Text> : null}
    </Box>
  );
}
