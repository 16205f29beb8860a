// Lowering of task 'mse': mean over the batch of (y_hat - y)^2, times the task weight (train and validation alike).
// Phase 6 (lower).

import type { TaskLowering } from '../../node.js';
import { lowerRegressionTask } from './regression-task.js';

export const lowerMseTask: TaskLowering = (task) => lowerRegressionTask(task, 'mse');
