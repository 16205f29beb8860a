// Lowering of encoder 'gru': GRU (`gru.*`) over a sequence, packed by true lengths, h_n of the last layer, optional
// Dropout + Linear (`linear.*`). Phase 6 (lower).

import type { GruEncoder } from '../../../compiler/spec/types.generated.js';
import { defineNodeLowering } from '../../../runtime/lower/node.js';
import { lowerRnnEncoder } from '../lstm/lower.js';

export default defineNodeLowering<GruEncoder>('encoder', lowerRnnEncoder);
