// `mmsa data inspect`: summarises a feature pickle (splits, keys, dtypes, shapes, label and length statistics,
// -inf/NaN counts) as data and as an aligned text table. Phase 7 (execute) tooling / CLI.

import { stat } from 'node:fs/promises';
import { MmsaError, printable } from '../../errors.js';
import { NDArray, readPickle, type PyValue } from './pickle/read-pickle.js';
import { toNumeric, toStrings } from './load-dataset.js';

export interface KeyStats {
  /** Over finite values. */
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation (numpy's default ddof=0). */
  std: number;
  /** Count of exact zeros. */
  zeros: number;
  /** Finite values counted. */
  count: number;
}

export interface KeyInfo {
  key: string;
  /** 'array' for numpy arrays, 'list' for Python lists, else the Python type. */
  kind: 'array' | 'list' | 'dict' | 'scalar' | 'other';
  /** numpy descriptor (`<f4`, `>f4`, `<i8`, `<U14`, `|O`) or `list[int]`, `list[str]`. */
  dtype: string;
  shape: number[];
  role: 'label' | 'lengths' | 'tokens' | 'feature' | 'text' | 'other';
  stats?: KeyStats;
  /** Non-finite counts, for float arrays. */
  negInf?: number;
  posInf?: number;
  nan?: number;
  /** First string, for string keys. */
  example?: string;
}

export interface SplitInfo {
  name: string;
  /** Samples (the most common first-axis size of the split's keys). */
  n: number;
  keys: KeyInfo[];
}

export interface InspectReport {
  file: string;
  bytes: number;
  splits: SplitInfo[];
}

function roleOf(key: string, ndim: number, isString: boolean): KeyInfo['role'] {
  if (isString) return 'text';
  if (/label/i.test(key)) return 'label';
  if (/_lengths?$/i.test(key)) return 'lengths';
  if (/bert/i.test(key) && ndim === 3) return 'tokens';
  if (ndim >= 2) return 'feature';
  return 'other';
}

function statsOf(d: ArrayLike<number>): { stats: KeyStats; negInf: number; posInf: number; nan: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let count = 0;
  let zeros = 0;
  let negInf = 0;
  let posInf = 0;
  let nan = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (v === -Infinity) negInf++;
    else if (v === Infinity) posInf++;
    else if (v !== v) nan++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      count++;
      if (v === 0) zeros++;
    }
  }
  const mean = count ? sum / count : NaN;
  let ss = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (Number.isFinite(v)) ss += (v - mean) * (v - mean);
  }
  return { stats: { min: count ? min : NaN, max: count ? max : NaN, mean, std: count ? Math.sqrt(ss / count) : NaN, zeros, count }, negInf, posInf, nan };
}

function listDtype(v: PyValue[]): string {
  const kinds = new Set(v.map((x) => (typeof x === 'number' ? (Number.isInteger(x) ? 'int' : 'float') : typeof x === 'bigint' ? 'int' : typeof x === 'string' ? 'str' : x instanceof Uint8Array ? 'bytes' : x instanceof NDArray ? `array ${x.descr}` : Array.isArray(x) ? 'list' : 'object')));
  if (kinds.has('float')) kinds.delete('int');
  return `list[${[...kinds].join('|') || 'empty'}]`;
}

function inspectValue(key: string, v: PyValue): KeyInfo {
  const strs = v instanceof NDArray ? (Array.isArray(v.data) ? (v.data as string[]) : undefined) : Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' || x instanceof Uint8Array) ? toStrings(v) : undefined;
  if (strs !== undefined && typeof strs !== 'string') {
    const shape = v instanceof NDArray ? [...v.shape] : [strs.length];
    const info: KeyInfo = { key, kind: v instanceof NDArray ? 'array' : 'list', dtype: v instanceof NDArray ? v.descr : 'list[str]', shape, role: 'text' };
    if (strs[0] !== undefined) info.example = strs[0];
    return info;
  }
  if (v instanceof Map) return { key, kind: 'dict', dtype: 'dict', shape: [v.size], role: 'other' };
  const num = toNumeric(v);
  if (typeof num === 'string') return { key, kind: 'other', dtype: num, shape: [], role: 'other' };
  const kind: KeyInfo['kind'] = v instanceof NDArray ? 'array' : Array.isArray(v) ? 'list' : 'scalar';
  const dtype = v instanceof NDArray ? v.descr : Array.isArray(v) ? listDtype(v) : typeof v;
  const info: KeyInfo = { key, kind, dtype, shape: num.shape, role: roleOf(key, num.shape.length, false) };
  const st = statsOf(num.data);
  info.stats = st.stats;
  const isFloat = v instanceof NDArray ? v.dtype.startsWith('float') : dtype.includes('float');
  if (isFloat) Object.assign(info, { negInf: st.negInf, posInf: st.posInf, nan: st.nan });
  return info;
}

/** Reads a whole feature pickle and summarises every split and key. */
export async function inspectPickle(file: string, opts: { onProgress?: (done: number, total: number) => void } = {}): Promise<InspectReport> {
  let bytes: number;
  try {
    bytes = (await stat(file)).size;
  } catch (e) {
    throw new MmsaError('MSA6031', `cannot read ${file}: ${(e as Error).message}`, { hint: 'check the path', details: { file } });
  }
  const top = await readPickle(file, opts.onProgress ? { onProgress: opts.onProgress } : {});
  if (!(top instanceof Map)) {
    throw new MmsaError('MSA6022', `${file}: not an MMSA feature file: the pickle holds ${top instanceof NDArray ? 'an array' : Array.isArray(top) ? 'a list' : typeof top}, expected a dict of splits`, { details: { file } });
  }
  const splits: SplitInfo[] = [];
  const loose: KeyInfo[] = [];
  for (const [k, v] of top) {
    if (v instanceof Map) {
      const keys = [...v].map(([kk, vv]) => inspectValue(String(kk), vv));
      splits.push({ name: String(k), n: commonN(keys), keys });
    } else loose.push(inspectValue(String(k), v));
  }
  // A flat dict of arrays (no split level) is reported as one pseudo-split.
  if (loose.length) splits.push({ name: splits.length ? '(top level)' : '(no splits)', n: commonN(loose), keys: loose });
  return { file, bytes, splits };
}

function commonN(keys: KeyInfo[]): number {
  const count = new Map<number, number>();
  for (const k of keys) if (k.shape.length) count.set(k.shape[0]!, (count.get(k.shape[0]!) ?? 0) + 1);
  let best = 0;
  let bestC = 0;
  for (const [n, c] of count) if (c > bestC) [best, bestC] = [n, c];
  return best;
}

function fmtNum(x: number | undefined): string {
  if (x === undefined || Number.isNaN(x)) return '-';
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(3);
  return x.toFixed(4);
}

function fmtBytes(b: number): string {
  if (b < 1024) return `${b} B`;
  if (b < 1024 ** 2) return `${(b / 1024).toFixed(1)} KiB`;
  if (b < 1024 ** 3) return `${(b / 1024 ** 2).toFixed(1)} MiB`;
  return `${(b / 1024 ** 3).toFixed(2)} GiB`;
}

/** Renders rows as columns padded to their widest cell (numbers right-aligned). */
export function alignTable(header: string[], rows: string[][], rightAlign: boolean[]): string {
  const w = header.map((h, i) => rows.reduce((m, r) => Math.max(m, (r[i] ?? '').length), h.length));
  const line = (r: string[]) => r.map((c, i) => (rightAlign[i] ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd();
  return [line(header), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}

/** The text form of `mmsa data inspect`. */
export function formatInspect(r: InspectReport): string {
  const out: string[] = [`${r.file} (${fmtBytes(r.bytes)})`, `splits: ${r.splits.map((s) => `${printable(s.name, 40)} ${s.n}`).join(', ')}`, ''];
  const header = ['split', 'key', 'dtype', 'shape', 'min', 'max', 'mean', 'std', 'zeros', '-inf', 'nan'];
  const right = [false, false, false, false, true, true, true, true, true, true, true];
  const rows: string[][] = [];
  for (const s of r.splits) {
    for (const k of s.keys) {
      const st = k.stats;
      // Mean/std/zeros describe labels and lengths; for feature tensors they mostly count padding, so only min/max.
      const perSample = k.shape.length === 1;
      // Split and key names come from the file: shown printable and short.
      rows.push([
        printable(s.name, 40),
        printable(k.key, 60),
        printable(k.dtype, 60),
        `[${k.shape.join(', ')}]`,
        fmtNum(st?.min),
        fmtNum(st?.max),
        perSample ? fmtNum(st?.mean) : '-',
        perSample ? fmtNum(st?.std) : '-',
        perSample && st ? String(st.zeros) : '-',
        k.negInf === undefined ? '-' : String(k.negInf),
        k.nan === undefined ? '-' : String(k.nan),
      ]);
    }
  }
  out.push(alignTable(header, rows, right));
  const pos = r.splits.flatMap((s) => s.keys.filter((k) => (k.posInf ?? 0) > 0).map((k) => `${printable(s.name, 40)}/${printable(k.key, 60)}: ${k.posInf} +inf`));
  if (pos.length) out.push('', `+inf values: ${pos.join('; ')}`);
  return out.join('\n') + '\n';
}
