// Parameter-group selectors: `*`, `node` (with `*` segment wildcards) and `node:substring`.
// Shared by the param-groups-cover rule (phase 4) and parameter-group building (phase 5).

export interface ParsedSelector {
  /** '*' = every parameter no explicit selector took. */
  rest: boolean;
  /** Node path pattern segments (`encoders`, `*`). */
  node: string[];
  /** Substring the parameter's local name must contain, if any. */
  contains?: string;
}

export function parseSelector(sel: string): ParsedSelector {
  if (sel === '*') return { rest: true, node: [] };
  const colon = sel.indexOf(':');
  const nodePart = colon >= 0 ? sel.slice(0, colon) : sel;
  const out: ParsedSelector = { rest: false, node: nodePart.split('.') };
  if (colon >= 0) out.contains = sel.slice(colon + 1);
  return out;
}

/** Whether a node id (`encoders.audio`) matches the selector's node pattern. */
export function selectorMatchesNode(sel: ParsedSelector, nodeId: string): boolean {
  if (sel.rest) return true;
  const segs = nodeId.split('.');
  if (segs.length !== sel.node.length) return false;
  return sel.node.every((p, i) => p === '*' || p === segs[i]);
}

/** Whether a parameter (`nodeId` + local name) matches an explicit (non-rest) selector. */
export function selectorMatchesParam(sel: ParsedSelector, nodeId: string, localName: string): boolean {
  if (sel.rest) return false;
  if (!selectorMatchesNode(sel, nodeId)) return false;
  return sel.contains === undefined || localName.includes(sel.contains);
}

export interface GroupInput {
  name: string;
  params: string[];
}

export interface ParamRef {
  nodeId: string;
  local: string;
}

export interface Assignment {
  /** Group index per parameter (full name), or undefined. */
  owner: Map<string, number>;
  /** Parameters claimed by more than one group: [param, first group, second group]. */
  conflicts: [string, number, number][];
  /** Selectors that matched nothing: [group index, selector index]. */
  unused: [number, number][];
}

/**
 * Assigns parameters to groups. Explicit selectors claim first; a group's `*` then takes every parameter no
 * explicit selector claimed (so the order of groups does not matter).
 */
export function assignGroups(groups: GroupInput[], params: ParamRef[]): Assignment {
  const owner = new Map<string, number>();
  const conflicts: [string, number, number][] = [];
  const unused: [number, number][] = [];
  const full = (p: ParamRef) => `${p.nodeId}.${p.local}`;
  groups.forEach((g, gi) => {
    g.params.forEach((s, si) => {
      const sel = parseSelector(s);
      if (sel.rest) return;
      let hit = false;
      for (const p of params) {
        if (!selectorMatchesParam(sel, p.nodeId, p.local)) continue;
        hit = true;
        const name = full(p);
        const prev = owner.get(name);
        if (prev === undefined) owner.set(name, gi);
        else if (prev !== gi) conflicts.push([name, prev, gi]);
      }
      if (!hit) unused.push([gi, si]);
    });
  });
  const restGroups = groups.map((g, gi) => (g.params.includes('*') ? gi : -1)).filter((gi) => gi >= 0);
  if (restGroups.length > 0) {
    const rest = params.filter((p) => !owner.has(full(p)));
    for (const p of rest) owner.set(full(p), restGroups[0]!);
    if (restGroups.length > 1 && rest.length > 0) conflicts.push([full(rest[0]!), restGroups[0]!, restGroups[1]!]);
    if (rest.length === 0) for (const gi of restGroups) unused.push([gi, groups[gi]!.params.indexOf('*')]);
  }
  return { owner, conflicts, unused };
}
