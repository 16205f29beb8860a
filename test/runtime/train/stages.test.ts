// Training stages and a learning-rate scheduler, end to end on small pipelines (test/fixtures/pipelines): compiled,
// planned, lowered and trained for a few epochs. Phases 5-7.

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/compile.js';
import { printPlan } from '../../../src/compiler/ir/print-plan.js';
import type { Ir } from '../../../src/compiler/ir/types.js';
import { packageRoot } from '../../../src/paths.js';
import { setupBackend } from '../../../src/runtime/backend.js';
import { iterateBatches } from '../../../src/runtime/data/batching.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import type { EpochEndEvent, RunEvent, StepEndEvent } from '../../../src/runtime/events.js';
import { lowerPipeline } from '../../../src/runtime/lower/lower-pipeline.js';
import { runSchedule } from '../../../src/runtime/train/executor.js';
import { ReduceLrOnPlateau } from '../../../src/runtime/train/lr-schedulers.js';
import type { Grads } from '../../../src/runtime/train/optim/adam.js';
import { deriveSeed, Rng, xavierNormalInit } from '../../../src/runtime/nn/init.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

const fixture = (name: string) => join(packageRoot(), 'test/fixtures/pipelines', name);

function compile(name: string): Ir {
  const r = compileFile(fixture(name), { env: {} });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.ir!;
}

async function train(ir: Ir, watch?: { batches: number[][] }) {
  const data = await loadDataset(ir);
  const pipeline = lowerPipeline(ir, { seed: ir.schedule.seeds[0]!, trainSize: data.train.n });
  const steps: string[][] = [];
  const norms: number[] = [];
  const step = pipeline.optimizer.step.bind(pipeline.optimizer);
  pipeline.optimizer.step = (g: Grads) => {
    steps.push(Object.keys(g).map((v) => pipeline.model.store.byVariableName(v)!.key).sort());
    norms.push(Math.sqrt(Object.values(g).reduce((s, t) => s + Array.from(t.dataSync()).reduce((a, x) => a + x * x, 0), 0)));
    step(g);
  };
  const events: RunEvent[] = [];
  const batches = (split: Parameters<typeof iterateBatches>[0], o: Parameters<typeof iterateBatches>[1]) => {
    const out = [...iterateBatches(split, o)];
    if (split.name === 'train') watch?.batches.push(out.flatMap((b) => Array.from(b.indexes)));
    return out;
  };
  for await (const e of runSchedule(ir, pipeline, data, { runId: 'r', seed: ir.schedule.seeds[0]!, batches })) events.push(e);
  const groups = pipeline.optimizer.groups.map((g) => ({ name: g.name, lr: g.lr }));
  pipeline.optimizer.dispose();
  pipeline.model.dispose();
  return { events, steps, groups, norms };
}

describe('training stages', () => {
  it('are in the IR and the plan: groups, tasks, and a pass of its own for a per-epoch stage', () => {
    const ir = compile('stages.yaml');
    expect(ir.schedule.stages).toEqual([
      { name: 'aux', groups: ['audio'], tasks: ['aux'], every: 'epoch', scheduler: null },
      { name: 'main', groups: ['rest'], tasks: ['main'], every: 'batch', scheduler: null },
    ]);
    const plan = printPlan(ir);
    expect(plan).toContain('  stages (in order, every epoch):\n    aux: a pass of its own over the training data; groups audio; tasks aux\n    main: a step per batch; groups rest; tasks main\n');
  });

  it('step only their own groups with their own losses, each pass with its own shuffle', async () => {
    const ir = compile('stages.yaml');
    const watch = { batches: [] as number[][] };
    const { events, steps } = await train(ir, watch);
    // 24 samples / batch 8 = 3 batches per pass, two passes (aux, then main) per epoch, 2 epochs.
    expect(steps).toHaveLength(12);
    const audio = (k: string) => k.startsWith('encoders.audio.') || k.startsWith('heads.A.');
    for (const [i, keys] of steps.entries()) {
      const auxPass = i % 6 < 3;
      expect(keys.length, `step ${i}`).toBeGreaterThan(0);
      expect(keys.every(audio), `step ${i} of the ${auxPass ? 'aux' : 'main'} pass: ${keys.join(', ')}`).toBe(auxPass);
      if (!auxPass) expect(keys.some(audio)).toBe(false);
    }
    const start = events.find((e) => e.kind === 'run.start');
    expect(start && start.kind === 'run.start' && start.stepsPerEpoch).toBe(6);
    const stepEnds = events.filter((e): e is StepEndEvent => e.kind === 'step.end' && e.epoch === 1);
    expect(stepEnds.map((e) => Object.keys(e.taskLosses))).toEqual([['aux'], ['aux'], ['aux'], ['main'], ['main'], ['main']]);
    const ends = events.filter((e): e is EpochEndEvent => e.kind === 'epoch.end');
    expect(ends.map((e) => e.optimizerSteps)).toEqual([6, 6]);
    expect(Object.keys(ends[0]!.taskLosses).sort()).toEqual(['aux', 'main']);
    expect(ends[0]!.lr).toBeUndefined();
    // Two DataLoader iterations per epoch draw two different orders; the first keeps the single-stage stream.
    expect(watch.batches[0]).not.toEqual(watch.batches[1]);
    expect([...watch.batches[0]!].sort((a, b) => a - b)).toEqual([...watch.batches[1]!].sort((a, b) => a - b));
  });
});

describe("MMIM's stage keys", () => {
  it('train a stage on a fraction of the batches and clip every gradient together while it steps only its own', async () => {
    const ir = compile('stages-mmim.yaml');
    expect(ir.schedule.stages[0]).toMatchObject({ name: 'aux', fraction: 0.5, grads: 'all' });
    expect(ir.schedule.stages[1]!.fraction).toBeUndefined();
    expect(printPlan(ir)).toContain('aux: a pass of its own over the training data; groups audio; tasks aux; first 0.5 of the batches; gradients of every parameter (all clipped together)');
    const { events, steps, norms } = await train(ir);
    // 3 batches a pass: batch i trains while i / 3 < 0.5, so aux steps on 2, main on 3.
    const start = events.find((e) => e.kind === 'run.start');
    expect(start && start.kind === 'run.start' && start.stepsPerEpoch).toBe(5);
    expect(steps).toHaveLength(10);
    const audio = (k: string) => k.startsWith('encoders.audio.') || k.startsWith('heads.A.');
    for (const [i, keys] of steps.entries()) {
      const auxPass = i % 5 < 2;
      expect(keys.every(audio), `step ${i}: ${keys.join(', ')}`).toBe(auxPass);
      // The main stage's own gradients are clipped to norm 1e-3; aux's part of a norm over every gradient is smaller.
      if (auxPass) expect(norms[i]!).toBeLessThan(0.9e-3);
      else expect(norms[i]!).toBeCloseTo(1e-3, 6);
    }
  });

  it('train.reinit draws the weight matrices of the named groups again, leaving vectors and other groups', () => {
    const ir = compile('stages-mmim.yaml');
    const plain: Ir = { ...ir, schedule: { ...ir.schedule } };
    delete plain.schedule.reinit;
    const a = lowerPipeline(ir, { seed: 7, trainSize: 24 });
    const b = lowerPipeline(plain, { seed: 7, trainSize: 24 });
    let redrawn = 0;
    for (const e of a.model.store.entries()) {
      const va = Array.from(a.model.store.get(e.key).dataSync());
      const vb = Array.from(b.model.store.get(e.key).dataSync());
      const shape = a.model.store.get(e.key).shape;
      const inAudio = e.key.startsWith('encoders.audio.') || e.key.startsWith('heads.A.');
      if (inAudio && shape.length >= 2) {
        redrawn++;
        expect(va, e.key).not.toEqual(vb);
        const draw = xavierNormalInit()(shape, new Rng(deriveSeed(7, 'reinit', e.key)));
        expect(va, e.key).toEqual(Array.from(draw));
      } else expect(va, e.key).toEqual(vb);
    }
    expect(redrawn).toBeGreaterThanOrEqual(4);
    for (const p of [a, b]) {
      p.optimizer.dispose();
      p.model.dispose();
    }
  });
});

describe('ReduceLROnPlateau on the validation loss', () => {
  it('is in the plan and changes the groups as PyTorch would, epoch by epoch', async () => {
    const ir = compile('scheduler-plateau.yaml');
    expect(printPlan(ir)).toContain('  lr scheduler: plateau(valid loss min, factor 0.5, patience 0, threshold 0 rel, cooldown 0, min_lr 0, eps 1e-8), after each validation\n');
    const { events, groups } = await train(ir);
    const ends = events.filter((e): e is EpochEndEvent => e.kind === 'epoch.end');
    expect(ends.length).toBe(6);
    // The same scheduler fed the same validation losses gives the learning rates the run reported.
    const ref = new ReduceLrOnPlateau(ir.schedule.stages[0]!.scheduler as Extract<NonNullable<Ir['schedule']['stages'][0]['scheduler']>, { type: 'plateau' }>);
    const lrs = { lrs: [0.2, 0.05] };
    for (const e of ends) {
      ref.step(lrs, e.valid.loss);
      expect(e.lr).toEqual({ encoders: lrs.lrs[0], rest: lrs.lrs[1] });
    }
    // With patience 0 and an erratic tiny run, at least one reduction happens, and the optimizer holds the last rates.
    expect(lrs.lrs[0]).toBeLessThan(0.2);
    expect(groups.map((g) => g.lr)).toEqual(lrs.lrs);
  });
});
