// `mmsa import CHECKPOINT.pth --pipeline SPEC`: compile the pipeline (diagnostics like `mmsa check`), then read,
// match and import MMSA's state_dict (tfjs loaded lazily) and print what went where. Exit codes: 0 ok, 1 failed, 2 usage.

import { resolve } from 'node:path';
import { compileFileAsync } from '../compiler/compile.js';
import { hasErrors } from '../compiler/diagnostics/diagnostic.js';
import { SourceHost } from '../compiler/source/source-file.js';
import { MmsaError } from '../errors.js';
import type { BackendName } from '../runtime/backend.js';
import type { ImportOutcome } from '../runtime/import-run.js';
import { jsonReplacer } from '../runtime/run-dir.js';
import type { Io } from './main.js';
import { parseKernelOptions, printDiagnostics, usage } from './run-commands.js';

export interface ImportCommandOptions {
  pipeline?: string;
  extraTensors?: string;
  out?: string;
  dataRoot?: string;
  /** commander's `--no-eval`: false when given. */
  eval?: boolean;
  force?: boolean;
  format?: 'text' | 'json';
  backend?: BackendName;
  native?: string;
  threads?: string | number;
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** The text report: where each MMSA module went, what was skipped, and the evaluation. */
export function formatImportReport(o: ImportOutcome, modules: Readonly<Record<string, string>>, cwd: string): string {
  const rel = (p: string) => (p.startsWith(`${cwd}/`) ? p.slice(cwd.length + 1) : p);
  const c = o.checkpoint;
  const L: string[] = [`imported ${rel(c.file)} (torch.save ${c.format}, ${o.checkpointTensors} tensors, sha256 ${c.sha256.slice(0, 16)}...) into ${rel(o.runDir)}`];
  if (o.extra) L.push(`  with ${o.extra.tensors.size} extra tensors from ${rel(o.extra.file)} (sha256 ${o.extra.sha256.slice(0, 16)}...)`);
  const groups = new Map<string, number>();
  for (const t of o.match.tensors) groups.set(t.module, (groups.get(t.module) ?? 0) + 1);
  const w = Math.max(...[...groups.keys()].map((k) => (modules[k] ?? '').length), 0) + 2;
  const w2 = Math.max(...[...groups.keys()].map((k) => k.length), 0) + 2;
  for (const [entry, n] of groups) L.push(`  ${pad(modules[entry] ?? '?', w)}-> ${pad(entry, w2)}${String(n).padStart(3)} tensor${n === 1 ? '' : 's'}`);
  for (const k of o.match.ignored) L.push(`  skipped ${k} (no parameter here, by the component's declaration or the pipeline's mmsa_ignore)`);
  if (o.match.unsaved.length > 0) {
    const nodes = [...new Set(o.match.unsaved.map((n) => n.node))].join(', ');
    L.push(
      `  note: ${o.match.unsaved.length} tensors of ${nodes} are in no MMSA checkpoint (MMSA's model keeps them outside its state_dict, e.g. ${o.match.unsaved[0]!.mmsa}); ` +
        'they keep their initial values here, so predictions differ from MMSA\'s own: pass --extra-tensors with those tensors exported from the MMSA process to reproduce them',
    );
  }
  for (const k of o.match.unused) L.push(`  note: mmsa_modules entry '${k}' (${modules[k] ?? ''}) names no parameter of this pipeline`);
  const metrics = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k} ${Number.isFinite(v) ? v.toFixed(4) : 'nan'}`).join('  ');
  if (o.valid && o.test) {
    L.push(`valid: ${metrics(o.valid.metrics)}`);
    L.push(`test:  ${metrics(o.test.metrics)}`);
  } else {
    L.push(`not evaluated: ${o.notEvaluated ?? 'no data'}`);
  }
  L.push(`next: mmsa predict ${rel(o.runDir)}   |   mmsa report ${rel(o.runDir)}`);
  return `${L.join('\n')}\n`;
}

export async function importCommand(checkpoint: string, opts: ImportCommandOptions, io: Io): Promise<number> {
  if (!opts.pipeline) return usage(io, "mmsa import needs --pipeline <spec>: the pipeline of the MMSA model and dataset config the checkpoint was trained with (e.g. --pipeline pipelines/tfn_mosi.yaml)");
  const kernels = parseKernelOptions(opts);
  if (kernels instanceof Error) return usage(io, kernels.message);
  const json = opts.format === 'json';
  const host = new SourceHost();
  const dataRoot = opts.dataRoot ? resolve(io.cwd, opts.dataRoot) : undefined;
  const compiled = await compileFileAsync(resolve(io.cwd, opts.pipeline), { env: io.env, host, ...(dataRoot ? { dataRoot } : {}) });
  if (compiled.diagnostics.length > 0) printDiagnostics(compiled.diagnostics, host, io);
  if (hasErrors(compiled.diagnostics) || !compiled.ir || !compiled.spec) return 1;
  try {
    const { importMmsaCheckpoint } = await import('../runtime/import-run.js');
    const outcome = await importMmsaCheckpoint(compiled, {
      checkpoint: resolve(io.cwd, checkpoint),
      ...(opts.extraTensors ? { extraTensors: resolve(io.cwd, opts.extraTensors) } : {}),
      outRoot: resolve(io.cwd, 'runs'),
      ...(opts.out ? { outDir: resolve(io.cwd, opts.out) } : {}),
      ...(dataRoot ? { dataRoot } : {}),
      ...(opts.force ? { force: true } : {}),
      ...(opts.eval === false ? { evaluate: false } : {}),
      ...(opts.backend ? { backend: opts.backend } : {}),
      ...kernels,
      command: ['mmsa', 'import', checkpoint, '--pipeline', opts.pipeline, ...(opts.extraTensors ? ['--extra-tensors', opts.extraTensors] : []), ...(opts.out ? ['--out', opts.out] : []), ...(opts.eval === false ? ['--no-eval'] : [])],
    });
    const modules = compiled.spec.mmsa_modules ?? {};
    if (json) {
      io.out(
        `${JSON.stringify(
          {
            runDir: outcome.runDir,
            checkpoint: { file: outcome.checkpoint.file, format: outcome.checkpoint.format, sha256: outcome.checkpoint.sha256, tensors: outcome.checkpointTensors },
            ...(outcome.extra ? { extraTensors: { file: outcome.extra.file, sha256: outcome.extra.sha256, tensors: outcome.extra.tensors.size } } : {}),
            initialValues: outcome.match.unsaved.map((n) => ({ mmsa: n.mmsa, name: n.key, shape: n.shape })),
            tensors: outcome.match.tensors.map((t) => ({ mmsa: t.mmsa, name: t.key, shape: t.shape })),
            ignored: outcome.match.ignored,
            unusedModules: outcome.match.unused,
            ...(outcome.result ? { valid: outcome.valid!.metrics, test: outcome.test!.metrics } : { notEvaluated: outcome.notEvaluated }),
          },
          jsonReplacer,
          2,
        )}\n`,
      );
    } else {
      io.out(formatImportReport(outcome, modules, io.cwd));
    }
    return 0;
  } catch (e) {
    if (e instanceof MmsaError) {
      if (json) io.out(`${JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint, details: e.details } }, jsonReplacer, 2)}\n`);
      else io.err(`${e.format()}\n`);
      return 1;
    }
    throw e;
  }
}
