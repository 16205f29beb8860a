// Rule refs-resolve: every name the spec uses as a reference (encoder modality or inputs, fusion and head inputs, task
// heads and inputs, eval head, parameter-group nodes) names something declared, `:output` an output the node
// publishes; a head reading a head, or encoders reading each other in a circle, is a cycle. Phase 4 (check).

import { suggestionHint } from '../../../core/did-you-mean.js';
import type { RelatedInfo } from '../../diagnostics/diagnostic.js';
import { nodeAt, toValue, type SpecPath } from '../../spec/spec-tree.js';
import type { PipelineSpec } from '../../spec/types.generated.js';
import { componentOf } from '../../../components/catalog.js';
import type { ComponentKind } from '../../../components/component.js';
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
  modalities,
  nodeIds,
  encoderReads,
  encoderReadsRefs,
  refPath,
  resolveRef,
  splitRef,
  taskHeadRefs,
  tasks,
  type NodeRef,
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

/** What a misspelt reference may have meant: qualified node ids for a qualified reference, else plain names. */
function refCandidates(spec: PipelineSpec, base: string, plain: string[]): string[] {
  if (!base.includes('.')) return plain;
  return [
    ...modalities(spec).map(([k]) => `modalities.${k}`),
    ...encoders(spec).map(([k]) => `encoders.${k}`),
    ...heads(spec).map(([k]) => `heads.${k}`),
  ];
}

/** A reference's `:output` names an output its node publishes (the node's component says which). */
function checkOutput(ctx: RuleContext, ref: NodeRef, text: string, path: SpecPath): void {
  if (ref.output === undefined) return;
  const node = nodeAt(ctx.tree, refPath(ref)) ? (toValue(nodeAt(ctx.tree, refPath(ref))!) as unknown) : undefined;
  const kind: ComponentKind | undefined = ref.kind === 'modality' ? undefined : ref.kind;
  const published = kind ? (componentOf(kind, node)?.namedOutputs?.(node) ?? []) : [];
  if (published.includes(ref.output)) return;
  const where = refPath(ref).join('.');
  const hint = published.length > 0 ? suggestionHint(ref.output, published, `outputs of ${where}`) : `${where} publishes no named outputs; read it as \`${splitRef(text).base}\``;
  ctx.report('MSA3001', ctx.spanOf(path), { what: `output of ${where}`, name: ref.output }, hint ? { hint } : {});
}

/** Whether encoder `key` reading `ref` closes a cycle (ref is key itself, or an encoder that reads key). */
function encoderCycle(spec: PipelineSpec, key: string, ref: NodeRef): boolean {
  const seen = new Set<string>();
  const stack = ref.kind === 'encoder' ? [ref.name] : [];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (name === key) return true;
    if (seen.has(name)) continue;
    seen.add(name);
    const enc = spec.encoders[name];
    if (!enc || !encoderReadsRefs(name, enc)) continue;
    for (const r of encoderReads(name, enc)) {
      const x = resolveRef(spec, r.name);
      if (x?.kind === 'encoder') stack.push(x.name);
    }
  }
  return false;
}

export default defineRule({
  id: 'refs-resolve',
  description: 'references to modalities, encoders, fusion, heads and parameter-group nodes resolve; heads do not read heads',
  check(ctx) {
    const { spec } = ctx;
    const modalityNames = entriesOf(spec.modalities).map(([k]) => k);
    const encoderNames = encoders(spec).map(([k]) => k);
    const fusion = fusionOf(spec);

    // encoders reading references (`inputs:`) -> modalities or other encoders, without a cycle
    const dataNamesAll = [...new Set([...encoderNames, ...modalityNames])];
    for (const [key, enc] of encoders(spec)) {
      if (!encoderReadsRefs(key, enc)) continue;
      for (const r of encoderReads(key, enc)) {
        const ref = resolveRef(spec, r.name);
        if (!ref) {
          const hint = suggestionHint(splitRef(r.name).base, refCandidates(spec, splitRef(r.name).base, dataNamesAll), 'encoders and modalities declared');
          ctx.report('MSA3001', ctx.spanOf(r.path), { what: 'node', name: r.name }, hint ? { hint } : {});
        } else if (ref.kind === 'head' || ref.kind === 'fusion' || encoderCycle(spec, key, ref)) {
          ctx.report('MSA3023', ctx.spanOf(r.path), { what: 'encoder', name: key, input: r.name }, { hint: 'an encoder reads modalities and other encoders, never one that reads it back' });
        } else {
          checkOutput(ctx, ref, r.name, r.path);
        }
      }
    }

    // encoders -> modalities
    for (const [key, enc] of encoders(spec)) {
      if (encoderReadsRefs(key, enc)) continue;
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
        if (ref?.kind === 'encoder' || ref?.kind === 'modality') {
          checkOutput(ctx, ref, name, path);
          continue;
        }
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
      if (ref && ref.kind !== 'head') {
        checkOutput(ctx, ref, input, path);
        continue;
      }
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
      // Node outputs a task reads by reference (`inputs: [encoders.text:private]`): any node, a head included.
      for (const r of componentOf('task', task)?.inputRefs?.(task) ?? []) {
        const path = ['tasks', key, ...r.path];
        const ref = resolveRef(spec, r.name);
        if (ref) {
          checkOutput(ctx, ref, r.name, path);
          continue;
        }
        const hint = suggestionHint(splitRef(r.name).base, refCandidates(spec, splitRef(r.name).base, [...dataNamesAll, ...heads(spec).map(([k]) => k), ...(fusion ? [FUSION] : [])]), 'nodes declared');
        ctx.report('MSA3001', ctx.spanOf(path), { what: 'node', name: r.name }, hint ? { hint } : {});
      }
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
