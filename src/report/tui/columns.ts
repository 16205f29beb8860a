// Columns of the epoch table, picked by terminal width: epoch, losses, best and stop always; then MMSA's key metrics,
// the per-head (or per-task) losses and the other metrics as far as they fit. Hidden columns are named, never dropped
// silently. Phase 8 (report).

import { fmtNum, keyMetrics, stopIn, type EpochRow, type TuiState } from './state.js';

export interface Column {
  header: string;
  width: number;
  cell: (r: EpochRow) => string;
}

export interface EpochLayout {
  columns: Column[];
  /** Names of what did not fit (metrics, loss parts), in priority order. */
  hidden: string[];
}

/** Metrics always kept ahead of the loss parts when there is room for anything (acc-2, MAE, Corr for regression). */
const KEY_METRICS = 3;

const num = (x: number | undefined) => fmtNum(x);

function metricColumn(m: string): Column {
  return { header: m, width: Math.max(m.length, 6), cell: (r) => num(r.metrics[m]) };
}

/** Loss parts: per head (M, T, A, V) when every epoch reports them, else per task when there is more than one. */
export function lossParts(rows: EpochRow[]): { kind: 'head' | 'task'; names: string[] } | null {
  const first = rows[0];
  if (!first) return null;
  const heads = Object.keys(first.headLosses);
  if (heads.length > 1) return { kind: 'head', names: heads };
  const tasks = Object.keys(first.taskLosses);
  return tasks.length > 1 ? { kind: 'task', names: tasks } : null;
}

function partColumn(kind: 'head' | 'task', name: string): Column {
  const header = `${kind === 'head' ? '' : 'loss '}${name}`;
  return {
    header,
    // Room for the '+' that marks the epoch a part starts contributing.
    width: Math.max(header.length, 7),
    cell: (r) => {
      const v = kind === 'head' ? r.headLosses[name] : r.taskLosses[name];
      // A part that starts contributing in this epoch is marked, next to the note under the row.
      const starting = r.starts.some((s) => (kind === 'task' ? s.task === name : s.heads.includes(name)));
      return `${num(v)}${starting ? '+' : ''}`;
    },
  };
}

/** Columns are right-aligned and one space apart. */
const SEP = ' ';

export function lineWidth(cols: Column[]): number {
  return cols.reduce((a, c) => a + c.width, 0) + Math.max(0, cols.length - 1) * SEP.length;
}

/** The columns that fit `width` characters, for the rows of a state. */
export function epochLayout(s: Pick<TuiState, 'metricKeys' | 'epochsMax' | 'epochs'>, width: number): EpochLayout {
  const epochW = Math.max(5, s.epochsMax === null ? 3 : 2 * String(s.epochsMax).length + 1);
  const fixedLeft: Column[] = [
    { header: 'epoch', width: epochW, cell: (r) => (s.epochsMax ? `${r.epoch}/${s.epochsMax}` : String(r.epoch)) },
    { header: 'train', width: 7, cell: (r) => num(r.trainLoss) },
    { header: 'valid', width: 7, cell: (r) => num(r.validLoss) },
  ];
  const fixedRight: Column[] = [
    { header: 'best', width: 4, cell: (r) => (r.improved ? '*' : `(${r.bestEpoch})`) },
    { header: 'stop in', width: 7, cell: (r) => String(stopIn(r, s.epochsMax)) },
  ];
  const metrics = keyMetrics(s.metricKeys, s.metricKeys.length).map(metricColumn);
  const parts = lossParts(s.epochs);
  const partCols = parts ? parts.names.map((n) => partColumn(parts.kind, n)) : [];

  const chosen = { parts: [] as Column[], metrics: [] as Column[] };
  const hidden: string[] = [];
  const used = () => lineWidth([...fixedLeft, ...chosen.parts, ...chosen.metrics, ...fixedRight]);
  const fits = (extra: Column[]) => used() + lineWidth(extra) + (extra.length ? SEP.length : 0) <= width;
  const tryAdd = (list: Column[], c: Column) => {
    if (fits([c])) list.push(c);
    else hidden.push(c.header);
  };
  for (const c of metrics.slice(0, KEY_METRICS)) tryAdd(chosen.metrics, c);
  // The loss parts go in as a group (all heads, or all tasks when the heads do not fit), or not at all.
  if (partCols.length > 0) {
    if (fits(partCols)) chosen.parts.push(...partCols);
    else if (parts!.kind === 'head' && s.epochs[0] && Object.keys(s.epochs[0].taskLosses).length > 1) {
      const tasks = Object.keys(s.epochs[0].taskLosses).map((n) => partColumn('task', n));
      if (fits(tasks)) {
        chosen.parts.push(...tasks);
        hidden.push(`per-head losses (${parts!.names.join(', ')})`);
      } else hidden.push(...partCols.map((c) => c.header));
    } else hidden.push(...partCols.map((c) => c.header));
  }
  for (const c of metrics.slice(KEY_METRICS)) tryAdd(chosen.metrics, c);
  return { columns: [...fixedLeft, ...chosen.parts, ...chosen.metrics, ...fixedRight], hidden };
}

export function headerLine(cols: Column[]): string {
  return cols.map((c) => c.header.padStart(c.width)).join(SEP);
}

export function rowLine(cols: Column[], r: EpochRow): string {
  return cols.map((c) => c.cell(r).padStart(c.width)).join(SEP);
}

/** "hidden at 80 columns: MAE, Corr" cut to the width, or null when everything fits. */
export function hiddenLine(hidden: string[], width: number): string | null {
  if (hidden.length === 0) return null;
  const head = `hidden at ${width} columns: `;
  const tail = ' (a wider terminal shows them)';
  let text = head + hidden.join(', ') + tail;
  if (text.length <= width) return text;
  for (let n = hidden.length - 1; n >= 1; n--) {
    text = `${head}${hidden.slice(0, n).join(', ')} and ${hidden.length - n} more`;
    if (text.length <= width) return text;
  }
  return `${head}${hidden.length} columns`.slice(0, width);
}

/** The note under a row where a task starts contributing to the training loss. */
export function startNotes(r: EpochRow): string[] {
  return r.starts.map(
    (s) => `  + ${s.task}${s.heads.length ? ` (${s.heads.join(', ')})` : ''} contributes from epoch ${s.from}: its loss was 0 before`,
  );
}
