// SourceFile: a loaded spec file with its line map, and the span type every later phase points into.
// Phase 0 (load).

import { readFileSync } from 'node:fs';

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
  private readonly lineStarts: number[];

  constructor(path: string, text: string) {
    this.path = path;
    this.text = text;
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

  /** Reads a file from disk (or returns the cached copy); throws the fs error on I/O failure. */
  load(path: string): SourceFile {
    const cached = this.files.get(path);
    if (cached) return cached;
    return this.add(new SourceFile(path, readFileSync(path, 'utf8')));
  }
}
