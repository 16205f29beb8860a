// The whole training screen: static epoch table above, then header, progress, losses, ULGM drift and, at the end,
// the results table. Pure function of TuiState. Phase 8 (report).

import { Box, Text } from 'ink';
import { DriftLine } from './DriftLine.js';
import { EpochTable } from './EpochTable.js';
import { Header } from './Header.js';
import { ProgressBar } from './ProgressBar.js';
import { ResultsTable } from './ResultsTable.js';
import { keyMetrics, type TuiState } from './state.js';

export interface TrainViewProps {
  state: TuiState;
  /** Terminal columns (decides how many metric columns fit). */
  width: number;
  color: boolean;
}

export function TrainView({ state, width, color }: TrainViewProps) {
  const nMetrics = Math.max(1, Math.min(6, Math.floor((width - 43) / 11)));
  const metrics = keyMetrics(state.metricKeys, nMetrics);
  const finished = state.summary !== null || state.errors.length > 0 || state.interrupted;
  return (
    <Box flexDirection="column">
      <EpochTable rows={state.epochs} metrics={metrics} epochsMax={state.epochsMax} />
      <Header state={state} color={color} />
      {!finished && state.seed !== null ? <ProgressBar state={state} width={width} color={color} /> : null}
      {state.drift ? <DriftLine drift={state.drift} /> : null}
      {state.seedResults.map((r) => (
        <Text key={r.seed}>
          seed {r.seed}
          {r.reused ? ' (reused)' : ''}: best epoch {r.bestEpoch} of {r.epochs}; test{' '}
          {keyMetrics(Object.keys(r.test), Math.min(4, nMetrics))
            .map((k) => `${k} ${r.test[k]!.toFixed(4)}`)
            .join('  ')}
        </Text>
      ))}
      {state.interrupted ? <Text {...(color ? { color: 'yellow' } : {})}>interrupted</Text> : null}
      {state.errors.map((e, i) => (
        <Text key={i} {...(color ? { color: 'red' } : {})}>
          error {e.code}: {e.message}
          {e.hint ? `\n  help: ${e.hint}` : ''}
        </Text>
      ))}
      {state.summary ? <ResultsTable summary={state.summary} color={color} /> : null}
    </Box>
  );
}
