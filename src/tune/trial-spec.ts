// A trial's spec: the searched spec with one setting applied at its paths, the `tune:` section dropped and (for a
// trial) eval.splits reduced to valid, so no trial reads the test split. Phase 3 (normalize), through compileFile.

import { compileFile, type CompileOptions, type CompileResult } from '../compiler/compile.js';
import type { DiagnosticBag } from '../compiler/diagnostics/diagnostic.js';
import { SourceFile, SourceHost } from '../compiler/source/source-file.js';
import { setSpecPath } from '../compiler/spec/spec-path.js';
import { fromValue, getEntry, nodeAt, type JsonValue, type SpecMap, type SpecNode } from '../compiler/spec/spec-tree.js';
import { assignmentsOf, type SpaceParam } from './space.js';
import type { Setting } from './strategies.js';

/** The tree change of a setting: values at their paths, no `tune`, and (unless `test`) eval.splits = [valid]. */
export function trialTransform(params: readonly SpaceParam[], setting: Setting, opts: { test: boolean }) {
  return (tree0: SpecNode, bag: DiagnosticBag): SpecNode => {
    let tree = tree0;
    for (const p of params) {
      if (!(p.name in setting)) continue;
      // Diagnostics about a value point at the parameter in tune.space (the trial has no file of its own).
      const span = nodeAt(tree0, ['tune', 'space', p.name])?.span ?? tree0.span;
      for (const a of assignmentsOf(p, setting[p.name]!)) {
        const r = setSpecPath(tree, a.path.segments, fromValue(a.value, span), span);
        if (r.ok) tree = r.tree;
        else bag.add('MSA3033', span, { path: a.path.text, detail: r.message, fix: r.hint ?? 'name an existing element' });
      }
    }
    if (tree.kind !== 'map') return tree;
    let map: SpecMap = { ...tree, entries: tree.entries.filter((e) => e.key !== 'tune') };
    if (!opts.test) {
      const evalEntry = getEntry(map, 'eval');
      const splits = fromValue(['valid'], evalEntry?.value.span ?? map.span);
      const r = setSpecPath(map, [{ key: 'eval' }, { key: 'splits' }], splits, map.span);
      if (r.ok && r.tree.kind === 'map') map = r.tree;
    }
    return map;
  };
}

export interface TrialCompileOptions extends Pick<CompileOptions, 'env' | 'dataRoot' | 'tunePreset'> {
  /** best.yaml: keep the spec's eval.splits (the chosen setting is tested). */
  test?: boolean;
}

export function compileTrial(file: string, params: readonly SpaceParam[], setting: Setting, opts: TrialCompileOptions = {}): CompileResult {
  const { test, ...rest } = opts;
  return compileFile(file, { ...rest, transform: trialTransform(params, setting, { test: Boolean(test) }) });
}

/**
 * Compiles a normalized spec value (a lock file's, a queued job's) as if it sat beside `file`, so relative paths
 * resolve as they did for the original spec.
 */
export function compileSpecValue(spec: JsonValue, path: string, opts: Pick<CompileOptions, 'env' | 'dataRoot'> = {}): CompileResult {
  const host = new SourceHost();
  host.add(new SourceFile(path, `${JSON.stringify(spec, null, 2)}\n`));
  return compileFile(path, { host, ...opts });
}

/** `rank=4 lr=0.0031`: a setting in one line, numbers to 4 significant digits. */
export function formatSetting(setting: Setting): string {
  return Object.entries(setting)
    .map(([k, v]) => `${shortName(k)}=${formatValue(v)}`)
    .join(' ');
}

export function formatValue(v: JsonValue): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString();
  return JSON.stringify(v);
}

/** The last key of a path (`train.optimizer.groups[subnets].lr` -> `subnets.lr`) for narrow tables. */
export function shortName(name: string): string {
  const parts = name.split('.');
  if (parts.length <= 2) return name;
  const last = parts.slice(-2).join('.');
  return last.replace(/^[^[]*\[([^\]]+)\]/, '$1');
}
