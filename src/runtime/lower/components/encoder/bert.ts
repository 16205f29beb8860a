// Lowering of encoder 'bert': not available yet (another issue builds the tfjs BERT); fails with MSA5001 and the
// precomputed-[CLS] alternative. Phase 6 (lower).

import { MmsaError } from '../../../../errors.js';
import type { NodeLowering } from '../../node.js';

export const lowerBertEncoder: NodeLowering = (node) => {
  throw new MmsaError(
    'MSA5001',
    `component 'bert' cannot be lowered yet: '${node.id}' needs a BERT implementation in the tfjs runtime, which is not built yet; use a precomputed text encoder (\`encoders.text: {type: precomputed, select: cls}\` with \`modalities.text.feature: text\`)`,
    {
      hint: 'replace the bert encoder by `{type: precomputed, select: cls}` and read the precomputed BERT features (`feature: text`)',
      details: { node: node.id, type: 'bert' },
    },
  );
};
