// Final results: test metrics per seed and mean +- std over the seeds (x100 for MMSA's metric sets, as its tables).
// Phase 8 (report).

import { Box, Text } from 'ink';
import { aggregateScale, formatCell } from '../table-scale.js';
import type { TuiState } from './state.js';

export function ResultsTable({ summary, color }: { summary: NonNullable<TuiState['summary']>; color: boolean }) {
  const keys = Object.keys(summary.aggregate);
  const scale = aggregateScale(summary.aggregate);
  const w = Math.max(6, ...keys.map((k) => k.length));
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold {...(color ? { color: 'cyan' } : {})}>
        {summary.pipeline}: test over {summary.seeds.length} seed{summary.seeds.length === 1 ? '' : 's'} ({summary.seeds.join(', ')}), {scale === 100 ? 'x100, ' : ''}mean +- std
      </Text>
      {keys.map((k) => {
        const [m, s] = formatCell(summary.aggregate[k]!.cell, scale).split(' +- ');
        return <Text key={k}>{`  ${k.padEnd(w)}  ${m!.padStart(8)} +- ${s}`}</Text>;
      })}
    </Box>
  );
}
