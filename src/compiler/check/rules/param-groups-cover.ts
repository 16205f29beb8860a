// Rule param-groups-cover: with explicit optimizer groups, every parameter (names from the catalog) is in exactly one
// group, and every selector selects something. No groups means one implicit group: nothing to check. Phase 4 (check).

import { getComponent } from '../../../components/catalog.js';
import type { ComponentKind } from '../../../components/component.js';
import type { Span } from '../../source/source-file.js';
import { assignGroups, parseSelector, selectorMatchesNode, selectorMatchesParam, type ParamRef } from '../../spec/selectors.js';
import { defineRule, type RuleContext } from '../rule.js';
import { declaredHere, encoders, fusionOf, heads, nodePath } from '../spec-graph.js';

interface NodeParams {
  id: string;
  /** Local parameter names, or undefined when the catalog cannot name them. */
  names: string[] | undefined;
}

function namesOf(kind: ComponentKind, params: unknown): string[] | undefined {
  const type = params !== null && typeof params === 'object' ? (params as { type?: unknown }).type : undefined;
  if (typeof type !== 'string') return undefined;
  const def = getComponent(kind, type);
  return def?.paramNames ? def.paramNames(params) : undefined;
}

/**
 * Keys like `valueOf` or `constructor` pass the schema's name pattern, but phase 3's default filling looks schemas up
 * by key and reads Object.prototype for them, so their params may arrive without defaults, which paramNames assumes.
 * Such nodes count as "parameters unknown" instead of crashing the phase.
 */
function safeKey(key: string): boolean {
  return !(key in Object.prototype);
}

function nodeParams(ctx: RuleContext): NodeParams[] {
  const out: NodeParams[] = [];
  for (const [k, e] of encoders(ctx.spec)) out.push({ id: `encoders.${k}`, names: safeKey(k) ? namesOf('encoder', e) : undefined });
  const f = fusionOf(ctx.spec);
  if (f) out.push({ id: 'fusion', names: namesOf('fusion', f) });
  for (const [k, h] of heads(ctx.spec)) out.push({ id: `heads.${k}`, names: safeKey(k) ? namesOf('head', h) : undefined });
  return out;
}

const MAX_LISTED = 8;

function listNames(names: string[]): string {
  const shown = names.slice(0, MAX_LISTED).map((n) => `'${n}'`).join(', ');
  return names.length > MAX_LISTED ? `${shown} and ${names.length - MAX_LISTED} more` : shown;
}

export default defineRule({
  id: 'param-groups-cover',
  description: 'optimizer groups cover every parameter exactly once; no selector is idle',
  check(ctx) {
    const groups = ctx.spec.train?.optimizer?.groups;
    if (!Array.isArray(groups) || groups.length === 0) return;
    const inputs = groups.map((g) => ({ name: String(g?.name ?? ''), params: Array.isArray(g?.params) ? g.params.filter((p): p is string => typeof p === 'string') : [] }));
    const nodes = nodeParams(ctx);
    const params: ParamRef[] = nodes.flatMap((n) => (n.names ?? []).map((local) => ({ nodeId: n.id, local })));
    const { owner, conflicts, unused } = assignGroups(inputs, params);
    const groupsPath = ['train', 'optimizer', 'groups'];
    const selectorSpan = (gi: number, si: number): Span => ctx.spanOf([...groupsPath, gi, 'params', si]);
    const nodeOf = (full: string): string => nodes.find((n) => full.startsWith(`${n.id}.`))?.id ?? full;

    // The selector of group gi that takes a parameter: its first explicit match, else its `*`.
    const takerSpan = (gi: number, full: string): Span => {
      const nodeId = nodeOf(full);
      const local = full.slice(nodeId.length + 1);
      const sels = inputs[gi]?.params ?? [];
      const si = sels.findIndex((s) => selectorMatchesParam(parseSelector(s), nodeId, local));
      const at = si >= 0 ? si : sels.indexOf('*');
      return at >= 0 ? selectorSpan(gi, at) : ctx.spanOf([...groupsPath, gi]);
    };

    // Two groups claiming parameters: one diagnostic per (group pair, node), naming the first parameter.
    const pairs = new Map<string, { a: number; b: number; params: string[] }>();
    for (const [param, a, b] of conflicts) {
      const key = `${a}\0${b}\0${nodeOf(param)}`;
      const entry = pairs.get(key) ?? { a, b, params: [] };
      if (!entry.params.includes(param)) entry.params.push(param);
      pairs.set(key, entry);
    }
    for (const { a, b, params: ps } of pairs.values()) {
      const first = ps[0]!;
      const ga = inputs[a]!.name;
      const gb = inputs[b]!.name;
      const more = ps.length > 1 ? `; ${ps.length - 1} more parameter${ps.length > 2 ? 's' : ''} of '${nodeOf(first)}' ${ps.length > 2 ? 'are' : 'is'} in both too` : '';
      ctx.report('MSA3009', takerSpan(b, first), { param: first, a: ga, b: gb }, {
        hint: `each parameter must belong to exactly one group; narrow one of the selectors${more}`,
        related: [{ span: takerSpan(a, first), message: `group '${ga}' selects it here` }],
      });
    }

    // Parameters in no group: one diagnostic per node.
    for (const n of nodes) {
      const missing = (n.names ?? []).map((l) => `${n.id}.${l}`).filter((full) => !owner.has(full));
      if (missing.length === 0) continue;
      const more = missing.length > 1 ? `${missing.length - 1} more parameter${missing.length > 2 ? 's' : ''} of '${n.id}' ${missing.length > 2 ? 'are' : 'is'} in no group either; ` : '';
      ctx.report('MSA3010', ctx.spanOf(groupsPath, { key: true }), { param: missing[0]! }, {
        hint: `${more}add a group for '${n.id}', or a last group with \`params: ['*']\``,
        related: [declaredHere(ctx, nodePath(n.id), `'${n.id}' is declared here`)],
      });
    }

    // Selectors that select nothing (a selector naming no node is refs-resolve's MSA3001).
    for (const [gi, si] of unused) {
      const text = inputs[gi]?.params[si];
      if (text === undefined) continue;
      const sel = parseSelector(text);
      let hint: string;
      if (sel.rest) {
        hint = `every parameter is already in an explicit group, so group '${inputs[gi]!.name}' gets none; remove '*' or the group`;
      } else {
        const matched = nodes.filter((n) => selectorMatchesNode(sel, n.id));
        if (matched.length === 0 || matched.some((n) => n.names === undefined)) continue;
        const names = matched.flatMap((n) => n.names ?? []);
        hint =
          names.length === 0 ? `${matched.map((n) => `'${n.id}'`).join(', ')} ${matched.length === 1 ? 'has' : 'have'} no parameters; remove the selector`
          : `no parameter of ${matched.map((n) => `'${n.id}'`).join(', ')} contains '${sel.contains ?? ''}'; local names: ${listNames([...new Set(names)])}`;
      }
      ctx.report('MSA3011', selectorSpan(gi, si), { selector: text }, { hint });
    }
  },
});
