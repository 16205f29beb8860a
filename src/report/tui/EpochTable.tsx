// Finished epochs as a static table (printed once, above the live area): losses (with each head's or task's part),
// valid metrics as far as the terminal is wide (the hidden ones named), best-so-far marker, epochs until the seed
// stops, and a note where a task starts contributing (Self-MM's ULGM). Phase 8 (report).

import { Static, Text } from 'ink';
import { epochLayout, headerLine, hiddenLine, rowLine, startNotes } from './columns.js';
import type { TuiState } from './state.js';

export interface EpochTableProps {
  state: Pick<TuiState, 'metricKeys' | 'epochsMax' | 'epochs'>;
  width: number;
}

/** Every row carries its own header when it starts a seed, so <Static> (append-only) can print it. */
export function EpochTable({ state, width }: EpochTableProps) {
  const layout = epochLayout(state, width);
  const rows = state.epochs;
  return (
    <Static items={rows.map((r, i) => ({ r, i, first: i === 0 || rows[i - 1]!.seed !== r.seed }))}>
      {({ r, i, first }) => {
        const hidden = first ? hiddenLine(layout.hidden, width) : null;
        const head = first ? `seed ${r.seed}\n${headerLine(layout.columns)}\n${hidden ? `${hidden}\n` : ''}` : '';
        const notes = startNotes(r);
        return (
          <Text key={i}>
            {head}
            {rowLine(layout.columns, r)}
            {notes.length ? `\n${notes.join('\n')}` : ''}
          </Text>
        );
      }}
    </Static>
  );
}
