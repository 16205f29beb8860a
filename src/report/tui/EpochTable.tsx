// Finished epochs as a static table (printed once, above the live area): losses, key valid metrics, best-so-far
// marker and the early-stop countdown. Phase 8 (report).

import { Static, Text } from 'ink';
import { fmtNum, type EpochRow } from './state.js';

export interface EpochTableProps {
  rows: EpochRow[];
  metrics: string[];
  epochsMax: number | null;
}

const COL = 10;
/** Metric columns: 10 characters of the name (Has0_acc_2 whole) and a space. */
const MCOL = 11;

export function epochHeader(metrics: string[]): string {
  return ['epoch'.padStart(7), 'train'.padStart(COL), 'valid'.padStart(COL), ...metrics.map((m) => ` ${m.slice(0, MCOL - 1).padStart(MCOL - 1)}`), '  best', '  stop in'].join('');
}

export function epochLine(r: EpochRow, metrics: string[], epochsMax: number | null): string {
  const ep = epochsMax ? `${r.epoch}/${epochsMax}` : String(r.epoch);
  const cells = [ep.padStart(7), fmtNum(r.trainLoss).padStart(COL), fmtNum(r.validLoss).padStart(COL), ...metrics.map((m) => fmtNum(r.metrics[m]).padStart(MCOL))];
  const best = r.improved ? '     *' : `  (${r.bestEpoch})`.padStart(6);
  return `${cells.join('')}${best}  ${String(r.patienceLeft).padStart(7)}`;
}

/** Every row carries its own header when it starts a seed, so <Static> (append-only) can print it. */
export function EpochTable({ rows, metrics, epochsMax }: EpochTableProps) {
  return (
    <Static items={rows.map((r, i) => ({ r, i, first: i === 0 || rows[i - 1]!.seed !== r.seed }))}>
      {({ r, i, first }) => (
        <Text key={i}>
          {first ? `seed ${r.seed}\n${epochHeader(metrics)}\n` : ''}
          {epochLine(r, metrics, epochsMax)}
        </Text>
      )}
    </Static>
  );
}
