// Which spec a command means: a file, the name of a shipped pipeline (`lmf_mosi`), or MMSA's `-m MODEL -d DATASET`
// pair, which names the shipped paper config as `python -m MMSA -d mosi -m lmf` does; and the shape of `--set`
// arguments. Phase: CLI (before phase 0).

import { existsSync, readdirSync } from 'node:fs';
import { extname, relative, resolve } from 'node:path';
import { pipelinesDir } from '../paths.js';
import { didYouMean } from '../core/did-you-mean.js';
import { parseOverride } from '../compiler/spec/overrides.js';

/** MMSA's defaults when only one of -m / -d is given (MMSA/__main__.py: lf_dnn on sims). */
export const MMSA_DEFAULT_MODEL = 'lf_dnn';
export const MMSA_DEFAULT_DATASET = 'sims';

export interface ResolvedSpec {
  path: string;
  /** Said on stderr when the spec was found by name, so the user knows which file runs. */
  note?: string;
}

/** Shipped pipeline names (`lmf_mosi`, `demo_tfn`), from pipelines/*.yaml. */
export function shippedPipelines(): string[] {
  try {
    return readdirSync(pipelinesDir())
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -'.yaml'.length))
      .sort();
  } catch {
    return [];
  }
}

function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** A spec argument: an existing file wins; a bare name that is no file names a shipped pipeline. */
export function resolveSpecArg(arg: string, cwd: string): ResolvedSpec | Error {
  const path = resolve(cwd, arg);
  if (existsSync(path)) return { path };
  const bare = !arg.includes('/') && !arg.includes('\\') && extname(arg) === '';
  if (!bare) return { path }; // the compiler reports the missing file (MSA1004)
  const shipped = shippedPipelines();
  if (shipped.includes(arg)) {
    const p = resolve(pipelinesDir(), `${arg}.yaml`);
    return { path: p, note: `${arg}: the shipped pipeline ${shown(p, cwd)}` };
  }
  const guess = didYouMean(arg, shipped);
  return new Error(`'${arg}' is neither a file nor a shipped pipeline.${guess ? ` Did you mean '${guess}'?` : ''} Shipped pipelines: ${shipped.join(', ')}`);
}

/** `-m MODEL -d DATASET` (either may be left to MMSA's default); `-d synthetic` picks the model's demo pipeline. */
export function resolveModelDataset(model: string | undefined, dataset: string | undefined, cwd: string): ResolvedSpec | Error {
  const m = model ?? MMSA_DEFAULT_MODEL;
  const d = dataset ?? MMSA_DEFAULT_DATASET;
  const name = d === 'synthetic' ? `demo_${m}` : `${m}_${d}`;
  const p = resolve(pipelinesDir(), `${name}.yaml`);
  if (!existsSync(p)) return new Error(`no shipped pipeline for model '${m}' on dataset '${d}' (${name}.yaml)`);
  const defaults = [model === undefined ? `model ${m}` : '', dataset === undefined ? `dataset ${d}` : ''].filter(Boolean);
  const what = d === 'synthetic' ? 'the demo on synthetic data' : "MMSA's paper config";
  return { path: p, note: `-m ${m} -d ${d}: ${shown(p, cwd)} (${what})${defaults.length ? `; ${defaults.join(' and ')} as MMSA's default` : ''}` };
}

/** `--set` arguments, each checked for its KEY=VALUE shape (the schema pass checks the values). */
export function parseSets(v: string[] | string | undefined): string[] | Error {
  const all = v === undefined ? [] : Array.isArray(v) ? v : [v];
  for (const a of all) {
    const p = parseOverride(a);
    if (p instanceof Error) return p;
  }
  return all;
}
