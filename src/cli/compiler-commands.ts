// `mmsa check`, `plan`, `compile`, `schema`: the compiler front end's commands (phases 0-5, no tfjs).
// Each returns its exit code: 0 no errors, 1 errors.

import { compileFileAsync, type CompileResult } from '../compiler/compile.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../compiler/diagnostics/diagnostic.js';
import { formatDiagnostics, toJsonDiagnostics } from '../compiler/diagnostics/format.js';
import { printPlan } from '../compiler/ir/print-plan.js';
import { evalMicroBatches, HEAP_USABLE_SHARE, planMemory, WASM_HEAP_LIMIT } from '../runtime/memory/plan-memory.js';
import { SourceHost } from '../compiler/source/source-file.js';
import { editorSchema, type EditorSchemaName } from '../compiler/schema/editor-schema.js';
import type { Io } from './main.js';
import { printTunePlan, resolveTune } from '../tune/tune-config.js';
import { parseSets, resolveSpecArg } from './resolve-spec.js';
import { resolve } from 'node:path';

interface CommonOptions {
  dataRoot?: string;
  /** --set KEY=VALUE, repeatable. */
  set?: string[];
}

function compileOpts(o: CommonOptions, io: Io, host: SourceHost) {
  return { env: io.env, host, ...(o.dataRoot ? { dataRoot: resolve(io.cwd, o.dataRoot) } : {}), ...(o.set?.length ? { set: o.set } : {}) };
}

/** Files or shipped pipeline names, and the --set arguments, checked before anything compiles (exit 2 when wrong). */
function specPaths(args: string[], o: CommonOptions, io: Io): string[] | undefined {
  const sets = parseSets(o.set);
  if (sets instanceof Error) {
    io.err(`error: ${sets.message}\n`);
    return undefined;
  }
  const out: string[] = [];
  for (const a of args) {
    const r = resolveSpecArg(a, io.cwd);
    if (r instanceof Error) {
      io.err(`error: ${r.message}\n`);
      return undefined;
    }
    out.push(r.path);
  }
  return out;
}

function report(ds: Diagnostic[], host: SourceHost, io: Io, format: 'text' | 'json' = 'text'): void {
  if (format === 'json') {
    io.out(`${JSON.stringify(toJsonDiagnostics(ds, host, { cwd: io.cwd }), null, 2)}\n`);
    return;
  }
  const text = formatDiagnostics(ds, host, { cwd: io.cwd, color: io.isTTY && !io.env['NO_COLOR'] });
  if (text) io.err(text);
}

export async function checkCommand(files: string[], o: CommonOptions & { format: 'text' | 'json' }, io: Io): Promise<number> {
  const host = new SourceHost();
  const all: Diagnostic[] = [];
  const results: CompileResult[] = [];
  const paths = specPaths(files, o, io);
  if (!paths) return 2;
  for (const f of paths) {
    const r = await compileFileAsync(f, compileOpts(o, io, host));
    results.push(r);
    for (const d of r.diagnostics) all.push(d);
  }
  const ds = sortDiagnostics(all);
  report(ds, host, io, o.format);
  if (o.format === 'text') {
    const ok = results.filter((r) => !hasErrors(r.diagnostics)).length;
    io.err(`${ok === results.length ? 'ok' : 'failed'}: ${ok} of ${results.length} spec${results.length === 1 ? '' : 's'} passed\n`);
  }
  return hasErrors(ds) ? 1 : 0;
}

export async function planCommand(file: string, o: CommonOptions & { verbose?: boolean; format: 'text' | 'json' }, io: Io): Promise<number> {
  const host = new SourceHost();
  const path = specPaths([file], o, io)?.[0];
  if (!path) return 2;
  const r = await compileFileAsync(path, compileOpts(o, io, host));
  if (hasErrors(r.diagnostics) || !r.ir) {
    report(r.diagnostics, host, io, o.format);
    return 1;
  }
  if (r.diagnostics.length) report(r.diagnostics, host, io, 'text');
  const tune = r.spec ? resolveTune(r.spec) : undefined;
  if (o.format === 'json') io.out(`${JSON.stringify(tune ? { ...r.ir, tune } : r.ir, irReplacer(io.cwd), 2)}\n`);
  else io.out(printPlanText(r, { cwd: io.cwd, verbose: Boolean(o.verbose) }));
  return 0;
}

/** The text of `mmsa plan`: the compiled plan, then the search when the spec has a `tune:` section. */
export function printPlanText(r: CompileResult, o: { cwd: string; verbose?: boolean }): string {
  const tune = r.spec ? resolveTune(r.spec) : undefined;
  // The micro-batches a run on the default backend would take: 'auto' resolved against the wasm heap alone (not this
  // machine's free memory, which the run itself checks), so the plan reads the same everywhere.
  const limits = { backendBytes: WASM_HEAP_LIMIT, hostBytes: Number.POSITIVE_INFINITY };
  const memory = planMemory(r.ir!, limits);
  // mmsa run evaluates in the training's chunks, the commands that only evaluate in as many as their evaluation needs;
  // say so where a whole batch would not fit the heap for it either.
  const whole = memory.microBatches > 1 ? planMemory(r.ir!, limits, { microBatches: 1 }) : undefined;
  const needBytes = whole ? whole.estimate.evalBackend / HEAP_USABLE_SHARE : 0;
  const wholeEvaluation = whole && needBytes > WASM_HEAP_LIMIT ? { needBytes, heapBytes: WASM_HEAP_LIMIT } : undefined;
  const plan = printPlan(r.ir!, { ...o, microBatches: memory.microBatches, evalMicroBatches: evalMicroBatches(r.ir!, limits), ...(wholeEvaluation ? { wholeEvaluation } : {}), ...(r.spec?.mmsa_modules ? { mmsaModules: r.spec.mmsa_modules } : {}) });
  return `${plan}${tune ? `\n${printTunePlan(tune)}` : ''}`;
}

/** Spans in IR JSON print as `file:line:col`-free offsets relative to cwd, keeping output stable across machines. */
function irReplacer(cwd: string) {
  return (key: string, value: unknown) => {
    if ((key === 'span' || key === 'file' || key === 'manifestPath') && value && typeof value === 'object' && 'file' in (value as object)) {
      const s = value as { file: string; start: number; end: number };
      return { file: relativeTo(cwd, s.file), start: s.start, end: s.end };
    }
    if ((key === 'file' || key === 'manifestPath') && typeof value === 'string' && value.startsWith('/')) return relativeTo(cwd, value);
    return value;
  };
}

function relativeTo(cwd: string, p: string): string {
  const rel = p.startsWith(cwd + '/') ? p.slice(cwd.length + 1) : p;
  return rel;
}

export async function compileCommand(file: string, o: CommonOptions & { emit: 'spec' | 'ir' }, io: Io): Promise<number> {
  const host = new SourceHost();
  const path = specPaths([file], o, io)?.[0];
  if (!path) return 2;
  const r = await compileFileAsync(path, compileOpts(o, io, host));
  if (hasErrors(r.diagnostics)) {
    report(r.diagnostics, host, io);
    return 1;
  }
  if (o.emit === 'spec') io.out(`${JSON.stringify(r.spec, null, 2)}\n`);
  else io.out(`${JSON.stringify(r.ir, irReplacer(io.cwd), 2)}\n`);
  return 0;
}

export function schemaCommand(o: { what: EditorSchemaName }, io: Io): number {
  io.out(`${JSON.stringify(editorSchema(o.what), null, 2)}\n`);
  return 0;
}
