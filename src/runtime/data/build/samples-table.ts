// Reads the samples table of `mmsa data build` (CSV, or JSON / JSON Lines): one row per sample with id, split,
// label(s), optional text and one column per modality holding the path of that sample's per-frame features.
// Phase 7: dataset building.

import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { MmsaError } from '../../../errors.js';
import type { ErrorCode } from '../../../core/messages.js';
import type { SplitName } from '../types.js';
import { parseCell } from './read-frame-csv.js';

/** One problem of the input, located: the CSV line (and sample id), the column, the feature file. */
export interface BuildProblem {
  code: ErrorCode;
  /** Line of a CSV or JSON Lines table (1 = a CSV's header). */
  line?: number;
  /** Position (1-based) of the sample in a JSON array table. */
  entry?: number;
  id?: string;
  column?: string;
  file?: string;
  message: string;
}

export interface SampleRow {
  /** Where the row is: its line (CSV, JSON Lines) or its position in a JSON array. */
  at: RowPlace;
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

/** A row's place in its table, as a BuildProblem locates it. */
export interface RowPlace {
  line?: number;
  entry?: number;
}

/** `line 3` or `sample 3` (of a JSON array), for messages that point at another row. */
export function describePlace(p: RowPlace): string {
  return p.line !== undefined ? `line ${p.line}` : `sample ${p.entry ?? '?'}`;
}

export const SAMPLES_CSV: ErrorCode = 'MSA6040';
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

interface RawTable {
  header: string[];
  /** `skip`: a JSON entry that is not an object (already reported). */
  records: { record: string[]; at: RowPlace; skip?: boolean }[];
  /** A JSON table has keys, not a header line: problems of the columns carry no line. */
  json: boolean;
}

function unreadable(file: string, what: string, e: unknown, hint: string): MmsaError {
  return new MmsaError(SAMPLES_CSV, `${file}: not a readable ${what}: ${(e as Error).message}`, { hint, details: { file }, cause: e });
}

/** A CSV table through csv-parse (quoting, BOM, CRLF, the line of each record). */
function parseCsvTable(file: string, text: string): RawTable {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, info: true, trim: true }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    throw unreadable(file, 'CSV table', e, 'a header line (id,split,label,audio,vision,...) and one line per sample with the same number of fields; quote fields holding commas');
  }
  const header = records[0]?.record;
  if (!header) throw new MmsaError(SAMPLES_CSV, `${file} is empty`, { hint: 'the first line names the columns: id,split,label,audio,vision,...', details: { file } });
  return { header, records: records.slice(1).map((r) => ({ record: r.record, at: { line: r.info.lines } })), json: false };
}

/**
 * A JSON array of sample objects, or JSON Lines (one object per line): keys are the columns (in order of first
 * appearance), numbers and strings are cells, null or an absent key an empty cell.
 */
function parseJsonTable(file: string, text: string, lines: boolean, problems: BuildProblem[]): RawTable {
  const objects: { value: unknown; at: RowPlace }[] = [];
  const hint = lines
    ? 'one JSON object per line: {"id": "300_P", "split": "train", "label": 10, "audio": "feats/300_P.npy", ...}'
    : 'a JSON array of objects: [{"id": "300_P", "split": "train", "label": 10, "audio": "feats/300_P.npy", ...}, ...]';
  if (lines) {
    text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((l, i) => {
      if (l.trim() === '') return;
      try {
        objects.push({ value: JSON.parse(l) as unknown, at: { line: i + 1 } });
      } catch (e) {
        throw unreadable(`${file}:${i + 1}`, 'JSON line', e, hint);
      }
    });
  } else {
    let doc: unknown;
    try {
      doc = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (e) {
      throw unreadable(file, 'JSON table', e, hint);
    }
    const list = Array.isArray(doc) ? doc : doc && typeof doc === 'object' && Array.isArray((doc as { samples?: unknown }).samples) ? (doc as { samples: unknown[] }).samples : undefined;
    if (!list) throw new MmsaError(SAMPLES_CSV, `${file}: expected an array of sample objects (or {"samples": [...]})`, { hint, details: { file } });
    list.forEach((value, i) => objects.push({ value, at: { entry: i + 1 } }));
  }
  if (objects.length === 0) throw new MmsaError(SAMPLES_CSV, `${file} has no samples`, { hint, details: { file } });
  const header: string[] = [];
  for (const o of objects) {
    if (o.value && typeof o.value === 'object' && !Array.isArray(o.value)) for (const k of Object.keys(o.value)) if (!header.includes(k)) header.push(k);
  }
  const records = objects.map(({ value, at }) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ code: SAMPLES_CSV, ...at, message: `expected an object with the sample's id, split, label and feature files, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}` });
      return { record: header.map(() => ''), at, skip: true };
    }
    const o = value as Record<string, unknown>;
    const record = header.map((k) => {
      const v = o[k];
      if (v === null || v === undefined) return '';
      if (typeof v === 'string') return v.trim();
      if (typeof v === 'number') return String(v);
      problems.push({ code: SAMPLES_CSV, ...at, ...(typeof o['id'] === 'string' ? { id: o['id'] } : {}), column: k, message: `'${k}' is ${Array.isArray(v) ? 'an array' : typeof v}: give a string, a number or null` });
      return '';
    });
    return { record, at };
  });
  return { header, records, json: true };
}

/**
 * Reads the samples table (CSV by a maintained parser; `.json` / `.jsonl` as JSON) and checks every row: id present
 * and unique, split known, labels numeric, finite and within `labelRange`. Problems are collected, not thrown.
 */
export function readSamplesTable(file: string, o: { labelRange?: [number, number] }, problems: BuildProblem[]): SamplesTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MmsaError('MSA6041', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { hint: 'give the path of the samples table (CSV, JSON or JSON Lines)', details: { file } });
  }
  const ext = extname(file).toLowerCase();
  const before = problems.length;
  const raw = ext === '.json' || ext === '.jsonl' || ext === '.ndjson' ? parseJsonTable(file, text, ext !== '.json', problems) : parseCsvTable(file, text);
  const { header } = raw;
  // Cells a JSON table gave a wrong type were reported as such: no second problem for the same cell.
  const place = (p: BuildProblem) => `${p.line ?? ''}/${p.entry ?? ''}/${p.column ?? ''}`;
  const typed = new Set(problems.slice(before).map(place));
  const colsFrom = problems.length;
  const cols = classifyColumns(header, file, problems);
  // A JSON table's columns are its keys: their problems have no line.
  if (raw.json) for (const p of problems.slice(colsFrom)) delete p.line;
  const idx = (h: string) => header.indexOf(h);
  const rows: SampleRow[] = [];
  const firstAt = new Map<string, RowPlace>();
  const checked = problems.length;
  for (const { record, at: place, skip } of raw.records) {
    if (skip) continue;
    const id = record[idx('id')] ?? '';
    const at = { ...place, ...(id ? { id } : {}) };
    if (id === '') problems.push({ code: SAMPLES_CSV, ...at, column: 'id', message: 'empty id' });
    else if (firstAt.has(id)) problems.push({ code: SAMPLES_CSV, ...at, column: 'id', message: `id '${id}' is also on ${describePlace(firstAt.get(id)!)}` });
    else firstAt.set(id, place);
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
    rows.push({ at: place, id, split: split ?? 'train', labels, text: cols.textCol ? (record[idx(cols.textCol)] ?? '') : '', paths });
  }
  if (typed.size > 0) {
    const rest = problems.splice(checked).filter((p) => !typed.has(place(p)));
    problems.push(...rest);
  }
  return { file, rows, modalities: cols.modalities, heads: cols.heads, hasText: cols.textCol !== undefined };
}

/** One MmsaError for every problem found: the single problem's own code, MSA6040 listing them all otherwise. */
export function problemsError(file: string, problems: BuildProblem[], max = 30): MmsaError {
  const where = (p: BuildProblem) => `${file}${p.line !== undefined ? `:${p.line}` : p.entry !== undefined ? ` sample ${p.entry}` : ''}${p.id ? ` (id ${p.id})` : ''}${p.column ? `, column '${p.column}'` : ''}`;
  // In the table's order (problems of the header and of whole columns first), whatever found them.
  const sorted = problems.map((p, i) => ({ p, i })).sort((a, b) => (a.p.line ?? a.p.entry ?? 0) - (b.p.line ?? b.p.entry ?? 0) || a.i - b.i).map((x) => x.p);
  const lines = sorted.slice(0, max).map((p) => `${where(p)}: ${p.file ? `${p.file}: ` : ''}${p.message}${problems.length > 1 ? ` [${p.code}]` : ''}`);
  if (problems.length > max) lines.push(`... and ${problems.length - max} more`);
  const only = problems.length === 1 ? problems[0]! : undefined;
  return new MmsaError(only?.code ?? SAMPLES_CSV, problems.length === 1 ? `${lines[0]}; nothing was written` : `${problems.length} problems in ${file}; nothing was written:\n  ${lines.join('\n  ')}`, {
    hint: 'fix the rows or files named above and run the build again',
    details: { file, problems },
  });
}
