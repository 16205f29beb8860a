// Lowering of task 'mse': mean over the batch of (y_hat - y)^2, times the task weight (train and validation alike).
// Phase 6 (lower).

import type { MseTask } from '../../../compiler/spec/types.generated.js';
import { defineTaskLowering } from '../../../runtime/lower/node.js';
import { lowerRegressionTask } from '../l1/lower.js';

export default defineTaskLowering<MseTask>((task) => lowerRegressionTask(task, 'mse'));
