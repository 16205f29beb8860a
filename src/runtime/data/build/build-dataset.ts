// `mmsa data build`: per-sample per-frame features (.npy or CSV) listed in SAMPLES.csv -> one MMSA-layout pickle
// ({train, valid, test} -> {id, raw_text, text_bert?, <modality>, <modality>_lengths, regression_labels...}), checked
// whole before a byte is written and written atomically. Phase 7: dataset building.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { MmsaError } from '../../../errors.js';
import { withWriteErrors } from '../../fs-errors.js';
import { loadTokenizer, parseVocabTxt } from '../../tokenizer/load.js';
import { WordPieceTokenizer } from '../../tokenizer/wordpiece.js';
import { int64Array, ndarray, writePickleFile, type PyWritable } from '../pickle/write-pickle.js';
import type { SplitName } from '../types.js';
import { readFrameCsv, type ColumnSelection } from './read-frame-csv.js';
import { readNpy, type FrameMatrix } from './read-npy.js';
import { describePlace, labelKey, problemsError, readSamplesTable, type BuildProblem, type RowPlace, type SampleRow } from './samples-table.js';

export const SPLITS: readonly SplitName[] = ['train', 'valid', 'test'];

export const FEATURE_FILE = 'MSA6041';
export const RAGGED_DIMS = 'MSA6043';
export const NON_FINITE = 'MSA6044';
export const BUILD_OPTIONS = 'MSA6046';

export interface BuildOptions {
  /** Labels outside [lo, hi] are errors (e.g. [0, 24] for PHQ-8, [-3, 3] for MOSI). */
  labelRange?: [number, number];
  /** Keep at most this many frames per modality (the first ones). */
  maxFrames?: Record<string, number>;
  /** NaN / +-Inf in features: an error (default), or replaced by 0. */
  nan?: 'error' | 'zero';
  /** Column selection of per-frame CSV files, per modality. */
  columns?: Record<string, ColumnSelection>;
  /** vocab.txt of a BERT model, or its directory (tokenizer.json / vocab.txt): writes text_bert token ids. */
  vocab?: string;
  /** Token length of text_bert (default: the longest text, at most 512). */
  textLen?: number;
  /** Replace an existing output file. */
  force?: boolean;
  /** Samples read so far (of the total). */
  onProgress?: (done: number, total: number) => void;
}

export interface BuiltModality {
  name: string;
  /** Padded frame count (the longest sample after truncation) and feature dims. */
  frames: number;
  dims: number;
  /** Samples without a file for this modality (zeros, length 0). */
  missing: number;
  /** Samples cut to max frames. */
  truncated: number;
  /** Column names when the features came from CSV files. */
  columns?: string[];
}

export interface BuildReport {
  out: string;
  bytes: number;
  splits: Record<SplitName, number>;
  modalities: BuiltModality[];
  /** Label heads and their pickle keys. */
  labels: { head: string; key: string; min: number; max: number }[];
  text: boolean;
  textBert?: { length: number; truncated: number };
  /** Non-fatal findings (NaN replaced, empty feature files, truncation). */
  notes: string[];
}

interface Loaded {
  matrix: FrameMatrix | undefined;
}

function checkFinite(m: FrameMatrix, row: SampleRow, mod: string, file: string, o: BuildOptions, problems: BuildProblem[], notes: string[]): void {
  let nan = 0;
  let inf = 0;
  let first = -1;
  const d = m.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (v !== v) nan++;
    else if (v === Infinity || v === -Infinity) inf++;
    else continue;
    if (first < 0) first = i;
    if (o.nan === 'zero') d[i] = 0;
  }
  if (nan + inf === 0) return;
  const at = `first at frame ${Math.floor(first / m.dims)}, ${m.columns ? `column '${m.columns[first % m.dims]}'` : `dim ${first % m.dims}`}`;
  if (o.nan === 'zero') notes.push(`${file} (id ${row.id}, ${mod}): ${nan} NaN and ${inf} infinite values replaced by 0 (${at})`);
  else problems.push({ code: NON_FINITE, ...row.at, id: row.id, column: mod, file, message: `${nan} NaN and ${inf} infinite values (${at}); clean the file, or pass --nan zero to replace them by 0` });
}

function readFeatureFile(path: string, shown: string, sel: ColumnSelection): FrameMatrix {
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') return readNpy(shown, readFileSync(path));
  if (ext === '.csv' || ext === '.txt' || ext === '.tsv') return readFrameCsv(shown, sel, readFileSync(path, 'utf8'));
  throw new MmsaError(FEATURE_FILE, `${shown}: unknown feature file type '${ext || '(none)'}'`, { hint: 'per-frame features are .npy (frames x dims) or CSV (.csv, .tsv, .txt) files' });
}

function resolveVocab(path: string, base: string): WordPieceTokenizer {
  const p = isAbsolute(path) ? path : resolve(base, path);
  if (!existsSync(p)) throw new MmsaError(BUILD_OPTIONS, `vocab ${p}: no such file or directory`, { hint: "pass a BERT model's vocab.txt or its directory (with tokenizer.json or vocab.txt)" });
  if (statSync(p).isDirectory()) return loadTokenizer(p);
  return new WordPieceTokenizer(parseVocabTxt(readFileSync(p, 'utf8')), {}, p);
}

/**
 * Reads and checks everything, then returns the splits to pickle and what was built. Throws one MmsaError listing
 * every problem (row, file, what is wrong) when anything is wrong; nothing is written by this function.
 */
export function assembleDataset(samplesCsv: string, o: BuildOptions = {}): { value: Record<string, Record<string, PyWritable>>; report: Omit<BuildReport, 'out' | 'bytes'>; bytes: number } {
  const problems: BuildProblem[] = [];
  const notes: string[] = [];
  const table = readSamplesTable(samplesCsv, o.labelRange ? { labelRange: o.labelRange } : {}, problems);
  const base = dirname(samplesCsv);
  // Feature paths are shown as the table writes them (relative to it), the table as it was given.
  const shownPath = (p: string) => p;
  for (const m of Object.keys(o.maxFrames ?? {})) {
    if (!table.modalities.includes(m)) problems.push({ code: BUILD_OPTIONS, message: `max frames given for '${m}', which is not a modality column (modalities: ${table.modalities.join(', ')})` });
  }
  for (const m of Object.keys(o.columns ?? {})) {
    if (!table.modalities.includes(m)) problems.push({ code: BUILD_OPTIONS, message: `a column selection is given for '${m}', which is not a modality column (modalities: ${table.modalities.join(', ')})` });
  }
  let tokenizer: WordPieceTokenizer | undefined;
  if (o.vocab !== undefined) {
    if (!table.hasText) problems.push({ code: BUILD_OPTIONS, message: 'a vocab is given but the table has no text (or raw_text) column to tokenize' });
    else tokenizer = resolveVocab(o.vocab, process.cwd());
  }

  // Read every feature file, checking dims across samples and finiteness.
  const loaded = new Map<string, Loaded[]>();
  const firstOf = new Map<string, { dims: number; columns?: string[]; file: string; at: RowPlace }>();
  const truncated: Record<string, number> = {};
  const missing: Record<string, number> = {};
  table.rows.forEach((row, i) => {
    for (const mod of table.modalities) {
      const list = loaded.get(mod) ?? [];
      loaded.set(mod, list);
      const p = row.paths[mod] ?? '';
      if (p === '') {
        missing[mod] = (missing[mod] ?? 0) + 1;
        list.push({ matrix: undefined });
        continue;
      }
      const abs = isAbsolute(p) ? p : resolve(base, p);
      const shown = shownPath(p);
      if (!existsSync(abs)) {
        problems.push({ code: FEATURE_FILE, ...row.at, id: row.id, column: mod, file: shown, message: 'no such file (paths are relative to the samples table)' });
        list.push({ matrix: undefined });
        continue;
      }
      let m: FrameMatrix;
      try {
        m = readFeatureFile(abs, shown, o.columns?.[mod] ?? {});
      } catch (e) {
        if (!(e instanceof MmsaError)) throw e;
        problems.push({ code: e.code, ...row.at, id: row.id, column: mod, message: e.message });
        list.push({ matrix: undefined });
        continue;
      }
      const first = firstOf.get(mod);
      if (!first) firstOf.set(mod, { dims: m.dims, ...(m.columns ? { columns: m.columns } : {}), file: shown, at: row.at });
      else if (first.dims !== m.dims || (first.columns && m.columns && first.columns.join('\u0000') !== m.columns.join('\u0000'))) {
        const cols = first.columns && m.columns ? `; columns differ: ${diffColumns(first.columns, m.columns)}` : '';
        problems.push({ code: RAGGED_DIMS, ...row.at, id: row.id, column: mod, file: shown, message: `${m.dims} feature dims, but ${first.file} (${describePlace(first.at)}) has ${first.dims}${cols}` });
        list.push({ matrix: undefined });
        continue;
      }
      checkFinite(m, row, mod, shown, o, problems, notes);
      const cap = o.maxFrames?.[mod];
      if (cap !== undefined && m.frames > cap) {
        truncated[mod] = (truncated[mod] ?? 0) + 1;
        m = { ...m, data: m.data.slice(0, cap * m.dims), frames: cap };
      }
      if (m.frames === 0) notes.push(`${shown} (id ${row.id}, ${mod}): no frames; the modality counts as missing for this sample`);
      list.push({ matrix: m });
    }
    o.onProgress?.(i + 1, table.rows.length);
  });
  for (const mod of table.modalities) {
    if (!firstOf.has(mod) && !problems.some((p) => p.column === mod)) problems.push({ code: FEATURE_FILE, column: mod, message: `no row has a feature file for modality '${mod}'` });
  }
  const bySplit: Record<SplitName, number[]> = { train: [], valid: [], test: [] };
  table.rows.forEach((r, i) => bySplit[r.split].push(i));
  for (const s of SPLITS) {
    if (bySplit[s].length === 0 && table.rows.length > 0) problems.push({ code: 'MSA6040', column: 'split', message: `no sample in split '${s}': MMSA's layout has train, valid and test` });
  }
  if (problems.length > 0) throw problemsError(samplesCsv, problems);

  // Token ids for the texts (one length for all splits, as MMSA's files).
  let textLen = 0;
  let textTrunc = 0;
  let encoded: { ids: number[]; mask: number[]; types: number[] }[] | undefined;
  if (tokenizer) {
    const counts = table.rows.map((r) => tokenizer.tokenize(r.text).length + 2);
    textLen = o.textLen ?? Math.min(512, Math.max(2, ...counts));
    textTrunc = counts.filter((c) => c > textLen).length;
    encoded = table.rows.map((r) => tokenizer.encode(r.text, textLen));
  }

  const modalities: BuiltModality[] = table.modalities.map((name) => {
    const list = loaded.get(name)!;
    const first = firstOf.get(name)!;
    const frames = Math.max(1, ...list.map((l) => l.matrix?.frames ?? 0));
    return { name, frames, dims: first.dims, missing: missing[name] ?? 0, truncated: truncated[name] ?? 0, ...(first.columns ? { columns: first.columns } : {}) };
  });

  let bytes = 0;
  const value: Record<string, Record<string, PyWritable>> = {};
  for (const s of SPLITS) {
    const idx = bySplit[s];
    const n = idx.length;
    const split: Record<string, PyWritable> = {
      id: idx.map((i) => table.rows[i]!.id),
      raw_text: idx.map((i) => table.rows[i]!.text),
    };
    if (encoded) {
      const tb = new BigInt64Array(n * 3 * textLen);
      idx.forEach((i, k) => {
        const e = encoded![i]!;
        for (let p = 0; p < textLen; p++) {
          tb[(k * 3) * textLen + p] = BigInt(e.ids[p]!);
          tb[(k * 3 + 1) * textLen + p] = BigInt(e.mask[p]!);
          tb[(k * 3 + 2) * textLen + p] = BigInt(e.types[p]!);
        }
      });
      split['text_bert'] = ndarray(tb, [n, 3, textLen]);
      bytes += tb.byteLength;
    }
    for (const m of modalities) {
      const list = loaded.get(m.name)!;
      const x = new Float32Array(n * m.frames * m.dims);
      const lens = new Array<number>(n).fill(0);
      idx.forEach((i, k) => {
        const mat = list[i]!.matrix;
        if (!mat) return;
        x.set(mat.data, k * m.frames * m.dims);
        lens[k] = mat.frames;
      });
      split[m.name] = ndarray(x, [n, m.frames, m.dims]);
      split[`${m.name}_lengths`] = int64Array(lens);
      bytes += x.byteLength + 8 * n;
    }
    for (const h of table.heads) {
      split[labelKey(h)] = ndarray(Float32Array.from(idx, (i) => table.rows[i]!.labels[h]!), [n]);
      bytes += 4 * n;
    }
    value[s] = split;
  }
  const labels = table.heads.map((h) => {
    const v = table.rows.map((r) => r.labels[h]!);
    return { head: h, key: labelKey(h), min: Math.min(...v), max: Math.max(...v) };
  });
  for (const m of modalities) if (m.truncated > 0) notes.push(`${m.name}: ${m.truncated} sample(s) cut to ${m.frames} frames (max frames)`);
  if (textTrunc > 0) notes.push(`text: ${textTrunc} text(s) longer than ${textLen} tokens were cut`);
  return {
    value,
    bytes,
    report: {
      splits: { train: bySplit.train.length, valid: bySplit.valid.length, test: bySplit.test.length },
      modalities,
      labels,
      text: table.hasText,
      ...(encoded ? { textBert: { length: textLen, truncated: textTrunc } } : {}),
      notes,
    },
  };
}

function diffColumns(a: string[], b: string[]): string {
  const onlyA = a.filter((c) => !b.includes(c));
  const onlyB = b.filter((c) => !a.includes(c));
  const parts = [...(onlyA.length ? [`missing ${onlyA.slice(0, 5).join(', ')}`] : []), ...(onlyB.length ? [`extra ${onlyB.slice(0, 5).join(', ')}`] : [])];
  return parts.length ? parts.join('; ') : 'same names in another order';
}

/** Builds and writes `out` (a temporary beside it, renamed when complete); refuses to replace a file without force. */
export function buildDataset(samplesCsv: string, out: string, o: BuildOptions = {}): BuildReport {
  if (existsSync(out) && !o.force) {
    throw new MmsaError('MSA6047', `${out} exists`, { hint: 'pass --force to replace it, or --out another file', details: { path: out } });
  }
  const { value, report, bytes: need } = assembleDataset(samplesCsv, o);
  const bytes = withWriteErrors(out, { what: 'the dataset', bytes: need, elsewhere: 'pass another --out' }, () => writePickleFile(out, value));
  return { out, bytes, ...report };
}
