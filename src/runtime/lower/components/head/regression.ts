// Lowering of head 'regression': MLP to one value per sample, optional sigmoid output range (TFN), or passthrough
// (LMF). Phase 6 (lower).

import type { NodeLowering } from '../../node.js';
import { lowerMlpHead } from './mlp-head.js';

export const lowerRegressionHead: NodeLowering = (node, ctx) => lowerMlpHead(node, ctx, 1);
