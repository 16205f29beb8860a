// Lowering of head 'classification': MLP to one logit per class, or passthrough. Phase 6 (lower).

import { cfgNumber, type NodeLowering } from '../../../runtime/lower/node.js';
import { lowerMlpHead } from '../regression/lower.js';

export const lowerClassificationHead: NodeLowering = (node, ctx) => lowerMlpHead(node, ctx, cfgNumber(node, 'num_classes'));
