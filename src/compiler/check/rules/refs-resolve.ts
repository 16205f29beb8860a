// Rule refs-resolve: every name the spec uses as a reference (encoder modality, fusion and head inputs, task heads,
// eval head, parameter-group nodes) names something declared; a head reading a head is a cycle. Phase 4 (check).

import { suggestionHint } from '../../../core/did-you-mean.js';
import type { RelatedInfo } from '../../diagnostics/diagnostic.js';
import type { SpecPath } from '../../spec/spec-tree.js';
import { defineRule, type RuleContext } from '../rule.js';
import { parseSelector, selectorMatchesNode } from '../../spec/selectors.js';
import {
  FUSION,
  declaredHere,
  encoderModality,
  encoders,
  entriesOf,
  fusionInputs,
  fusionOf,
  getHead,
  getModality,
  has,
  heads,
  isWritten,
  joinHints,
  nodeIds,
  resolveRef,
  taskHeadRefs,
  tasks,
} from '../spec-graph.js';

function sectionNote(ctx: RuleContext, section: string, names: string[]): RelatedInfo[] {
  return names.length > 0 ? [declaredHere(ctx, [section], `${section} are declared here`)] : [];
}

function checkHeadRef(ctx: RuleContext, name: unknown, path: SpecPath): void {
  if (typeof name !== 'string' || getHead(ctx.spec, name)) return;
  const headNames = heads(ctx.spec).map(([k]) => k);
  const other = resolveRef(ctx.spec, name)?.kind === 'encoder' ? `'${name}' is an encoder` : name === FUSION ? `'${name}' is the fusion node` : undefined;
  const hint = joinHints(other !== undefined ? `${other}; tasks and evaluation read heads` : undefined, suggestionHint(name, headNames, 'heads declared'));
  ctx.report('MSA3001', ctx.spanOf(path), { what: 'head', name }, { ...(hint ? { hint } : {}), related: sectionNote(ctx, 'heads', headNames) });
}

export default defineRule({
  id: 'refs-resolve',
  description: 'references to modalities, encoders, fusion, heads and parameter-group nodes resolve; heads do not read heads',
  check(ctx) {
    const { spec } = ctx;
    const modalityNames = entriesOf(spec.modalities).map(([k]) => k);
    const encoderNames = encoders(spec).map(([k]) => k);
    const fusion = fusionOf(spec);

    // encoders -> modalities
    for (const [key, enc] of encoders(spec)) {
      const modality = encoderModality(key, enc);
      if (getModality(spec, modality)) continue;
      const explicit = has(enc, 'modality');
      const span = explicit ? ctx.spanOf(['encoders', key, 'modality']) : ctx.spanOf(['encoders', key], { key: true });
      const hint = joinHints(
        suggestionHint(modality, modalityNames, 'modalities declared'),
        explicit ? undefined : 'an encoder reads the modality with its own key unless `modality:` names another',
      );
      ctx.report('MSA3003', span, { name: key, modality }, { ...(hint ? { hint } : {}), related: sectionNote(ctx, 'modalities', modalityNames) });
    }

    // fusion inputs -> encoders (a modality name means its encoder; one without an encoder is MSA3002 elsewhere)
    const dataNames = [...new Set([...encoderNames, ...modalityNames])];
    if (fusion) {
      for (const { name, index } of fusionInputs(spec)) {
        const path = ['fusion', 'inputs', index];
        const ref = resolveRef(spec, name);
        if (ref?.kind === 'encoder' || ref?.kind === 'modality') continue;
        if (ref) {
          const related = ref.kind === 'head' ? [declaredHere(ctx, ['heads', name], `head '${name}' is declared here`)] : [];
          ctx.report('MSA3023', ctx.spanOf(path), { what: 'fusion', name: fusion.type, input: name }, { hint: 'the fusion reads encoders; heads read the fusion', related });
          continue;
        }
        const hint = suggestionHint(name, dataNames, 'encoders and modalities declared');
        ctx.report('MSA3001', ctx.spanOf(path), { what: 'encoder', name }, { ...(hint ? { hint } : {}), related: sectionNote(ctx, 'encoders', encoderNames) });
      }
    }

    // head inputs -> encoders or fusion
    for (const [key, head] of heads(spec)) {
      const input = head.input;
      if (typeof input !== 'string') continue;
      const path = ['heads', key, 'input'];
      const ref = resolveRef(spec, input);
      if (ref && ref.kind !== 'head') continue;
      if (ref) {
        ctx.report('MSA3023', ctx.spanOf(path), { what: 'head', name: key, input }, {
          hint: "a head reads 'fusion', an encoder or a modality",
          related: input === key ? [] : [declaredHere(ctx, ['heads', input], `head '${input}' is declared here`)],
        });
        continue;
      }
      if (input === FUSION) {
        ctx.report('MSA3001', ctx.spanOf(path), { what: 'node', name: input }, { hint: 'declare a `fusion:` section, or read an encoder' });
        continue;
      }
      const candidates = fusion ? [...dataNames, FUSION] : dataNames;
      const hint = suggestionHint(input, candidates, 'nodes a head can read');
      ctx.report('MSA3001', ctx.spanOf(path), { what: 'node', name: input }, { ...(hint ? { hint } : {}), related: sectionNote(ctx, 'encoders', encoderNames) });
    }

    // tasks -> heads
    for (const [key, task] of tasks(spec)) {
      for (const { head, path } of taskHeadRefs(key, task)) checkHeadRef(ctx, head, path);
    }

    // eval head (a defaulted one is the first task's head, already checked there)
    if (spec.eval && typeof spec.eval.head === 'string' && isWritten(ctx, ['eval', 'head'])) checkHeadRef(ctx, spec.eval.head, ['eval', 'head']);

    // parameter-group selectors -> nodes
    const groups = spec.train?.optimizer?.groups;
    if (Array.isArray(groups)) {
      const ids = nodeIds(spec);
      groups.forEach((group, gi) => {
        if (!group || !Array.isArray(group.params)) return;
        group.params.forEach((text, si) => {
          if (typeof text !== 'string') return;
          const sel = parseSelector(text);
          if (sel.rest || ids.some((id) => selectorMatchesNode(sel, id))) return;
          const node = sel.node.join('.');
          const hint = suggestionHint(node, ids, 'nodes with parameters');
          ctx.report('MSA3001', ctx.spanOf(['train', 'optimizer', 'groups', gi, 'params', si]), { what: 'parameter group node', name: node }, hint ? { hint } : {});
        });
      });
    }
  },
});
