import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../../src/runtime/backend.js';
import { iterateBatches } from '../../src/runtime/data/batching.js';
import type { Batch, SplitData } from '../../src/runtime/data/types.js';
import type { RunEvent, EpochEndEvent, RunEndSeedEvent } from '../../src/runtime/events.js';
import type { TaskRuntime } from '../../src/runtime/lower/types.js';
import { runSchedule, type ExecuteOptions } from '../../src/runtime/train/executor.js';
import type { Grads } from '../../src/runtime/train/optim/adam.js';
import { fakeData, fakeIr, fakePipeline, fakeSchedule, type FakeOptions } from './fake-pipeline.js';
import type { TrainingSchedule } from '../../src/compiler/ir/types.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

async function collect(it: AsyncIterable<RunEvent>, onEvent?: (e: RunEvent) => void): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for await (const e of it) {
    out.push(e);
    onEvent?.(e);
  }
  return out;
}

function setup(schedule: Partial<TrainingSchedule>, fake: FakeOptions = {}) {
  const ir = fakeIr(fakeSchedule(schedule));
  const p = fakePipeline(fake);
  const data = fakeData();
  const steps: Record<string, number[]>[] = [];
  const origStep = p.optimizer.step.bind(p.optimizer);
  p.optimizer.step = (g: Grads) => {
    steps.push(Object.fromEntries(Object.entries(g).map(([k, t]) => [p.model.store.byVariableName(k)!.key, Array.from(t.dataSync())])));
    origStep(g);
  };
  return { ir, p, data, steps };
}

/** A task whose loss is sum(weight): its gradient on `heads.M.weight` is exactly 1 per element for every batch. */
const constGradTask = (): FakeOptions => ({
  noL1: true,
  extraTasks: (store) => [{
    name: 'sumw',
    type: 'test',
    trainLoss: () => tf.sum(store.get('heads.M.weight')) as tf.Scalar,
    evalLoss: () => tf.scalar(1),
  }],
});

/** A task whose gradient on `heads.M.weight` is 3, 3, -3 per element on batches 1, 2, 3 of every three. */
const signs = (): FakeOptions => {
  let n = 0;
  return {
    noL1: true,
    extraTasks: (store) => [{
      name: 'signed',
      type: 'test',
      trainLoss: () => tf.mul(tf.sum(store.get('heads.M.weight')), [3, 3, -3][n++ % 3]!) as tf.Scalar,
      evalLoss: () => tf.scalar(1),
    }],
  };
};

describe('runSchedule: gradient accumulation', () => {
  it("'reference' sums k batches' gradients unscaled and discards the last n mod k batches of each epoch", async () => {
    // 40 samples / batch 4 = 10 batches; k = 3 -> 3 optimizer steps per epoch, 1 batch's gradient dropped
    const { ir, p, data, steps } = setup({ gradAccumSteps: 3, gradAccumMode: 'reference', maxEpochs: 2 }, constGradTask());
    const events = await collect(runSchedule(ir, p, data, { runId: 'r', seed: 1 }));
    expect(steps).toHaveLength(6);
    for (const s of steps) expect(s['heads.M.weight']).toEqual([3, 3, 3, 3]);
    const ends = events.filter((e): e is EpochEndEvent => e.kind === 'epoch.end');
    expect(ends.map((e) => e.optimizerSteps)).toEqual([3, 3]);
    const stepFlags = events.filter((e) => e.kind === 'step.end' && e.epoch === 1).map((e) => (e as { optimizerStep: boolean }).optimizerStep);
    expect(stepFlags).toEqual([false, false, true, false, false, true, false, false, true, false]);
  });

  it("'corrected' averages over the accumulated batches and steps on the leftover", async () => {
    const { ir, p, data, steps } = setup({ gradAccumSteps: 3, gradAccumMode: 'corrected', maxEpochs: 2 }, constGradTask());
    await collect(runSchedule(ir, p, data, { runId: 'r', seed: 1 }));
    expect(steps).toHaveLength(8);
    for (const s of steps) for (const v of s['heads.M.weight']!) expect(v).toBeCloseTo(1, 6);
  });

  it('k = 1 steps after every batch in both modes', async () => {
    for (const mode of ['reference', 'corrected'] as const) {
      const { ir, p, data, steps } = setup({ gradAccumSteps: 1, gradAccumMode: mode, maxEpochs: 1 }, constGradTask());
      await collect(runSchedule(ir, p, data, { runId: 'r', seed: 1 }));
      expect(steps).toHaveLength(10);
    }
  });

  it("clips after accumulation with when: 'step' (value and global norm)", async () => {
    const v = setup({ gradAccumSteps: 3, maxEpochs: 1, clip: { type: 'value', max: 2, when: 'step' } }, constGradTask());
    await collect(runSchedule(v.ir, v.p, v.data, { runId: 'r', seed: 1 }));
    for (const s of v.steps) expect(s['heads.M.weight']).toEqual([2, 2, 2, 2]);
    const n = setup({ gradAccumSteps: 3, maxEpochs: 1, clip: { type: 'norm', max: 1, when: 'step' } }, constGradTask());
    await collect(runSchedule(n.ir, n.p, n.data, { runId: 'r', seed: 1 }));
    // summed gradient [3,3,3,3] has norm 6 -> scaled by 1/(6+1e-6)
    for (const s of n.steps) for (const x of s['heads.M.weight']!) expect(x).toBeCloseTo(0.5, 5);
  });

  it("clips the running sum after every backward with when: 'backward' (MMSA's clip_grad_value_ per batch)", async () => {
    // Per-batch gradients 3, 3, -3 in each group of k = 3: MMSA's .grad goes clip(3) = 2, clip(2 + 3) = 2,
    // clip(2 - 3) = -1, where clipping the sum once would give clip(3) = 2.
    const b = setup({ gradAccumSteps: 3, maxEpochs: 1, clip: { type: 'value', max: 2, when: 'backward' } }, signs());
    await collect(runSchedule(b.ir, b.p, b.data, { runId: 'r', seed: 1 }));
    expect(b.steps).toHaveLength(3);
    for (const s of b.steps) expect(s['heads.M.weight']).toEqual([-1, -1, -1, -1]);
    const st = setup({ gradAccumSteps: 3, maxEpochs: 1, clip: { type: 'value', max: 2, when: 'step' } }, signs());
    await collect(runSchedule(st.ir, st.p, st.data, { runId: 'r', seed: 1 }));
    for (const s of st.steps) expect(s['heads.M.weight']).toEqual([2, 2, 2, 2]);
  });
});

/** torch.optim.Adam's update (no weight decay), in float64, for a gradient sequence on one parameter element. */
function adamTrajectory(p0: number, grads: number[], lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): number[] {
  let p = p0;
  let m = 0;
  let v = 0;
  return grads.map((g, i) => {
    const t = i + 1;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    p -= (lr / (1 - b1 ** t)) * (m / (Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps));
    return p;
  });
}

describe("runSchedule: grad_accum_mode 'step_every_batch' (TFR_NET.py's update_epochs loop)", () => {
  it('steps after every batch on the running sum, twice when a window of k closes, and keeps the leftover steps', async () => {
    // 10 batches, k = 4, gradient 1 per batch: .grad runs 1, 2, 3, 4 (stepped twice), then again; the last two
    // batches of the epoch (1, 2) step as they go and the next epoch zeroes them on its first batch.
    const { ir, p, data, steps } = setup({ gradAccumSteps: 4, gradAccumMode: 'step_every_batch', maxEpochs: 2 }, constGradTask());
    const events = await collect(runSchedule(ir, p, data, { runId: 'r', seed: 1 }));
    const epoch = [1, 2, 3, 4, 4, 1, 2, 3, 4, 4, 1, 2];
    expect(steps.map((s) => s['heads.M.weight']![0])).toEqual([...epoch, ...epoch]);
    for (const s of steps) expect(new Set(s['heads.M.weight'])).toEqual(new Set([s['heads.M.weight']![0]]));
    const ends = events.filter((e): e is EpochEndEvent => e.kind === 'epoch.end');
    expect(ends.map((e) => e.optimizerSteps)).toEqual([12, 12]);
    const flags = events.filter((e) => e.kind === 'step.end').map((e) => (e as { optimizerStep: boolean }).optimizerStep);
    expect(flags).toEqual(new Array(20).fill(true));
  });

  it('moves the parameters along the Adam trajectory of that gradient sequence', async () => {
    const lr = 0.05;
    const { ir, p, data } = setup({ gradAccumSteps: 4, gradAccumMode: 'step_every_batch', maxEpochs: 1 }, { ...constGradTask(), lr });
    const w0 = Array.from(p.model.store.get('heads.M.weight').dataSync());
    const seen: number[][] = [];
    const origStep = p.optimizer.step.bind(p.optimizer);
    p.optimizer.step = (g: Grads) => {
      origStep(g);
      seen.push(Array.from(p.model.store.get('heads.M.weight').dataSync()));
    };
    await collect(runSchedule(ir, p, data, { runId: 'r', seed: 1 }));
    const grads = [1, 2, 3, 4, 4, 1, 2, 3, 4, 4, 1, 2];
    expect(seen).toHaveLength(grads.length);
    w0.forEach((w, j) => {
      const want = adamTrajectory(w, grads, lr);
      seen.forEach((row, t) => expect(row[j]).toBeCloseTo(want[t]!, 5));
    });
    // A different stepping rule would leave them elsewhere: one step per batch on that batch's gradient.
    const once = adamTrajectory(w0[0]!, new Array(10).fill(1), lr);
    expect(Math.abs(seen[seen.length - 1]![0]! - once[once.length - 1]!)).toBeGreaterThan(1e-3);
  });

  it("clips the running sum after every backward and steps on the clipped sum (when: 'backward')", async () => {
    // Per-batch gradients 3, 3, -3 with k = 3: .grad is clip(3) = 2, clip(2 + 3) = 2, clip(2 - 3) = -1 (stepped twice).
    const b = setup({ gradAccumSteps: 3, gradAccumMode: 'step_every_batch', maxEpochs: 1, clip: { type: 'value', max: 2, when: 'backward' } }, signs());
    await collect(runSchedule(b.ir, b.p, b.data, { runId: 'r', seed: 1 }));
    const w = [2, 2, -1, -1];
    expect(b.steps.map((s) => s['heads.M.weight']![0])).toEqual([...w, ...w, ...w, 2]);
  });
});

describe('runSchedule: selection, early stop, test split', () => {
  /** Validation losses scripted per epoch through the eval loss of a parameter-free task. */
  function scripted(values: number[], patience: number, maxEpochs: number | null = null) {
    let epoch = 0;
    const snapshots: number[][] = [];
    const task = (store: import('../../src/runtime/nn/params.js').ParamStore): TaskRuntime => ({
      name: 'script',
      type: 'test',
      trainLoss: () => tf.scalar(0),
      evalLoss: () => tf.scalar(values[Math.min(epoch, values.length - 1)]!),
      onEpochEnd: () => {
        snapshots.push(Array.from(store.get('heads.M.weight').dataSync()));
        epoch += 1;
      },
    });
    const ctx = setup({ maxEpochs, earlyStop: { metric: 'loss', split: 'valid', mode: 'min', patience, minDelta: 1e-6 } }, { extraTasks: (s) => [task(s)] });
    // The L1 task's eval loss is added to the scripted value; remove it so Loss == script.
    ctx.p.tasks[0] = { ...ctx.p.tasks[0]!, evalLoss: undefined } as TaskRuntime;
    delete (ctx.p.tasks[0] as { evalLoss?: unknown }).evalLoss;
    return { ...ctx, snapshots };
  }

  it('keeps the best epoch by the 1e-6 rule (ties and rounded ties are not improvements), stops after patience', async () => {
    // epoch:     1    2    3    4 (rounds to 0.4) 5     6
    const { ir, p, data, snapshots } = scripted([0.5, 0.4, 0.4, 0.40000004, 0.45, 0.41], 3);
    const saved: number[] = [];
    const events = await collect(runSchedule(ir, p, data, { runId: 'r', seed: 1, saveCheckpoint: (d) => (saved.push(d.epoch), { path: 'x', bytes: 0 }) }));
    const ends = events.filter((e): e is EpochEndEvent => e.kind === 'epoch.end');
    expect(ends.map((e) => e.improved)).toEqual([true, true, false, false, false]);
    expect(ends.map((e) => e.patienceLeft)).toEqual([3, 3, 2, 1, 0]);
    expect(ends.map((e) => e.valid.loss)).toEqual([0.5, 0.4, 0.4, 0.4, 0.45]);
    expect(saved).toEqual([1, 2]);
    expect(events.filter((e) => e.kind === 'checkpoint.saved').map((e) => (e as { epoch: number }).epoch)).toEqual([1, 2]);
    const end = events.at(-1) as RunEndSeedEvent;
    expect(end.kind).toBe('run.end');
    expect(end.status).toBe('completed');
    expect(end.bestEpoch).toBe(2);
    expect(end.epochs).toBe(5);
    // best weights restored: the weights after epoch 2, not the last epoch's
    expect(snapshots[1]).not.toEqual(snapshots[4]);
    expect(Array.from(p.model.store.get('heads.M.weight').dataSync())).toEqual(snapshots[1]);
    expect(end.result!.validAtBest['Loss']).toBe(0.4);
    expect(end.result!.test['Loss']).toBe(0.41);
  });

  it('an improvement of exactly 1e-6 counts; max mode needs >= best + 1e-6', async () => {
    const a = scripted([0.5, 0.499999, 0.4999985], 2);
    const ev = await collect(runSchedule(a.ir, a.p, a.data, { runId: 'r', seed: 1, maxEpochs: 3 }));
    // numpyRound(., 4) makes 0.499999 -> 0.5: not an improvement
    expect(ev.filter((e): e is EpochEndEvent => e.kind === 'epoch.end').map((e) => e.improved)).toEqual([true, false, false]);
    const b = setup({ maxEpochs: 3, select: { metric: 'Corr', split: 'valid', mode: 'max', minDelta: 1e-6 } });
    const evb = await collect(runSchedule(b.ir, b.p, b.data, { runId: 'r', seed: 1 }));
    const ends = evb.filter((e): e is EpochEndEvent => e.kind === 'epoch.end');
    expect(ends[0]!.select.metric).toBe('Corr');
    let best = 0;
    for (const e of ends) {
      expect(e.improved).toBe(e.select.value >= best + 1e-6);
      if (e.improved) best = e.select.value;
    }
  });

  it('max_epochs caps the run; a --max-epochs override wins', async () => {
    const a = scripted([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3], 8, 4);
    const ev = await collect(runSchedule(a.ir, a.p, a.data, { runId: 'r', seed: 1 }));
    expect(ev.filter((e) => e.kind === 'epoch.end')).toHaveLength(4);
    const b = scripted([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3], 8, 4);
    const evb = await collect(runSchedule(b.ir, b.p, b.data, { runId: 'r', seed: 1, maxEpochs: 2 }));
    expect(evb.filter((e) => e.kind === 'epoch.end')).toHaveLength(2);
  });

  it('never passes test data to the model before training ends, then exactly once', async () => {
    const { ir, p, data } = setup({ maxEpochs: 3 });
    const splitOfBatch = new WeakMap<Batch, string>();
    const seen: { split: string; afterTraining: boolean }[] = [];
    const batcherCalls: string[] = [];
    let trainingDone = false;
    const batches = (split: SplitData, o: Parameters<typeof iterateBatches>[1]) => {
      batcherCalls.push(split.name);
      const list = [...iterateBatches(split, o)];
      for (const b of list) splitOfBatch.set(b, split.name);
      return list;
    };
    const fwd = p.model.forward.bind(p.model);
    p.model.forward = (batch, ctx) => {
      seen.push({ split: splitOfBatch.get(batch) ?? '?', afterTraining: trainingDone });
      return fwd(batch, ctx);
    };
    const opts: ExecuteOptions = { runId: 'r', seed: 1, batches };
    const events = await collect(runSchedule(ir, p, data, opts), (e) => {
      if (e.kind === 'epoch.end' && e.epoch === 3) trainingDone = true;
    });
    const testForwards = seen.filter((s) => s.split === 'test');
    expect(testForwards.length).toBe(4); // 16 samples / batch 4, one pass
    expect(testForwards.every((s) => s.afterTraining)).toBe(true);
    expect(batcherCalls.filter((s) => s === 'test')).toHaveLength(1);
    expect(batcherCalls.at(-1)).toBe('test');
    expect(seen.filter((s) => s.split === '?')).toHaveLength(0);
    const testEval = events.filter((e) => e.kind === 'eval.end' && e.split === 'test');
    expect(testEval).toHaveLength(1);
  });

  it('rejects selection on the test split', async () => {
    const { ir, p, data } = setup({ select: { metric: 'loss', split: 'test', mode: 'min', minDelta: 1e-6 } });
    await expect(collect(runSchedule(ir, p, data, { runId: 'r', seed: 1 }))).rejects.toThrow(/test split/);
  });
});

describe('runSchedule: learning, determinism, memory, interruption', () => {
  it('learns the fake regression, reproducibly for a seed, with a stable tensor count', async () => {
    const run = async () => {
      const { ir, p, data } = setup({ maxEpochs: 6, gradAccumSteps: 2 });
      const counts: number[] = [];
      const events = await collect(runSchedule(ir, p, data, { runId: 'r', seed: 7 }), (e) => {
        if (e.kind === 'epoch.end') counts.push(tf.memory().numTensors);
      });
      p.optimizer.dispose();
      p.model.dispose();
      return { events, counts };
    };
    const a = await run();
    const b = await run();
    const endA = a.events.at(-1) as RunEndSeedEvent;
    const endB = b.events.at(-1) as RunEndSeedEvent;
    expect(endA.result!.test).toEqual(endB.result!.test);
    expect(endA.result!.test['MAE']!).toBeLessThan(0.5);
    expect(endA.result!.test['Corr']!).toBeGreaterThan(0.9);
    expect(new Set(a.counts.slice(1)).size).toBe(1);
    const first = a.events[0]!;
    expect(first.kind).toBe('run.start');
    if (first.kind === 'run.start') {
      expect(first.stepsPerEpoch).toBe(10);
      expect(first.params.trainable).toBe(5);
    }
    for (const e of a.events) {
      expect(e.v).toBe(1);
      expect(e.runId).toBe('r');
    }
  });

  it('stops after the current step on abort: status interrupted, no test evaluation', async () => {
    const { ir, p, data } = setup({ maxEpochs: 5 });
    const ac = new AbortController();
    const events = await collect(runSchedule(ir, p, data, { runId: 'r', seed: 1, signal: ac.signal }), (e) => {
      if (e.kind === 'step.end' && e.epoch === 2 && e.step === 3) ac.abort();
    });
    const steps2 = events.filter((e) => e.kind === 'step.end' && e.epoch === 2);
    expect(steps2).toHaveLength(3);
    const end = events.at(-1) as RunEndSeedEvent;
    expect(end.status).toBe('interrupted');
    expect(end.epochs).toBe(1);
    expect(end.result).toBeUndefined();
    expect(events.some((e) => e.kind === 'eval.end' && e.split === 'test')).toBe(false);
  });

  it('calls beforeTraining once before epoch 1 and afterStep with that step\'s outputs', async () => {
    const calls: string[] = [];
    const { ir, p, data } = setup({ maxEpochs: 2 }, {
      extraTasks: () => [{
        name: 'hook',
        type: 'test',
        trainLoss: () => tf.scalar(0),
        beforeTraining: (train) => calls.push(`before:${train.n}`),
        afterStep: (out, batch, epoch) => {
          expect(out.heads['M']!.shape).toEqual([batch.size, 1]);
          expect(out.heads['M']!.isDisposed).toBe(false);
          calls.push(`step:${epoch}`);
        },
        onEpochEnd: (epoch) => ({ drift: epoch / 10 }),
      }],
    });
    const events = await collect(runSchedule(ir, p, data, { runId: 'r', seed: 1 }));
    expect(calls[0]).toBe('before:40');
    expect(calls.filter((c) => c === 'step:1')).toHaveLength(10);
    expect(calls.filter((c) => c.startsWith('before'))).toHaveLength(1);
    const tu = events.filter((e) => e.kind === 'task.update');
    expect(tu).toHaveLength(2);
    const ee = events.find((e): e is EpochEndEvent => e.kind === 'epoch.end')!;
    expect(ee.taskExtras['hook']).toEqual({ drift: 0.1 });
  });
});
