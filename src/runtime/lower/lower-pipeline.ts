// lowerPipeline: phase 6 entry point. IR -> tfjs model (catalog-named variables), task runtimes (losses, ULGM hooks)
// and Adam over the IR's parameter groups.

import type { Ir } from '../../compiler/ir/types.js';
import { MmsaError } from '../../errors.js';
import { lowerModel } from './lower-model.js';
import { lowerOptimizer } from './lower-optimizer.js';
import { getLowering } from './registry.js';
import type { LoweredPipeline, LowerOptions, TaskRuntime } from './types.js';

export function lowerTasks(ir: Ir, opts: LowerOptions): TaskRuntime[] {
  return ir.tasks.map((t) => {
    const l = getLowering('task', t.type);
    if (!l || l.kind !== 'task') throw new MmsaError('MSA5001', `component '${t.type}' cannot be lowered: no lowering for task '${t.type}' (tasks.${t.name})`);
    return l.lowerTask(t, { ir, trainSize: opts.trainSize, ...(opts.outDir !== undefined ? { outDir: opts.outDir } : {}) });
  });
}

export function lowerPipeline(ir: Ir, opts: LowerOptions): LoweredPipeline {
  const model = lowerModel(ir, { seed: opts.seed });
  try {
    const tasks = lowerTasks(ir, opts);
    const optimizer = lowerOptimizer(ir, model.store);
    return { model, tasks, optimizer };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
