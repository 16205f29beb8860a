// The search space of a `tune:` section: each parameter's distribution and the spec paths it sets, grid
// enumeration, and how a drawn value becomes path assignments. Phase 4 (check) and the search driver; no tfjs.

import { parseSpecPath, type SpecPathSegment } from '../compiler/spec/spec-path.js';
import type { JsonValue } from '../compiler/spec/spec-tree.js';
import type { TuneParam } from '../compiler/spec/types.generated.js';

export type Distribution =
  | { kind: 'choice'; values: JsonValue[] }
  | { kind: 'int'; low: number; high: number }
  | { kind: 'uniform'; low: number; high: number }
  | { kind: 'loguniform'; low: number; high: number };

export type DistributionKind = Distribution['kind'];
export const DISTRIBUTION_KINDS: readonly DistributionKind[] = ['choice', 'int', 'uniform', 'loguniform'];

export interface SpaceParam {
  /** The key in `tune.space` (a spec path, or a label when `paths` is given). */
  name: string;
  /** Spec paths the parameter sets, as written and parsed. */
  paths: { text: string; segments: SpecPathSegment[] }[];
  /** True when the key is a label and `paths` lists what it sets. */
  joint: boolean;
  dist: Distribution;
}

/** Something wrong with one parameter (reported by the tune-space rule). */
export interface SpaceProblem {
  name: string;
  detail: string;
  /** Where in the parameter: the distribution key, `paths` (index), or the parameter itself. */
  at?: { key: string; index?: number };
}

/** Resolves every parameter; a parameter with a problem is left out of `params`. */
export function resolveSpace(space: Record<string, TuneParam> | undefined): { params: SpaceParam[]; problems: SpaceProblem[] } {
  const params: SpaceParam[] = [];
  const problems: SpaceProblem[] = [];
  for (const [name, p] of Object.entries(space ?? {})) {
    const kinds = DISTRIBUTION_KINDS.filter((k) => p[k] !== undefined);
    if (kinds.length !== 1) {
      problems.push({ name, detail: kinds.length === 0 ? 'give one distribution: choice, int, uniform or loguniform' : `give one distribution, not ${kinds.join(' and ')}`, ...(kinds.length > 1 ? { at: { key: kinds[1]! } } : {}) });
      continue;
    }
    const kind = kinds[0]!;
    let dist: Distribution;
    if (kind === 'choice') {
      dist = { kind, values: p.choice as JsonValue[] };
    } else {
      const [low, high] = p[kind] as [number, number];
      if (!(low < high)) {
        problems.push({ name, detail: `${kind} range [${low}, ${high}] is empty: low must be below high`, at: { key: kind } });
        continue;
      }
      dist = { kind, low, high };
    }
    const texts = p.paths ?? [name];
    const paths: SpaceParam['paths'] = [];
    let bad = false;
    texts.forEach((text, i) => {
      const r = parseSpecPath(text);
      if (!r.ok) {
        problems.push({ name, detail: r.message, ...(p.paths ? { at: { key: 'paths', index: i } } : {}) });
        bad = true;
      } else {
        paths.push({ text, segments: r.segments });
      }
    });
    if (bad) continue;
    if (p.paths && p.paths.length > 1 && dist.kind === 'choice') {
      const n = p.paths.length;
      const idx = dist.values.findIndex((v) => Array.isArray(v) && v.length !== n);
      if (idx >= 0) {
        problems.push({ name, detail: `choice value ${JSON.stringify(dist.values[idx])} has ${(dist.values[idx] as JsonValue[]).length} elements for ${n} paths (a list gives one element per path; any other value sets every path)`, at: { key: 'choice', index: idx } });
        continue;
      }
    }
    params.push({ name, paths, joint: Boolean(p.paths), dist });
  }
  return { params, problems };
}

/** The path assignments of one drawn value: with several paths a list gives one element per path. */
export function assignmentsOf(param: SpaceParam, value: JsonValue): { path: SpaceParam['paths'][number]; value: JsonValue }[] {
  if (param.paths.length > 1 && Array.isArray(value) && value.length === param.paths.length && param.dist.kind === 'choice') {
    return param.paths.map((path, i) => ({ path, value: value[i]! }));
  }
  return param.paths.map((path) => ({ path, value }));
}

/** Values a grid enumerates for a parameter, or undefined for a continuous range. */
export function gridValues(d: Distribution): JsonValue[] | undefined {
  if (d.kind === 'choice') return d.values;
  if (d.kind === 'int') return Array.from({ length: d.high - d.low + 1 }, (_, i) => d.low + i);
  return undefined;
}

/** Number of grid points (product of the value counts), or undefined when a parameter is continuous. */
export function gridSize(params: readonly SpaceParam[]): number | undefined {
  let n = 1;
  for (const p of params) {
    const v = gridValues(p.dist);
    if (!v) return undefined;
    n *= v.length;
  }
  return n;
}

/** The candidate values checked against the schema at compile time: every choice, the bounds of a range. */
export function probeValues(d: Distribution): { value: JsonValue; key: string; index: number }[] {
  if (d.kind === 'choice') return d.values.map((value, index) => ({ value, key: 'choice', index }));
  return [
    { value: d.low, key: d.kind, index: 0 },
    { value: d.high, key: d.kind, index: 1 },
  ];
}

/** `choice [8, 16, 32]`, `loguniform [0.0001, 0.01]`: how plans and tables describe a distribution. */
export function describeDistribution(d: Distribution): string {
  if (d.kind === 'choice') return `choice of ${d.values.length}: ${d.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${d.kind} [${d.low}, ${d.high}]`;
}

/** Paths no trial may change: what makes a trial a trial (its seeds and scoring), the data, the search itself. */
export const UNTUNABLE: readonly { prefix: string; why: string; fix: string }[] = [
  { prefix: 'tune', why: 'it is the search itself', fix: 'tune another spec path' },
  { prefix: 'seeds', why: 'each trial runs with tune.seeds', fix: 'set tune.seeds' },
  { prefix: 'eval', why: 'trials are scored on validation and the chosen setting once on test', fix: 'set the objective in tune.objective' },
  { prefix: 'train.select.split', why: 'model selection of a trial reads validation', fix: 'leave train.select.split at valid' },
  { prefix: 'train.early_stop.split', why: 'early stopping of a trial reads validation', fix: 'leave train.early_stop.split at valid' },
  { prefix: 'dataset', why: 'every trial must train and be scored on the same data', fix: 'tune one dataset per search' },
  { prefix: 'version', why: 'it is the spec format', fix: 'tune another spec path' },
  { prefix: 'name', why: 'trials keep the pipeline name', fix: 'tune another spec path' },
  { prefix: 'extends', why: 'it is resolved before any setting applies', fix: 'tune the values the preset sets' },
];

/** Why a path cannot be tuned, or undefined. */
export function untunable(segments: readonly SpecPathSegment[]): { why: string; fix: string } | undefined {
  const keys: string[] = [];
  for (const s of segments) {
    if (!('key' in s)) break;
    keys.push(s.key);
  }
  const dotted = keys.join('.');
  return UNTUNABLE.find((u) => dotted === u.prefix || dotted.startsWith(`${u.prefix}.`));
}
