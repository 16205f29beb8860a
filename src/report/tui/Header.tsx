// TUI header: pipeline, dataset, backend and which seed of how many is training.
// Phase 8 (report).

import { Box, Text } from 'ink';
import type { TuiState } from './state.js';

export function Header({ state, color }: { state: TuiState; color: boolean }) {
  const seed = state.seed === null ? '' : `seed ${state.seed} (${state.seedIndex + 1} of ${state.seedCount})`;
  return (
    <Box gap={2}>
      <Text bold {...(color ? { color: 'cyan' } : {})}>
        {state.pipeline || 'mmsa'}
      </Text>
      <Text>{state.dataset}</Text>
      <Text dimColor={color}>backend {state.backend}</Text>
      <Text>{seed}</Text>
    </Box>
  );
}
