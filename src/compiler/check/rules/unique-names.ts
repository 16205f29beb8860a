// Rule unique-names: a head key may not also name a modality, an encoder or the fusion node (references would be
// ambiguous); encoders and modalities may share a key by design. Phase 4 (check).

import { defineRule } from '../rule.js';
import { FUSION, declaredHere, encoders, fusionOf, getEncoder, getModality, heads } from '../spec-graph.js';

export default defineRule({
  id: 'unique-names',
  description: 'head keys differ from modality and encoder keys and from `fusion`; no encoder is called `fusion`',
  check(ctx) {
    const { spec } = ctx;
    for (const [key] of heads(spec)) {
      const span = ctx.spanOf(['heads', key], { key: true });
      if (getEncoder(spec, key)) {
        ctx.report('MSA3022', span, { name: key, a: 'a head', b: 'an encoder' }, { related: [declaredHere(ctx, ['encoders', key], `encoder '${key}' is declared here`)] });
      } else if (getModality(spec, key)) {
        ctx.report('MSA3022', span, { name: key, a: 'a head', b: 'a modality' }, { related: [declaredHere(ctx, ['modalities', key], `modality '${key}' is declared here`)] });
      } else if (key === FUSION) {
        const related = fusionOf(spec) ? [declaredHere(ctx, [FUSION], 'the fusion node is declared here')] : [];
        ctx.report('MSA3022', span, { name: key, a: 'a head', b: 'the fusion node' }, { related });
      }
    }
    // `input: fusion` must mean the fusion node, so an encoder cannot take the name.
    for (const [key] of encoders(spec)) {
      if (key !== FUSION) continue;
      ctx.report('MSA3022', ctx.spanOf(['encoders', key], { key: true }), { name: key, a: 'an encoder', b: 'the fusion node' });
    }
  },
});
