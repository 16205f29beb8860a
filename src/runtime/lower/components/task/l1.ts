// Lowering of task 'l1': mean over the batch of |y_hat - y|, times the task weight (train and validation alike).
// Phase 6 (lower).

import type { TaskLowering } from '../../node.js';
import { lowerRegressionTask } from './regression-task.js';

export const lowerL1Task: TaskLowering = (task) => lowerRegressionTask(task, 'l1');
