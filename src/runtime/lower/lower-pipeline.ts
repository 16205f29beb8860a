// lowerPipeline: phase 6 entry point. IR -> tfjs model (catalog-named variables), task runtimes (losses, ULGM hooks)
// and Adam over the IR's parameter groups.

import * as tf from '@tensorflow/tfjs';
import type { Ir } from '../../compiler/ir/types.js';
import { MmsaError } from '../../errors.js';
import { lowerModel } from './lower-model.js';
import { lowerOptimizer } from './lower-optimizer.js';
import { getLowering } from './registry.js';
import { deriveSeed, Rng, xavierNormalInit } from '../nn/init.js';
import type { Adam } from '../train/optim/adam.js';
import type { ParamStore } from '../nn/params.js';
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
    reinitGroups(ir, optimizer, model.store, opts.seed);
    return { model, tasks, optimizer };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * train.reinit: every weight of two or more dimensions in the named groups drawn again, each from its own stream
 * (run seed and catalog name), as MMIM's trainer calls xavier_normal_ on them before building its optimizers.
 */
export function reinitGroups(ir: Ir, optimizer: Adam, store: ParamStore, seed: number): void {
  const r = ir.schedule.reinit;
  if (!r) return;
  const init = xavierNormalInit();
  for (const g of optimizer.groups) {
    if (!r.groups.some((n) => g.name === n || g.name === `${n}_no_decay`)) continue;
    for (const v of g.params) {
      if (v.shape.length < 2) continue;
      const key = store.byVariableName(v.name)?.key ?? v.name;
      const t = tf.tensor(init(v.shape, new Rng(deriveSeed(seed, 'reinit', key))), v.shape);
      v.assign(t);
      t.dispose();
    }
  }
}
