// The tune TUI: the search's header (strategy, progress, best so far), one line per trial in flight with each of its
// seeds' epoch, step bar and last validation value, and the last finished trials. Phase 8 (report).

import { Box, Text } from 'ink';
import { bar } from '../../report/tui/ProgressBar.js';
import { fmtDuration } from '../../report/tui/state.js';
import type { TuneViewState } from '../tune-state.js';
import { formatSetting } from '../trial-spec.js';

const fmt = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : Number(x.toPrecision(5)).toString());
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, Math.max(0, n - 1))}~` : s);

/** `now` (ms) dates the running trials' elapsed time; the live reporter passes the clock, tests a fixed instant. */
export function TuneView({ state, width, color, now }: { state: TuneViewState; width: number; color: boolean; now: number }) {
  const done = state.resumed + state.finished.filter((t) => t.status === 'completed').length;
  const failed = state.finished.filter((t) => t.status === 'failed').length;
  const running = [...state.running.values()].sort((a, b) => a.trial - b.trial);
  const last = state.finished.slice(-5);
  const dim = color ? { dimColor: true } : {};
  return (
    <Box flexDirection="column">
      <Text bold={color}>
        tune {state.pipeline}: {state.strategy}, {done}/{state.planned ?? '?'} trials done{failed ? `, ${failed} failed` : ''}, {running.length} running ({state.slots} at a time)
      </Text>
      <Text>
        objective: {state.mode === 'min' ? 'minimise' : 'maximise'} valid {state.objective}
        {state.best ? `   best: trial ${state.best.trial} = ${fmt(state.best.objective)}` : ''}
      </Text>
      {running.map((r) => (
        <Box key={r.trial} flexDirection="column">
          <Text {...(color ? { color: 'cyan' } : {})}>{cut(`trial ${r.trial} (${fmtDuration((now - r.started) / 1000)}): ${r.label}`, width - 1)}</Text>
          {[...r.seeds.entries()].map(([seed, s]) => (
            <Text key={seed}>
              {'  '}seed {seed} epoch {s.epochsMax ? `${s.epoch}/${s.epochsMax}` : s.epoch} [{bar(s.step, s.steps, 20)}] valid {state.objective} {fmt(s.valid)}
            </Text>
          ))}
        </Box>
      ))}
      {last.length > 0 && <Text {...dim}>finished:</Text>}
      {last.map((t) => (
        <Text key={t.trial} {...dim}>
          {cut(`  trial ${t.trial} ${t.status === 'completed' ? fmt(t.objective) : t.status}${t.reused ? ' (reused)' : ''}: ${formatSetting(t.setting)}`, width - 1)}
        </Text>
      ))}
      {state.testing && !state.end && (
        <Text>
          testing the best setting once on the test split: {state.testing.done}/{state.testing.seeds.length} seeds
        </Text>
      )}
    </Box>
  );
}
