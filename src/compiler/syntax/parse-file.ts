// Picks the front end by file extension (.yaml/.yml -> YAML, .mmsa -> DSL) and loads the file.
// Phases 0-1 (load, parse). The DSL front end (chevrotain and its ~700 modules) is loaded only when a .mmsa file is
// met, so `mmsa check` of YAML specs starts fast; synchronous callers load it first with loadDslFrontEnd().

import { extname, relative } from 'node:path';
import { DiagnosticBag } from '../diagnostics/diagnostic.js';
import { SourceFile, type SourceHost } from '../source/source-file.js';
import { parseYaml, type ParseResult } from './yaml/parse-yaml.js';

/** Paths in messages read as the user would write them: relative to the working directory when inside it. */
function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
}

export function specFormat(path: string): 'yaml' | 'dsl' | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.mmsa') return 'dsl';
  return undefined;
}

type ParseDsl = (file: SourceFile) => ParseResult;
let parseDsl: ParseDsl | undefined;

/** Makes .mmsa files parseable by the synchronous compiler (idempotent). */
export async function loadDslFrontEnd(): Promise<void> {
  if (!parseDsl) parseDsl = (await import('./dsl/parse-dsl.js')).parseDsl;
}

/** For modules that import the DSL statically anyway (the public API). */
export function useDslFrontEnd(parse: ParseDsl): void {
  parseDsl = parse;
}

/** Thrown (an internal signal, never shown) when a .mmsa file is parsed before loadDslFrontEnd(); see compileFileAsync. */
export class DslFrontEndNotLoaded extends Error {
  constructor(readonly path: string) {
    super(`the .mmsa front end is not loaded (call loadDslFrontEnd() before compiling ${path})`);
  }
}

/** Loads and parses one spec file; I/O problems become MSA1004 diagnostics, never exceptions. */
export function parseSpecFile(path: string, host: SourceHost): ParseResult {
  const bag = new DiagnosticBag();
  let file: SourceFile;
  try {
    file = host.load(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
    host.add(new SourceFile(path, ''));
    bag.add('MSA1004', { file: path, start: 0, end: 0 }, { path: displayPath(path), reason });
    return { tree: undefined, diagnostics: bag.items };
  }
  const format = specFormat(path);
  if (format === 'dsl') {
    if (!parseDsl) throw new DslFrontEndNotLoaded(path);
    return parseDsl(file);
  }
  if (format === 'yaml') return parseYaml(file);
  bag.add('MSA1015', file.span(0, 0), { path: displayPath(path) });
  return { tree: undefined, diagnostics: bag.items };
}
