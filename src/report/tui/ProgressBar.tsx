// TUI progress lines: the current epoch (bar, batches, throughput, epoch ETA, live losses once a step has run), the
// whole run (elapsed, ETA) and the feature file being read before training starts. Phase 8 (report).

import { Box, Text } from 'ink';
import { bar, elapsedSeconds, fmtBytes, fmtDuration, fmtNum, runEta, type LoadingState, type TuiState } from './state.js';

export { bar } from './state.js';

const barWidth = (width: number) => Math.max(10, Math.min(40, width - 60));

export function ProgressBar({ state, width, color }: { state: TuiState; width: number; color: boolean }) {
  const ep = state.epochsMax ? `${state.epoch}/${state.epochsMax}` : `${state.epoch}`;
  const losses = Object.entries(state.taskLosses);
  return (
    <Box flexDirection="column">
      <Box gap={1}>
        <Text>epoch {ep}</Text>
        <Text {...(color ? { color: 'green' } : {})}>[{bar(state.step, state.steps, barWidth(width))}]</Text>
        <Text>
          {state.step}/{state.steps} batches
        </Text>
        <Text>{Math.round(state.throughput)} ex/s</Text>
        <Text>ETA {fmtDuration(state.eta)}</Text>
      </Box>
      {/* No loss to show before the seed's first step (not "nan"). */}
      {state.loss !== null ? (
        <Box gap={2}>
          <Text>loss {fmtNum(state.loss)}</Text>
          {losses.map(([k, v]) => (
            <Text key={k} dimColor={color}>
              {k} {fmtNum(v)}
            </Text>
          ))}
        </Box>
      ) : null}
    </Box>
  );
}

/** Elapsed time of the run and its ETA (a lower bound, `>=`, when only early stopping ends a seed). */
export function RunLine({ state }: { state: TuiState }) {
  const eta = runEta(state);
  const seeds = state.seedCount > 1 ? ` (${state.seedCount} seeds)` : '';
  return (
    <Text>
      elapsed {fmtDuration(elapsedSeconds(state))}
      {eta ? `  run ETA ${eta.atLeast ? '>=' : '~'}${fmtDuration(eta.seconds)}${seeds}` : ''}
    </Text>
  );
}

/** Shortens a path to `max` characters keeping its last segments whole: ".../Processed/unaligned_50.pkl". */
export function shortPath(p: string, max: number): string {
  if (p.length <= max) return p;
  const segs = p.split('/');
  let out = segs[segs.length - 1]!;
  for (let i = segs.length - 2; i >= 0; i--) {
    const next = `${segs[i]}/${out}`;
    if (next.length + 4 > max) break;
    out = next;
  }
  return out.length + 4 <= max ? `.../${out}` : out;
}

export function LoadingLine({ loading, width, color }: { loading: LoadingState; width: number; color: boolean }) {
  if (loading.totalBytes === 0) {
    return <Text>{loading.done ? 'data ready' : `preparing ${loading.file}`} ({fmtDuration(loading.seconds)})</Text>;
  }
  const pct = Math.floor((100 * loading.bytes) / loading.totalBytes);
  const tail = ` ${fmtBytes(loading.bytes)} / ${fmtBytes(loading.totalBytes)} ${String(pct).padStart(3)}% ${fmtDuration(loading.seconds)}`;
  const bw = Math.max(10, Math.min(30, width - 70));
  const room = width - 'loading  []'.length - bw - tail.length;
  return (
    <Box>
      <Text>loading {shortPath(loading.file, Math.max(12, room))} </Text>
      <Text {...(color ? { color: 'green' } : {})}>[{bar(loading.bytes, loading.totalBytes, bw)}]</Text>
      <Text>{tail}</Text>
    </Box>
  );
}
