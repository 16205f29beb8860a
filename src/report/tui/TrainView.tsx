// The whole training screen: static epoch table above, then header, notes (a dead run trained again), data loading
// or epoch progress, the run's elapsed time and ETA, a line per task whose view draws one and, per finished seed, its
// result and run directory; at the end the results table and the summary file. Pure function of TuiState. Phase 8.

import { Box, Text } from 'ink';
import { EpochTable } from './EpochTable.js';
import { Header } from './Header.js';
import { LoadingLine, ProgressBar, RunLine } from './ProgressBar.js';
import { ResultsTable } from './ResultsTable.js';
import { keyMetrics, type TuiState } from './state.js';
import { tuiLineOf } from '../views.js';

export interface TrainViewProps {
  state: TuiState;
  /** Terminal columns (decides which columns fit). */
  width: number;
  color: boolean;
}

export function TrainView({ state, width, color }: TrainViewProps) {
  // "  test " then "Has0_acc_2 0.8906  " per metric.
  const nMetrics = Math.max(1, Math.min(6, Math.floor((width - 7) / 19)));
  const finished = state.summary !== null || state.errors.length > 0 || state.interrupted;
  return (
    // The full width, so rows are laid out at the terminal's width whatever the live lines need.
    <Box flexDirection="column" width={width}>
      <EpochTable state={state} width={width} />
      <Header state={state} color={color} />
      {state.notes.map((n, i) => (
        <Text key={`note-${i}`} {...(color ? { color: 'yellow' } : {})}>
          note: {n}
        </Text>
      ))}
      {!finished && state.loading && !state.loading.done ? <LoadingLine loading={state.loading} width={width} color={color} /> : null}
      {!finished && state.seed !== null ? <ProgressBar state={state} width={width} color={color} /> : null}
      {!finished && state.startT !== null ? <RunLine state={state} /> : null}
      {Object.entries(state.taskData).map(([task, d]) => {
        const line = tuiLineOf(d, width);
        return line === null ? null : <Text key={`task-${task}`}>{line}</Text>;
      })}
      {state.seedResults.map((r) => (
        <Text key={r.seed}>
          seed {r.seed}
          {r.reused ? ' (reused, --force retrains)' : ''}: best epoch {r.bestEpoch} of {r.epochs}
          {'\n  test '}
          {keyMetrics(Object.keys(r.test), nMetrics)
            .map((k) => `${k} ${r.test[k]!.toFixed(4)}`)
            .join('  ')}
          {r.runDir ? `\n  ${r.runDir}` : ''}
        </Text>
      ))}
      {state.interrupted ? <Text {...(color ? { color: 'yellow' } : {})}>interrupted{state.runDir ? ` (run dir ${state.runDir})` : ''}</Text> : null}
      {state.errors.map((e, i) => (
        <Text key={i} {...(color ? { color: 'red' } : {})}>
          error {e.code}: {e.message}
          {e.hint ? `\n  help: ${e.hint}` : ''}
        </Text>
      ))}
      {state.summary ? <ResultsTable summary={state.summary} color={color} /> : null}
      {state.summary?.summaryPath ? <Text>summary: {state.summary.summaryPath}</Text> : null}
    </Box>
  );
}
