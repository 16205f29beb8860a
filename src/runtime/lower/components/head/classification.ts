// Lowering of head 'classification': MLP to one logit per class, or passthrough. Phase 6 (lower).

import { cfgNumber, type NodeLowering } from '../../node.js';
import { lowerMlpHead } from './mlp-head.js';

export const lowerClassificationHead: NodeLowering = (node, ctx) => lowerMlpHead(node, ctx, cfgNumber(node, 'num_classes'));
