// Reads a per-frame feature table (OpenFace's CSV, openSMILE's CSV with ';', any frames x columns table) into a
// float32 frames x dims matrix, keeping the columns a selection names. Phase 7: dataset building.
//
// Parsed with Papa Parse, not csv-parse (which reads the samples table, where it gives each record's line): these files
// are large (an interview's OpenFace output is ~700 columns x tens of thousands of frames, hundreds of MB) and Papa
// Parse reads them about 3x faster; they hold no quoted line breaks, so a row's line is its index + 2.

import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import { MmsaError } from '../../../errors.js';
import type { FrameMatrix } from './read-npy.js';

/** Which columns of a per-frame CSV become features. */
export interface ColumnSelection {
  /** Glob patterns (`*`, `?`) of the columns to keep, e.g. `AU*_r`; default: every column but the metadata ones. */
  columns?: string[];
  /** Glob patterns of columns to drop after `columns`. */
  exclude?: string[];
  /** Field separator; default: guessed from the header line (`;`, tab or `,`). */
  delimiter?: string;
}

/**
 * Bookkeeping columns of OpenFace (frame, face_id, timestamp, confidence, success) and openSMILE (name, frameTime):
 * left out unless `columns` names them.
 */
export const METADATA_COLUMNS = ['frame', 'face_id', 'timestamp', 'confidence', 'success', 'name', 'frameTime'];

export const CSV_FORMAT = 'MSA6042';

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function guessDelimiter(text: string): string {
  const first = text.split('\n', 1)[0] ?? '';
  const counts = [';', '\t', ','].map((d) => ({ d, n: first.split(d).length - 1 }));
  counts.sort((a, b) => b.n - a.n);
  return counts[0]!.n > 0 ? counts[0]!.d : ',';
}

/** A cell as a number: '' and nan are NaN, inf / -inf infinite; anything else that is not a number is undefined. */
export function parseCell(cell: string): number | undefined {
  const s = cell.trim();
  if (s === '') return Number.NaN;
  const l = s.toLowerCase();
  if (l === 'nan') return Number.NaN;
  if (l === 'inf' || l === '+inf' || l === 'infinity') return Number.POSITIVE_INFINITY;
  if (l === '-inf' || l === '-infinity') return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

/** The columns `sel` keeps, in file order; throws when a pattern matches nothing. */
export function selectColumns(header: string[], sel: ColumnSelection, file: string): number[] {
  const names = header.map((h) => h.trim());
  let keep: number[];
  if (sel.columns && sel.columns.length > 0) {
    const res = sel.columns.map((p) => ({ p, re: globToRegExp(p.trim()) }));
    for (const { p, re } of res) {
      if (!names.some((n) => re.test(n))) {
        throw new MmsaError(CSV_FORMAT, `${file}: no column matches '${p}'`, {
          hint: `columns of the file: ${names.slice(0, 40).join(', ')}${names.length > 40 ? ', ...' : ''}`,
          details: { file, pattern: p },
        });
      }
    }
    keep = names.flatMap((n, i) => (res.some((r) => r.re.test(n)) ? [i] : []));
  } else {
    const meta = new Set(METADATA_COLUMNS.map((m) => m.toLowerCase()));
    keep = names.flatMap((n, i) => (meta.has(n.toLowerCase()) ? [] : [i]));
  }
  if (sel.exclude && sel.exclude.length > 0) {
    const ex = sel.exclude.map((p) => globToRegExp(p.trim()));
    keep = keep.filter((i) => !ex.some((re) => re.test(names[i]!)));
  }
  if (keep.length === 0) throw new MmsaError(CSV_FORMAT, `${file}: the column selection keeps no column`, { hint: `columns of the file: ${names.join(', ')}`, details: { file } });
  return keep;
}

/** Reads the selected columns of a per-frame CSV (first line: column names; one line per frame). */
export function readFrameCsv(file: string, sel: ColumnSelection = {}, text: string = readFileSync(file, 'utf8')): FrameMatrix {
  const delimiter = sel.delimiter ?? guessDelimiter(text);
  const parsed = Papa.parse<string[]>(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, { delimiter, skipEmptyLines: true });
  const rows = parsed.data;
  const bad = parsed.errors[0] ?? (rows[0] ? rows.findIndex((r) => r.length !== rows[0]!.length) : -1);
  if (typeof bad !== 'number' || bad >= 0) {
    const line = typeof bad === 'number' ? bad + 1 : (bad.row ?? 0) + 1;
    const why = typeof bad === 'number' ? `line ${line} has ${rows[bad]!.length} fields, the header ${rows[0]!.length}` : `line ${line}: ${bad.message}`;
    throw new MmsaError(CSV_FORMAT, `${file}: not a readable CSV table: ${why}`, {
      hint: `one header line with the column names, then one line per frame with the same number of fields (separated by '${delimiter === '\t' ? '\\t' : delimiter}'${sel.delimiter ? '' : ', guessed from the header; set delimiter in the options file if that is wrong'})`,
      details: { file, line },
    });
  }
  const header = rows[0];
  if (!header) throw new MmsaError(CSV_FORMAT, `${file}: the file is empty`, { hint: 'a per-frame CSV has a header line and one line per frame', details: { file } });
  const cols = selectColumns(header, sel, file);
  const frames = rows.length - 1;
  const dims = cols.length;
  const data = new Float32Array(frames * dims);
  for (let f = 0; f < frames; f++) {
    const row = rows[f + 1]!;
    for (let j = 0; j < dims; j++) {
      const c = cols[j]!;
      const v = parseCell(row[c] ?? '');
      if (v === undefined) {
        throw new MmsaError(CSV_FORMAT, `${file}: line ${f + 2}, column '${header[c]!.trim()}': '${row[c]}' is not a number`, {
          hint: `leave text columns out of the features (--exclude MODALITY=${header[c]!.trim()} or 'exclude' in the options file)`,
          details: { file, line: f + 2, column: header[c]!.trim() },
        });
      }
      data[f * dims + j] = v;
    }
  }
  return { data, frames, dims, columns: cols.map((c) => header[c]!.trim()) };
}
