// Rule aligned-required: fusions that combine sequences step by step (those that say they need aligned inputs) read
// modalities aligned to the text: the modality's `aligned`, else the dataset file's, or `align: avg_pool`. Phase 4.

import { getComponent } from '../../../components/catalog.js';
import { defineRule } from '../rule.js';
import { encoderOfRef, encoderOutputKind, fusionInputs, fusionOf, getEncoder, getModality, isWritten, modalityOfRef } from '../spec-graph.js';

/** Text is the time axis others are aligned to, so a text feature is aligned by definition. */
function isTextFeature(feature: unknown): boolean {
  return typeof feature === 'string' && /^text(_|$)/.test(feature);
}

export default defineRule({
  id: 'aligned-required',
  description: 'early fusion (and tensor fusion over sequences) reads aligned modalities',
  check(ctx) {
    const { spec } = ctx;
    const fusion = fusionOf(spec);
    if (!fusion || typeof fusion.type !== 'string') return;
    if (!getComponent('fusion', fusion.type)?.needsAligned) return;
    for (const { name, index } of fusionInputs(spec)) {
      const encKey = encoderOfRef(spec, name);
      const enc = encKey === undefined ? undefined : getEncoder(spec, encKey);
      // Vector inputs have no time axis to align (fusion-arity reports them where the fusion wants sequences).
      if (!enc || encoderOutputKind(enc) === 'vector') continue;
      const modalityName = modalityOfRef(spec, name);
      const modality = modalityName === undefined ? undefined : getModality(spec, modalityName);
      if (!modality || modalityName === undefined || isTextFeature(modality.feature)) continue;
      if (modality.align === 'avg_pool') continue;
      const own = typeof modality.aligned === 'boolean' && isWritten(ctx, ['modalities', modalityName, 'aligned']) ? modality.aligned : undefined;
      const aligned = own ?? (typeof modality.aligned === 'boolean' ? modality.aligned : ctx.dataset?.aligned);
      if (aligned !== false) continue;
      const ds = ctx.dataset;
      const related =
        own === false
          ? { span: ctx.spanOf(['modalities', modalityName, 'aligned']), message: `modality '${modalityName}' is declared unaligned here` }
          : {
              span: ctx.spanOf(['modalities', modalityName], { key: true }),
              message: `modality '${modalityName}' is declared here; it reads '${String(modality.feature)}' from ${ds ? `dataset '${ds.name}'${ds.file ? ` (file '${ds.file}')` : ''}, which is unaligned` : 'an unaligned feature file'}`,
            };
      ctx.report('MSA3006', ctx.spanOf(['fusion', 'inputs', index]), { type: fusion.type, input: name }, { related: [related] });
    }
  },
});
