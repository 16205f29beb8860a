// Rule fusion-arity: the fusion gets as many inputs as its type allows, and each input's kind (vector or sequence,
// where the encoder's parameters decide it) is one the fusion accepts. Phase 4 (check).

import { componentTypes, getComponent } from '../../../components/catalog.js';
import type { RelatedInfo } from '../../diagnostics/diagnostic.js';
import { defineRule } from '../rule.js';
import { declaredHere, encoderOfRef, encoderOutputKind, fusionInputs, fusionOf, getEncoder, modalities, modalityOfRef, writtenSpan } from '../spec-graph.js';

function fitsArity(arity: { min: number; max: number } | undefined, n: number): boolean {
  return !arity || (n >= arity.min && n <= arity.max);
}

function expectedText(arity: { min: number; max: number }): string {
  if (arity.min === arity.max) return String(arity.min);
  if (arity.max === Number.POSITIVE_INFINITY) return `at least ${arity.min}`;
  return `${arity.min} to ${arity.max}`;
}

const KIND_TEXT: Record<string, string> = { vector: 'a vector', sequence: 'a sequence', tokens: 'token ids', logits: 'logits', value: 'a value' };

export default defineRule({
  id: 'fusion-arity',
  description: 'fusion input count fits the fusion type; input kinds fit what it accepts',
  check(ctx) {
    const { spec } = ctx;
    const fusion = fusionOf(spec);
    if (!fusion || typeof fusion.type !== 'string') return;
    const def = getComponent('fusion', fusion.type);
    if (!def) return;
    const inputs = fusionInputs(spec);
    const n = Array.isArray(fusion.inputs) ? fusion.inputs.length : 0;

    if (def.arity && !fitsArity(def.arity, n)) {
      const used = new Set(inputs.map((i) => modalityOfRef(spec, i.name)).filter((m): m is string => m !== undefined));
      const unused = n < def.arity.min ? modalities(spec).map(([m]) => m).filter((m) => !used.has(m)) : [];
      const related: RelatedInfo[] = unused.map((m) => declaredHere(ctx, ['modalities', m], `modality '${m}' is declared here but not used`));
      const others = componentTypes('fusion').filter((t) => t !== fusion.type && fitsArity(getComponent('fusion', t)?.arity, n));
      const fixes: string[] = [];
      if (unused.length > 0) fixes.push(`add ${unused.map((m) => `'${m}'`).join(', ')} to inputs`);
      else if (n < def.arity.min) fixes.push(`add inputs`);
      else fixes.push(`remove inputs`);
      if (others.length > 0) fixes.push(`use a fusion that takes ${n} input${n === 1 ? '' : 's'} (${others.join(', ')})`);
      ctx.report('MSA3004', writtenSpan(ctx, ['fusion', 'inputs']), { type: fusion.type, expected: expectedText(def.arity), got: n }, {
        hint: fixes.join(', or '),
        related,
      });
    }

    const accepts = def.accepts;
    if (!accepts || accepts.length === 0) return;
    for (const { name, index } of inputs) {
      const encKey = encoderOfRef(spec, name);
      const enc = encKey === undefined ? undefined : getEncoder(spec, encKey);
      if (!enc || encKey === undefined) continue; // unresolved references are refs-resolve's
      const kind = encoderOutputKind(enc);
      if (kind === undefined || accepts.includes(kind)) continue;
      const fix =
        (accepts[0] !== undefined ? getComponent('encoder', enc.type)?.outputKindFix?.(enc, accepts[0]) : undefined) ??
        (kind === 'vector' && accepts.includes('sequence') ? 'read the sequence as it is (`type: precomputed` with `select: sequence`)' : undefined);
      ctx.report('MSA3005', ctx.spanOf(['fusion', 'inputs', index]), {
        type: fusion.type,
        needed: accepts.map((k) => (KIND_TEXT[k] ?? k).replace(/^an? /, '')).join(' or '),
        input: name,
        actual: KIND_TEXT[kind] ?? kind,
      }, {
        ...(fix ? { hint: fix } : {}),
        related: [{ span: ctx.spanOf(['encoders', encKey, 'type']), message: `encoder '${encKey}' (${enc.type}) outputs ${KIND_TEXT[kind] ?? kind}` }],
      });
    }
  },
});
