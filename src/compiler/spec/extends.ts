// Resolves `extends:` chains and deep-merges spec trees (base first), keeping every value's span in its own file.
// Phase 3 (normalize), first step: runs before schema validation so the merged spec is validated whole.

import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { SourceHost, Span } from '../source/source-file.js';
import { getEntry, type SpecEntry, type SpecMap, type SpecNode } from './spec-tree.js';
import type { ParseResult } from '../syntax/yaml/parse-yaml.js';

export interface LoadedSpec {
  tree: SpecNode | undefined;
  /** Files in the chain, entry first. */
  files: string[];
}

export interface ExtendsOptions {
  host: SourceHost;
  /** Parses one file by its extension (YAML or .mmsa). */
  parseFile(path: string): ParseResult;
  presetsDir: string;
}

const SPEC_EXTS = ['.yaml', '.yml', '.mmsa'];

function presetNames(dir: string): string[] {
  try {
    // Listing is only for the hint; failures just give an empty list.
    return readdirSync(dir)
      .filter((f) => SPEC_EXTS.includes(extname(f)))
      .map((f) => basename(f, extname(f)))
      .sort();
  } catch {
    return [];
  }
}

/** Where an `extends` target points: a path relative to the naming file, or a preset name. */
export function resolveExtendsTarget(target: string, fromFile: string, presetsDir: string): string | undefined {
  const looksLikePath = target.includes('/') || target.includes('\\') || SPEC_EXTS.includes(extname(target)) || target.startsWith('.');
  const candidates: string[] = [];
  if (looksLikePath) {
    const base = isAbsolute(target) ? target : resolve(dirname(fromFile), target);
    candidates.push(base, ...SPEC_EXTS.map((e) => base + e));
  } else {
    candidates.push(...SPEC_EXTS.map((e) => resolve(presetsDir, target + e)));
    // A bare name may also be a sibling file.
    candidates.push(...SPEC_EXTS.map((e) => resolve(dirname(fromFile), target + e)));
  }
  return candidates.find((c) => existsSync(c) && SPEC_EXTS.includes(extname(c)));
}

function extendsTargets(tree: SpecNode): { value: string; span: Span }[] {
  if (tree.kind !== 'map') return [];
  const e = getEntry(tree, 'extends');
  if (!e) return [];
  const v = e.value;
  if (v.kind === 'scalar' && typeof v.value === 'string') return [{ value: v.value, span: v.span }];
  if (v.kind === 'seq') {
    return v.items.flatMap((it) => (it.kind === 'scalar' && typeof it.value === 'string' ? [{ value: it.value, span: it.span }] : []));
  }
  return []; // wrong shapes are reported by the schema phase
}

/** Longest extends chain (a spec extends a preset that extends a base: three files). */
export const MAX_EXTENDS_DEPTH = 16;

/**
 * Loads `entry` and everything it extends, merged. Bases are merged in order (later bases override earlier ones),
 * then the file itself on top. The `extends` key is dropped from the result. Each file is read, parsed and merged
 * once however many files extend it (a diamond of extends costs as many loads as it has files, not 2^depth).
 */
export function loadWithExtends(entry: string, opts: ExtendsOptions, bag: DiagnosticBag): LoadedSpec {
  const files: string[] = [];
  const tree = loadRec(entry, opts, bag, [], files, new Map());
  return { tree, files };
}

function chainOf(paths: string[]): string {
  return paths.map((p) => basename(p)).join(' -> ');
}

function loadRec(path: string, opts: ExtendsOptions, bag: DiagnosticBag, stack: string[], files: string[], done: Map<string, SpecNode | undefined>): SpecNode | undefined {
  if (done.has(path)) return done.get(path);
  const merged = loadOne(path, opts, bag, stack, files, done);
  done.set(path, merged);
  return merged;
}

function loadOne(path: string, opts: ExtendsOptions, bag: DiagnosticBag, stack: string[], files: string[], done: Map<string, SpecNode | undefined>): SpecNode | undefined {
  const parsed = opts.parseFile(path);
  bag.pushAll(parsed.diagnostics);
  files.push(path);
  const tree = parsed.tree;
  if (!tree) return undefined;
  let merged: SpecNode | undefined;
  for (const t of extendsTargets(tree)) {
    const target = resolveExtendsTarget(t.value, path, opts.presetsDir);
    if (!target) {
      bag.add('MSA2101', t.span, { target: t.value, presets: presetNames(opts.presetsDir).join(', ') || 'none' });
      continue;
    }
    if (stack.includes(target) || target === path) {
      bag.add('MSA2102', t.span, { cycle: chainOf([...stack.slice(stack.indexOf(target) < 0 ? stack.length : stack.indexOf(target)), path, target]) });
      continue;
    }
    if (stack.length + 1 >= MAX_EXTENDS_DEPTH) {
      bag.add('MSA2109', t.span, { max: MAX_EXTENDS_DEPTH, chain: chainOf([...stack, path, target]) });
      continue;
    }
    const base = loadRec(target, opts, bag, [...stack, path], files, done);
    if (base) merged = merged ? mergeTrees(merged, base, bag) : base;
  }
  const own = dropKey(tree, 'extends');
  return merged ? mergeTrees(merged, own, bag) : own;
}

function dropKey(node: SpecNode, key: string): SpecNode {
  if (node.kind !== 'map') return node;
  return { ...node, entries: node.entries.filter((e) => e.key !== key) };
}

function componentType(node: SpecNode): string | undefined {
  if (node.kind !== 'map') return undefined;
  const t = getEntry(node, 'type');
  return t && t.value.kind === 'scalar' && typeof t.value.value === 'string' ? t.value.value : undefined;
}

/** A dataset map's kind: synthetic (`type`), a custom pickle (`path`) or a manifest's file (`name`, `file`). */
function datasetKind(node: SpecMap): string {
  if (getEntry(node, 'type')) return 'synthetic';
  return getEntry(node, 'path') ? 'custom' : 'named';
}

/**
 * Deep merge, `over` on top of `base`:
 * - maps merge key by key, recursively;
 * - lists and scalars replace;
 * - a map whose `type` differs from the base's (a component swapped for another) replaces the base map whole, and so
 *   does a dataset of another kind (a paper config's named file replaced by a custom pickle or synthetic data);
 * - a map over a non-map (or the reverse) replaces, with a warning, since that is usually a mistake.
 */
export function mergeTrees(base: SpecNode, over: SpecNode, bag: DiagnosticBag, key = ''): SpecNode {
  if (base.kind === 'map' && over.kind === 'map') {
    const bt = componentType(base);
    const ot = componentType(over);
    if (bt !== undefined && ot !== undefined && bt !== ot) return over;
    if (key === 'dataset' && datasetKind(base) !== datasetKind(over)) return over;
    const entries: SpecEntry[] = [];
    const overKeys = new Map(over.entries.map((e) => [e.key, e] as const));
    for (const e of base.entries) {
      const o = overKeys.get(e.key);
      if (o) {
        entries.push({ key: e.key, keySpan: o.keySpan, value: mergeTrees(e.value, o.value, bag, key ? `${key}.${e.key}` : e.key) });
        overKeys.delete(e.key);
      } else {
        entries.push(e);
      }
    }
    for (const e of over.entries) if (overKeys.has(e.key)) entries.push(e);
    const merged: SpecMap = { kind: 'map', span: over.span, entries };
    return merged;
  }
  // A null on either side is an unset value (mmsa_defaults' `clip: null`), not a mapping replaced by a scalar.
  const isNull = (n: SpecNode) => n.kind === 'scalar' && n.value === null;
  if (!isNull(over) && !isNull(base) && (base.kind === 'map') !== (over.kind === 'map')) {
    bag.add('MSA2108', over.span, { key: key || 'the spec', from: kindName(base), to: kindName(over) });
  }
  return over;
}

function kindName(n: SpecNode): string {
  return n.kind === 'map' ? 'a mapping' : n.kind === 'seq' ? 'a list' : `a ${n.value === null ? 'null' : typeof n.value}`;
}
