// Picks the front end by file extension (.yaml/.yml -> YAML, .mmsa -> DSL) and loads the file.
// Phases 0-1 (load, parse).

import { extname, relative } from 'node:path';
import { DiagnosticBag } from '../diagnostics/diagnostic.js';
import { SourceFile, type SourceHost } from '../source/source-file.js';
import { parseDsl } from './dsl/parse-dsl.js';
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
  if (format === 'dsl') return parseDsl(file);
  if (format === 'yaml') return parseYaml(file);
  bag.add('MSA1015', file.span(0, 0), { path: displayPath(path) });
  return { tree: undefined, diagnostics: bag.items };
}
