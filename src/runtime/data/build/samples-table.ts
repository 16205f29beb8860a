// Reads SAMPLES.csv of `mmsa data build`: one row per sample with id, split, label(s), optional text and one column
// per modality holding the path of that sample's per-frame features. Phase 7: dataset building.

import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { MmsaError } from '../../../errors.js';
import type { SplitName } from '../types.js';
import { parseCell } from './read-frame-csv.js';

/** One problem of the input, located: the CSV line (and sample id), the column, the feature file. */
export interface BuildProblem {
  code: string;
  /** Line of SAMPLES.csv (1 = the header). */
  line?: number;
  id?: string;
  column?: string;
  file?: string;
  message: string;
}

export interface SampleRow {
  line: number;
  id: string;
  split: SplitName;
  /** label column -> value ('label' / 'label_M' under 'M'). */
  labels: Record<string, number>;
  text: string;
  /** modality -> path as written (relative to the CSV), '' for a missing modality. */
  paths: Record<string, string>;
}

export interface SamplesTable {
  file: string;
  rows: SampleRow[];
  modalities: string[];
  /** Label heads in column order: 'M' for `label` / `label_M`, then T, A, V, ... */
  heads: string[];
  hasText: boolean;
}

export const SAMPLES_CSV = 'MSA6040';
export const LABEL_RANGE = 'MSA6045';

const SPLIT_NAMES: Record<string, SplitName> = { train: 'train', valid: 'valid', test: 'test', dev: 'valid', val: 'valid', validation: 'valid' };
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Pickle key of a label head: MMSA's `regression_labels` for M, `regression_labels_T` etc. for the others. */
export function labelKey(head: string): string {
  return head === 'M' ? 'regression_labels' : `regression_labels_${head}`;
}

/** The role of each header cell; problems for names that cannot be modality names. */
function classifyColumns(header: string[], file: string, problems: BuildProblem[]): { modalities: string[]; heads: string[]; labelCol: Record<string, string>; textCol: string | undefined } {
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) problems.push({ code: SAMPLES_CSV, line: 1, column: h, message: `column '${h}' appears twice in the header` });
    seen.add(h);
  }
  for (const req of ['id', 'split']) if (!seen.has(req)) problems.push({ code: SAMPLES_CSV, line: 1, message: `no '${req}' column (the header has: ${header.join(', ')})` });
  // `raw_text` holds the transcript when `text` is a modality of per-token features (MMSA's keys raw_text / text).
  const textCol = seen.has('raw_text') ? 'raw_text' : seen.has('text') ? 'text' : undefined;
  const labelCol: Record<string, string> = {};
  const modalities: string[] = [];
  for (const h of header) {
    if (h === 'id' || h === 'split' || h === textCol) continue;
    const m = /^label(?:_(.+))?$/.exec(h);
    if (m) {
      const head = m[1] ?? 'M';
      if (!NAME.test(head)) {
        problems.push({ code: SAMPLES_CSV, line: 1, column: h, message: `label column '${h}': '${head}' is not a usable head name (letters, digits, _)` });
        continue;
      }
      if (labelCol[head]) problems.push({ code: SAMPLES_CSV, line: 1, column: h, message: `columns '${labelCol[head]}' and '${h}' both give the label of head ${head}` });
      labelCol[head] = h;
      continue;
    }
    if (!NAME.test(h) || h === 'text_bert' || h.endsWith('_lengths') || h.startsWith('regression_labels')) {
      problems.push({ code: SAMPLES_CSV, line: 1, column: h, message: `column '${h}' cannot name a modality (letters, digits and _, not text_bert, *_lengths or regression_labels*)` });
      continue;
    }
    modalities.push(h);
  }
  if (!labelCol['M']) {
    problems.push({ code: SAMPLES_CSV, line: 1, message: `no 'label' (or 'label_M') column: MMSA's layout needs the main label as regression_labels (file ${file})` });
  }
  if (modalities.length === 0) problems.push({ code: SAMPLES_CSV, line: 1, message: 'no modality column: add one column per modality (audio, vision, ...) holding each sample\'s feature file' });
  const heads = ['M', ...Object.keys(labelCol).filter((h) => h !== 'M')];
  return { modalities, heads: labelCol['M'] ? heads : heads.slice(1), labelCol, textCol };
}

/**
 * Parses SAMPLES.csv (a maintained CSV parser: quoting, BOM, CRLF) and checks every row: id present and unique,
 * split known, labels numeric, finite and within `labelRange`. Problems are collected, not thrown.
 */
export function readSamplesTable(file: string, o: { labelRange?: [number, number] }, problems: BuildProblem[]): SamplesTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MmsaError('MSA6041', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { hint: 'give the path of the samples table (CSV)', details: { file } });
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, info: true, trim: true }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    throw new MmsaError(SAMPLES_CSV, `${file}: not a readable CSV table: ${(e as Error).message}`, {
      hint: 'a header line (id,split,label,audio,vision,...) and one line per sample with the same number of fields; quote fields holding commas',
      details: { file },
      cause: e,
    });
  }
  const header = records[0]?.record;
  if (!header) throw new MmsaError(SAMPLES_CSV, `${file} is empty`, { hint: 'the first line names the columns: id,split,label,audio,vision,...', details: { file } });
  const cols = classifyColumns(header, file, problems);
  const idx = (h: string) => header.indexOf(h);
  const rows: SampleRow[] = [];
  const firstLine = new Map<string, number>();
  for (const { record, info } of records.slice(1)) {
    const line = info.lines;
    const id = record[idx('id')] ?? '';
    const at = { line, ...(id ? { id } : {}) };
    if (id === '') problems.push({ code: SAMPLES_CSV, ...at, column: 'id', message: 'empty id' });
    else if (firstLine.has(id)) problems.push({ code: SAMPLES_CSV, ...at, column: 'id', message: `id '${id}' is also on line ${firstLine.get(id)}` });
    else firstLine.set(id, line);
    const rawSplit = (record[idx('split')] ?? '').toLowerCase();
    const split = SPLIT_NAMES[rawSplit];
    if (!split) problems.push({ code: SAMPLES_CSV, ...at, column: 'split', message: `split '${record[idx('split')] ?? ''}' is not train, valid (or dev) or test` });
    const labels: Record<string, number> = {};
    for (const head of cols.heads) {
      const col = cols.labelCol[head]!;
      const cell = record[idx(col)] ?? '';
      const v = parseCell(cell);
      if (v === undefined || !Number.isFinite(v)) {
        problems.push({ code: SAMPLES_CSV, ...at, column: col, message: `label '${cell}' is not a finite number` });
        continue;
      }
      const r = o.labelRange;
      if (r && (v < r[0] || v > r[1])) problems.push({ code: LABEL_RANGE, ...at, column: col, message: `label ${v} is outside the label range [${r[0]}, ${r[1]}]` });
      labels[head] = v;
    }
    const paths: Record<string, string> = {};
    for (const m of cols.modalities) paths[m] = record[idx(m)] ?? '';
    rows.push({ line, id, split: split ?? 'train', labels, text: cols.textCol ? (record[idx(cols.textCol)] ?? '') : '', paths });
  }
  return { file, rows, modalities: cols.modalities, heads: cols.heads, hasText: cols.textCol !== undefined };
}

/** One MmsaError for every problem found: the single problem's own code, MSA6040 listing them all otherwise. */
export function problemsError(file: string, problems: BuildProblem[], max = 30): MmsaError {
  const where = (p: BuildProblem) => `${file}${p.line !== undefined ? `:${p.line}` : ''}${p.id ? ` (id ${p.id})` : ''}${p.column ? `, column '${p.column}'` : ''}`;
  // In the table's order (problems of the header and of whole columns first), whatever found them.
  const sorted = problems.map((p, i) => ({ p, i })).sort((a, b) => (a.p.line ?? 0) - (b.p.line ?? 0) || a.i - b.i).map((x) => x.p);
  const lines = sorted.slice(0, max).map((p) => `${where(p)}: ${p.file ? `${p.file}: ` : ''}${p.message}${problems.length > 1 ? ` [${p.code}]` : ''}`);
  if (problems.length > max) lines.push(`... and ${problems.length - max} more`);
  const only = problems.length === 1 ? problems[0]! : undefined;
  return new MmsaError(only?.code ?? SAMPLES_CSV, problems.length === 1 ? `${lines[0]}; nothing was written` : `${problems.length} problems in ${file}; nothing was written:\n  ${lines.join('\n  ')}`, {
    hint: 'fix the rows or files named above and run the build again',
    details: { file, problems },
  });
}
