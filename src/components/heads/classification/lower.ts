// Lowering of head 'classification': MLP to one logit per class, or passthrough. Phase 6 (lower).

import type { ClassificationHead } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering } from '../../../runtime/lower/node.js';
import { lowerMlpHead } from '../regression/lower.js';

export default defineNodeLowering<ClassificationHead>('head', (node, ctx) => lowerMlpHead(node, ctx, node.config.num_classes));
