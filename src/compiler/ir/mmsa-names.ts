// MMSA's state_dict name of every parameter of a compiled pipeline: the pipeline's `mmsa_modules` says where MMSA's
// model keeps each node, the node's component adds its own names below that. Phase 5 (ir); read by `mmsa import`.

import { getComponent } from '../../components/catalog.js';
import type { ComponentKind, MmsaNames } from '../../components/component.js';
import type { Ir, IrNode } from './types.js';

export interface MmsaName {
  /** The parameter's full name here: `<node id>.<local name>`. */
  key: string;
  node: string;
  /** MMSA's state_dict name, or undefined when no `mmsa_modules` entry covers the node. */
  mmsa: string | undefined;
  shape: number[];
  buffer: boolean;
  /** The `mmsa_modules` entry that named it. */
  module?: string;
  /** MMSA's model never saves it (its component's declaration): a checkpoint need not hold it. */
  unsaved?: boolean;
}

export interface MmsaNaming {
  names: MmsaName[];
  /** MMSA names that MMSA's modules hold but that are no parameters here (skipped on import). */
  ignored: Set<string>;
  /** The pipeline's `mmsa_ignore`: MMSA modules (or tensors) whose tensors are skipped on import, all below them. */
  ignoredModules: string[];
  /** `mmsa_modules` entries that name no parameter of this pipeline (a component swapped, a frozen BERT read from features). */
  unused: string[];
  /** MMSA names given to more than one parameter (a wrong `mmsa_modules` entry). */
  clashes: { mmsa: string; keys: string[] }[];
}

export function isUnder(key: string, prefix: string): boolean {
  return key === prefix || key.startsWith(`${prefix}.`);
}

/** A local name under the component's own renames (the longest matching prefix wins). */
export function renameLocal(local: string, names: MmsaNames | undefined): string {
  let best: string | undefined;
  for (const from of Object.keys(names?.rename ?? {})) if (isUnder(local, from) && (best === undefined || from.length > best.length)) best = from;
  return best === undefined ? local : `${names!.rename![best]!}${local.slice(best.length)}`;
}

function componentNames(node: IrNode): MmsaNames | undefined {
  if (node.kind === 'input') return undefined;
  return getComponent(node.kind as ComponentKind, node.type)?.mmsaNames;
}

function unsavedNames(node: IrNode): Set<string> {
  if (node.kind === 'input') return new Set();
  const def = getComponent(node.kind as ComponentKind, node.type);
  return new Set(def?.mmsaUnsaved?.(node.config) ?? []);
}

/** MMSA's name for every parameter and buffer of `ir`, under the pipeline's `mmsa_modules` table. */
export function mapMmsaNames(ir: Ir, modules: Readonly<Record<string, string>> | undefined, ignoredModules: readonly string[] = []): MmsaNaming {
  const table = modules ?? {};
  const entries = Object.keys(table);
  const used = new Set<string>();
  const names: MmsaName[] = [];
  const ignored = new Set<string>();
  for (const node of ir.nodes) {
    const own = componentNames(node);
    const unsaved = unsavedNames(node);
    // Entries name the node or one of its sub-modules; the most specific one wins.
    const entryOf = (key: string): string | undefined => {
      let entry: string | undefined;
      for (const e of entries) if (isUnder(e, node.id) && isUnder(key, e) && (entry === undefined || e.length > entry.length)) entry = e;
      return entry;
    };
    const ignore = typeof own?.ignore === 'function' ? own.ignore(node.config) : (own?.ignore ?? []);
    for (const ign of ignore) {
      // Below the node's own module the name is MMSA's already; an entry for a sub-module names that part whole.
      const entry = entryOf(`${node.id}.${ign}`);
      if (entry === undefined) continue;
      ignored.add(entry === node.id ? `${table[entry]!}.${ign}` : `${table[entry]!}${`${node.id}.${ign}`.slice(entry.length)}`);
    }
    for (const p of node.params) {
      const key = `${node.id}.${p.name}`;
      const entry = entryOf(key);
      let mmsa: string | undefined;
      if (entry !== undefined) {
        used.add(entry);
        // The component renames its sub-modules only below the node itself; an entry for a sub-module names it whole.
        mmsa = entry === node.id ? `${table[entry]!}.${renameLocal(p.name, own)}` : `${table[entry]!}${key.slice(entry.length)}`;
      }
      names.push({ key, node: node.id, mmsa, shape: [...p.shape], buffer: p.buffer === true, ...(entry !== undefined ? { module: entry } : {}), ...(unsaved.has(p.name) ? { unsaved: true } : {}) });
    }
  }
  const byMmsa = new Map<string, string[]>();
  for (const n of names) if (n.mmsa !== undefined) byMmsa.set(n.mmsa, [...(byMmsa.get(n.mmsa) ?? []), n.key]);
  const clashes = [...byMmsa].filter(([, keys]) => keys.length > 1).map(([mmsa, keys]) => ({ mmsa, keys }));
  return { names, ignored, ignoredModules: [...ignoredModules], unused: entries.filter((e) => !used.has(e)), clashes };
}

/** Whether `mmsa import` skips an MMSA tensor: a component declared it, or it lies below the pipeline's `mmsa_ignore`. */
export function isIgnoredMmsaName(naming: Pick<MmsaNaming, 'ignored' | 'ignoredModules'>, key: string): boolean {
  return naming.ignored.has(key) || naming.ignoredModules.some((m) => isUnder(key, m));
}
