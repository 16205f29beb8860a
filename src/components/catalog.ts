// The component catalog: every encoder, fusion, head and task type, looked up by kind and type. The list is generated
// from the component folders (definitions.generated.ts). Read by phases 2-5 and by run (preparation).

import { setCatalogLookup, type ComponentDef, type ComponentKind } from './component.js';
import { DEFINITIONS } from './definitions.generated.js';

export const CATALOG: readonly ComponentDef[] = DEFINITIONS;

const BY_KEY = new Map<string, ComponentDef>(CATALOG.map((c) => [`${c.kind}:${c.type}`, c]));

export function getComponent(kind: ComponentKind, type: string): ComponentDef | undefined {
  return BY_KEY.get(`${kind}:${type}`);
}

setCatalogLookup(getComponent);

/** The definition behind a spec entry of a kind (`{type: lstm, ...}`), if its type is known. */
export function componentOf(kind: ComponentKind, entry: unknown): ComponentDef | undefined {
  const type = entry !== null && typeof entry === 'object' ? (entry as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? getComponent(kind, type) : undefined;
}

/** The types of one kind, sorted (the order of ENCODER_TYPES etc. and of "known types" hints). */
export function componentTypes(kind: ComponentKind): string[] {
  return CATALOG.filter((c) => c.kind === kind)
    .map((c) => c.type)
    .sort();
}
