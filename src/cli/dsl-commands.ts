// `mmsa fmt` (canonical .mmsa formatting) and `mmsa convert` (YAML <-> .mmsa), phase 1 tools around the DSL.
// Each returns its exit code: 0 ok, 1 syntax errors or (with --check) unformatted files.

import { writeFileAtomic } from '../runtime/run-dir.js';
import { resolve } from 'node:path';
import { hasErrors } from '../compiler/diagnostics/diagnostic.js';
import { formatDiagnostics } from '../compiler/diagnostics/format.js';
import { SourceHost } from '../compiler/source/source-file.js';
import { convertDslToYaml, convertYamlToDsl, formatDsl } from '../compiler/syntax/dsl/print-dsl.js';
import { specFormat } from '../compiler/syntax/parse-file.js';
import type { Io } from './main.js';

function load(host: SourceHost, path: string, io: Io) {
  try {
    return host.load(path);
  } catch (err) {
    io.err(`error MSA1004: cannot read '${path}': ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}\n`);
    return undefined;
  }
}

export function fmtCommand(files: string[], o: { write?: boolean; check?: boolean }, io: Io): number {
  const host = new SourceHost();
  let code = 0;
  for (const f of files) {
    const path = resolve(io.cwd, f);
    if (specFormat(path) !== 'dsl') {
      io.err(`error MSA1015: ${f} is not a .mmsa file (mmsa fmt formats the pipeline language; YAML is left as written)\n`);
      code = 1;
      continue;
    }
    const file = load(host, path, io);
    if (!file) {
      code = 1;
      continue;
    }
    const r = formatDsl(file);
    if (r.text === undefined || hasErrors(r.diagnostics)) {
      io.err(formatDiagnostics(r.diagnostics, host, { cwd: io.cwd }));
      code = 1;
      continue;
    }
    if (o.check) {
      if (r.text !== file.text) {
        io.err(`${f}: not formatted (run mmsa fmt --write ${f})\n`);
        code = 1;
      }
    } else if (o.write) {
      if (r.text !== file.text) writeFileAtomic(path, r.text);
    } else {
      io.out(r.text);
    }
  }
  return code;
}

export function convertCommand(file: string, o: { out?: string }, io: Io): number {
  const host = new SourceHost();
  const path = resolve(io.cwd, file);
  const fmt = specFormat(path);
  if (!fmt) {
    io.err(`error MSA1015: unknown file type: ${file} (pipeline specs end in .yaml, .yml or .mmsa)\n`);
    return 1;
  }
  const src = load(host, path, io);
  if (!src) return 1;
  const r = fmt === 'yaml' ? convertYamlToDsl(src) : convertDslToYaml(src);
  if (r.text === undefined || hasErrors(r.diagnostics)) {
    io.err(formatDiagnostics(r.diagnostics, host, { cwd: io.cwd }));
    return 1;
  }
  if (o.out) {
    const out = resolve(io.cwd, o.out);
    const want = fmt === 'yaml' ? 'dsl' : 'yaml';
    if (specFormat(out) !== want) {
      io.err(`error: --out ${o.out} should end in ${want === 'dsl' ? '.mmsa' : '.yaml'}\n`);
      return 2;
    }
    writeFileAtomic(out, r.text);
    io.err(`wrote ${o.out}\n`);
  } else {
    io.out(r.text);
  }
  return 0;
}
