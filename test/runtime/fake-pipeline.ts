// Test helper: a tiny linear "pipeline" (y = x W + b, L1 loss) on a fake regression dataset, with the same
// contracts as lowerPipeline/loadDataset, so executor tests need neither the lowering nor data files.
import * as tf from '@tensorflow/tfjs';
import type { Ir, TrainingSchedule } from '../../src/compiler/ir/types.js';
import type { LoadedDataset, SplitData, SplitName } from '../../src/runtime/data/types.js';
import type { LoweredPipeline, TaskRuntime } from '../../src/runtime/lower/types.js';
import { Rng, normalInit, zerosInit } from '../../src/runtime/nn/init.js';
import { ParamStore } from '../../src/runtime/nn/params.js';
import { Adam } from '../../src/runtime/train/optim/adam.js';

export const D = 4;
const W_TRUE = [1.0, -0.5, 0.8, 0.3];

export function fakeSplit(name: SplitName, n: number, seed: number, offset = 0): SplitData {
  const r = new Rng(seed);
  const x = new Float32Array(n * D);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < D; j++) {
      const v = r.normal() + offset;
      x[i * D + j] = v;
      s += v * W_TRUE[j]!;
    }
    y[i] = s + 0.1 * r.normal();
  }
  return {
    name,
    n,
    ids: Array.from({ length: n }, (_, i) => `${name}$_$${i}`),
    features: { x: { data: x, shape: [n, D] } },
    lengths: {},
    labels: { M: y },
  };
}

export function fakeData(n = { train: 40, valid: 16, test: 16 }): LoadedDataset {
  return {
    name: 'fake',
    train: fakeSplit('train', n.train, 1),
    valid: fakeSplit('valid', n.valid, 2),
    test: fakeSplit('test', n.test, 3),
    provenance: { source: 'synthetic', synthetic: { kind: 'fake' } },
  };
}

export function fakeSchedule(over: Partial<TrainingSchedule> = {}): TrainingSchedule {
  return {
    batchSize: 4,
    evalBatchSize: 4,
    gradAccumSteps: 1,
    gradAccumMode: 'reference',
    microBatches: 'auto',
    maxEpochs: 5,
    optimizer: { type: 'adam', betas: [0.9, 0.999], eps: 1e-8 },
    clip: null,
    earlyStop: { metric: 'loss', split: 'valid', mode: 'min', patience: 8, minDelta: 1e-6 },
    select: { metric: 'loss', split: 'valid', mode: 'min', minDelta: 1e-6 },
    shuffleEval: true,
    evalHead: 'M',
    metrics: ['MAE', 'Corr'],
    evalSplits: ['valid', 'test'],
    seeds: [1],
    stages: [{ name: 'main', groups: [], tasks: ['l1'], every: 'batch', scheduler: null }],
    stagesDeclared: false,
    ...over,
  };
}

export function fakeIr(schedule: TrainingSchedule = fakeSchedule()): Ir {
  const span = { file: 'fake.yaml', start: 0, end: 0 } as unknown as Ir['dataset']['span'];
  return {
    pipeline: 'fake_linear',
    file: 'fake.yaml',
    dataset: {
      name: 'fake', source: 'synthetic', aligned: false, splits: { train: 40, valid: 16, test: 16 }, features: {}, labels: { M: 'regression_labels' },
      task: 'regression', metrics: ['MAE', 'Corr'], span,
    },
    nodes: [],
    tasks: [{ name: 'l1', type: 'regression', heads: ['M'], targets: ['M'], weight: 1, validLoss: true, summary: '', hooks: [], config: {}, span }],
    groups: [],
    schedule,
    totalParams: D + 1,
    trainableParams: D + 1,
  };
}

export interface FakeOptions {
  seed?: number;
  lr?: number;
  /** Extra tasks (get the store to build losses on the variables). */
  extraTasks?: (store: ParamStore) => TaskRuntime[];
  /** Replace the L1 task. */
  noL1?: boolean;
}

export function fakePipeline(opts: FakeOptions = {}): LoweredPipeline {
  const store = new ParamStore({ seed: opts.seed ?? 1 });
  const W = store.param('heads.M', 'weight', [D, 1], normalInit(0, 0.1));
  const b = store.param('heads.M', 'bias', [1], zerosInit);
  const model = {
    ir: fakeIr(),
    store,
    forward(batch: { features: Record<string, { data: Float32Array | Int32Array; shape: number[] }>; size: number }) {
      const x = batch.features['x']!;
      const y = tf.add(tf.matMul(tf.tensor2d(x.data as Float32Array, [batch.size, D]), W), b);
      return { heads: { M: y }, features: {} };
    },
    dispose() {
      store.dispose();
    },
  };
  const l1: TaskRuntime = {
    name: 'l1',
    type: 'regression',
    trainLoss: (out, batch) => tf.mean(tf.abs(tf.sub(out.heads['M']!.reshape([-1]), tf.tensor1d(batch.labels['M']!)))) as tf.Scalar,
    evalLoss: (out, batch) => tf.mean(tf.abs(tf.sub(out.heads['M']!.reshape([-1]), tf.tensor1d(batch.labels['M']!)))) as tf.Scalar,
  };
  const tasks = [...(opts.noL1 ? [] : [l1]), ...(opts.extraTasks ? opts.extraTasks(store) : [])];
  const optimizer = new Adam([{ name: 'all', params: store.select(), lr: opts.lr ?? 0.05 }]);
  return { model: model as unknown as LoweredPipeline['model'], tasks, optimizer };
}
