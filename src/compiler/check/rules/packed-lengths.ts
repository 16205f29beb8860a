// Rule packed-lengths: an encoder that packs sequences by length (lstm/gru with `packed: true`: the encoder says) reads a
// modality that has per-sample lengths (its own `lengths:`, or the dataset's for its feature). Phase 4 (check).

import { componentOf } from '../../../components/catalog.js';
import { defineRule } from '../rule.js';
import { encoderModality, encoders, getModality, has, isWritten } from '../spec-graph.js';

export default defineRule({
  id: 'packed-lengths',
  description: 'lstm/gru with packed: true read a modality with lengths',
  check(ctx) {
    for (const [key, enc] of encoders(ctx.spec)) {
      if (!componentOf('encoder', enc)?.packsLengths?.(enc)) continue;
      const modalityName = encoderModality(key, enc);
      const modality = getModality(ctx.spec, modalityName);
      if (!modality) continue; // refs-resolve reports it
      if (typeof modality.lengths === 'string') continue;
      const lengthsPath = ['modalities', modalityName, 'lengths'];
      let why: string;
      let at = ctx.spanOf(['modalities', modalityName], { key: true });
      if (modality.lengths === null && isWritten(ctx, lengthsPath)) {
        why = `modality '${modalityName}' sets \`lengths: null\` here`;
        at = ctx.spanOf(lengthsPath);
      } else {
        // No lengths of its own (phase 3 copies the dataset's, or null when the feature has none): ask the dataset.
        const ds = ctx.dataset;
        const feature = ds && typeof modality.feature === 'string' && has(ds.features, modality.feature) ? ds.features[modality.feature] : undefined;
        if (!ds || !feature || typeof feature.lengths === 'string') continue;
        why = `modality '${modalityName}' reads feature '${modality.feature}', which has no lengths in dataset '${ds.name}'`;
      }
      ctx.report('MSA3018', ctx.spanOf(['encoders', key, 'packed']), { name: key, modality: modalityName }, { related: [{ span: at, message: why }] });
    }
  },
});
