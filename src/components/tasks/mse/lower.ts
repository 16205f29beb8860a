// Lowering of task 'mse': mean over the batch of (y_hat - y)^2, times the task weight (train and validation alike).
// Phase 6 (lower).

import type { TaskLowering } from '../../../runtime/lower/node.js';
import { lowerRegressionTask } from '../l1/lower.js';

export const lowerMseTask: TaskLowering = (task) => lowerRegressionTask(task, 'mse');
