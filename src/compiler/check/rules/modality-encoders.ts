// Rule modality-encoders: every modality has an encoder that reads it, and something (fusion or a head) reads it;
// a modality that the fusion, a head, a task or an encoder's `inputs:` names as `modalities.<name>` is read as it is.
// Phase 4 (check).

import { defineRule } from '../rule.js';
import { encoderReadsModality, encoders, modalities, modalitiesReadDirectly, readEncoders } from '../spec-graph.js';

export default defineRule({
  id: 'modality-encoders',
  description: 'every modality has an encoder (error) and is read by the fusion or a head (warning)',
  check(ctx) {
    const { spec } = ctx;
    const read = readEncoders(spec);
    const direct = modalitiesReadDirectly(spec);
    for (const [name] of modalities(spec)) {
      const readers = encoders(spec).filter(([k, e]) => encoderReadsModality(spec, k, e, name)).map(([k]) => k);
      const span = ctx.spanOf(['modalities', name], { key: true });
      // Data a component reads as it is (`modalities.audio_mask`: TFR-Net's masks) needs no encoder of its own.
      if (readers.length === 0 && direct.has(name)) continue;
      if (readers.length === 0) {
        ctx.report('MSA3002', span, { name });
        continue;
      }
      if (!readers.some((r) => read.has(r))) {
        const via = readers.map((r) => `'${r}'`).join(', ');
        ctx.report('MSA3016', span, { name }, {
          hint: `add ${readers.length === 1 ? `encoder ${via}` : `one of the encoders ${via}`} to \`fusion.inputs\` or a head's \`input\`, or remove the modality`,
        });
      }
    }
  },
});
