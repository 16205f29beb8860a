// SourceFile: a loaded spec file with its line map, and the span type every later phase points into.
// Phase 0 (load).

import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

/**
 * Largest spec or manifest file read, in bytes. Specs are a few kilobytes; a bigger file is a mistake (data pasted in)
 * or an attack, and parsing it would only be slow, so it is reported (MSA1041) instead of parsed.
 */
export const MAX_SOURCE_BYTES = 1024 * 1024;
/** How much of an oversized file is read to point at its longest line. */
const OVERSIZE_PEEK = 16 * 1024 * 1024;

/** A reason the text of a file cannot be parsed at all: invalid UTF-8 (MSA1040) or too large (MSA1041). */
export interface SourceProblem {
  code: 'MSA1040' | 'MSA1041';
  /** Character offsets in the file's (decoded) text. */
  start: number;
  end: number;
  args: Record<string, unknown>;
}

/** A half-open byte range [start, end) of characters (UTF-16 code units) in one file. */
export interface Span {
  file: string;
  start: number;
  end: number;
}

export interface Position {
  /** 1-based line. */
  line: number;
  /** 1-based column, in characters. */
  column: number;
}

export class SourceFile {
  readonly path: string;
  readonly text: string;
  /** Set when the bytes on disk are not a parseable text (the text then shows what could be decoded). */
  readonly problem: SourceProblem | undefined;
  private readonly lineStarts: number[];

  constructor(path: string, text: string, problem?: SourceProblem) {
    this.path = path;
    this.text = text;
    this.problem = problem;
    const starts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
    this.lineStarts = starts;
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** 1-based line/column of an offset (clamped into the file). */
  positionAt(offset: number): Position {
    const off = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= off) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: off - (this.lineStarts[lo] ?? 0) + 1 };
  }

  offsetAt(pos: Position): number {
    const start = this.lineStarts[Math.max(0, Math.min(pos.line - 1, this.lineStarts.length - 1))] ?? 0;
    return Math.min(this.text.length, start + pos.column - 1);
  }

  lineText(line: number): string {
    const start = this.lineStarts[line - 1] ?? this.text.length;
    const next = this.lineStarts[line];
    const end = next === undefined ? this.text.length : next - 1;
    return this.text.slice(start, end).replace(/\r$/, '');
  }

  span(start: number, end: number): Span {
    return { file: this.path, start, end };
  }
}

/** Every file a compilation touched, so diagnostics can be printed with code frames. */
export class SourceHost {
  private readonly files = new Map<string, SourceFile>();

  add(file: SourceFile): SourceFile {
    this.files.set(file.path, file);
    return file;
  }

  get(path: string): SourceFile | undefined {
    return this.files.get(path);
  }

  /** Paths of every file read so far. */
  paths(): string[] {
    return [...this.files.keys()];
  }

  /**
   * Reads a file from disk (or returns the cached copy); throws the fs error on I/O failure, and an error with code
   * EISDIR / ENOTREG for a directory or anything but a regular file (a FIFO or device could block or never end).
   * Invalid UTF-8 and oversized files come back with a `problem` instead of being parsed.
   */
  load(path: string): SourceFile {
    const cached = this.files.get(path);
    if (cached) return cached;
    const st = statSync(path);
    if (st.isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
    if (!st.isFile()) throw Object.assign(new Error('it is not a regular file'), { code: 'ENOTREG' });
    if (st.size > MAX_SOURCE_BYTES) return this.add(oversized(path, st.size));
    return this.add(decodeSource(path, readFileSync(path)));
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** The text of a file's bytes; invalid UTF-8 becomes a problem located at its first bad byte (never replaced silently). */
export function decodeSource(path: string, bytes: Uint8Array): SourceFile {
  try {
    return new SourceFile(path, strictUtf8.decode(bytes));
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const text = lenientUtf8.decode(bytes);
    const at = lenientUtf8.decode(bytes.subarray(0, bad)).length;
    const byte = `0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')}`;
    return new SourceFile(path, text, { code: 'MSA1040', start: at, end: at + 1, args: { offset: bad, byte } });
  }
}

function oversized(path: string, size: number): SourceFile {
  const fd = openSync(path, 'r');
  let head: Uint8Array;
  try {
    head = new Uint8Array(Math.min(size, OVERSIZE_PEEK));
    let got = 0;
    while (got < head.length) {
      const n = readSync(fd, head, got, head.length - got, got);
      if (n === 0) break;
      got += n;
    }
    head = head.subarray(0, got);
  } finally {
    closeSync(fd);
  }
  const text = lenientUtf8.decode(head);
  // Point at the longest line: that is usually the pasted data.
  let best = 0;
  let bestStart = 0;
  let bestLine = 1;
  let start = 0;
  let line = 1;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || text.charCodeAt(i) === 10) {
      if (i - start > best) {
        best = i - start;
        bestStart = start;
        bestLine = line;
      }
      start = i + 1;
      line++;
    }
  }
  return new SourceFile(path, text, {
    code: 'MSA1041',
    start: bestStart,
    end: bestStart + best,
    args: { size: `${(size / 1048576).toFixed(1)} MiB (${size} bytes)`, max: `${MAX_SOURCE_BYTES / 1048576} MiB`, line: bestLine, length: best },
  });
}

/** Byte offset where the first ill-formed UTF-8 sequence starts (Unicode table 3-7), or the length when none is. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const x = b[i + k];
      if (x === undefined) return i;
      if (k === 1 ? x < lo || x > hi : x < 0x80 || x > 0xbf) return i;
    }
    i += need + 1;
  }
  return n;
}

/** Reports a file's problem (if any) and tells whether the file can be parsed. */
export function reportSourceProblem(file: SourceFile, add: (code: SourceProblem['code'], span: Span, args: Record<string, unknown>) => void): boolean {
  const p = file.problem;
  if (p === undefined) return true;
  add(p.code, file.span(p.start, p.end), p.args);
  return false;
}
