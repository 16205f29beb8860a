// One epoch of training as MMSA's: the stages in order (a stage per batch shares its pass with the batch stages next
// to it; a stage per epoch makes a pass of its own), seeded shuffles and dropout, micro-batches, gradient accumulation
// (reference, corrected or TFR-Net's step_every_batch), clipping, one optimizer over each stage's groups, and step.end
// events. Phase 7 (execute).

import * as tf from '@tensorflow/tfjs';
import type { Ir, IrStage } from '../../compiler/ir/types.js';
import { microBatchCount, splitBatch } from '../data/batching.js';
import type { LoadedDataset } from '../data/types.js';
import type { EventBody, StepEndEvent } from '../events.js';
import type { LoweredPipeline, ModelOutputs, TaskRuntime } from '../lower/types.js';
import { trainCtx } from '../nn/params.js';
import { deriveSeed } from '../random.js';
import type { TrainCallback } from './callbacks/callback.js';
import { STREAM, type Batcher } from './evaluate.js';
import { guardStepLoss } from './loss-guard.js';
import { clipGradNorm, clipGradValue, disposeGrads, type AdamGroup, type Grads } from './optim/adam.js';
import { GradAccumulator } from './optim/grad-accum.js';

/** A stage as the loop runs it: the variables it updates, the optimizer groups they sit in, its tasks. */
export interface RunStage {
  name: string;
  every: IrStage['every'];
  tasks: TaskRuntime[];
  groups: AdamGroup[];
  vars: tf.Variable[];
  scheduler: IrStage['scheduler'];
  /** Its gradient sums over the batches of one optimizer step (outside the wasm heap with several batches a step). */
  accum: GradAccumulator;
  /** Share of the pass's batches it trains on (1: all). */
  fraction: number;
  /** The variables it differentiates: its own, or every trainable one (`grads: all`, clipped together). */
  gradVars: tf.Variable[];
}

/**
 * The stages of the IR over the lowered pipeline. Without declared stages the one stage trains every variable with
 * every task; a declared stage gets its groups (with their `_no_decay` halves) and its tasks.
 */
export function runStages(ir: Ir, pipeline: LoweredPipeline, microBatches = microBatchCount(ir.schedule.microBatches)): RunStage[] {
  const { optimizer, tasks } = pipeline;
  // Several batches or chunks per step: the running sums leave the heap, so a chunk's backward never sits next to them.
  const host = Math.max(1, Math.floor(ir.schedule.gradAccumSteps)) > 1 || microBatches > 1;
  if (!ir.schedule.stagesDeclared) {
    const groups = optimizer.groups.filter((g) => g.trainable);
    const vars = optimizer.variables().filter((v) => v.trainable);
    return [{ name: ir.schedule.stages[0]?.name ?? 'main', every: 'batch', tasks: [...tasks], groups, vars, scheduler: ir.schedule.stages[0]?.scheduler ?? null, accum: new GradAccumulator({ host }), fraction: 1, gradVars: vars }];
  }
  const every = optimizer.variables().filter((v) => v.trainable);
  return ir.schedule.stages.map((st) => {
    const groups = optimizer.groups.filter((g) => g.trainable && st.groups.some((n) => g.name === n || g.name === `${n}_no_decay`));
    const vars = groups.flatMap((g) => g.params).filter((v) => v.trainable);
    return {
      name: st.name,
      every: st.every,
      tasks: tasks.filter((t) => st.tasks.includes(t.name)),
      groups,
      vars,
      scheduler: st.scheduler,
      accum: new GradAccumulator({ host }),
      fraction: st.fraction ?? 1,
      gradVars: st.grads === 'all' ? every : vars,
    };
  });
}

/** Passes over the training data in an epoch: consecutive per-batch stages share one, a per-epoch stage has its own. */
export function passesOf(stages: readonly RunStage[]): RunStage[][] {
  const out: RunStage[][] = [];
  for (const st of stages) {
    const last = out[out.length - 1];
    if (st.every === 'batch' && last && last[0]!.every === 'batch') last.push(st);
    else out.push([st]);
  }
  return out;
}

export interface EpochTotals {
  lossSum: number;
  nBatches: number;
  taskLossSums: Record<string, number>;
  headLossSums: Record<string, number>;
  optimizerSteps: number;
  interrupted: boolean;
}

export interface TrainEpochOptions {
  ir: Ir;
  pipeline: LoweredPipeline;
  data: LoadedDataset;
  stages: readonly RunStage[];
  callbacks: readonly TrainCallback[];
  seed: number;
  epoch: number;
  batches: Batcher;
  runId: string;
  stepsPerEpoch: number;
  /** Chunks per batch as the memory plan resolved train.micro_batches (default: the spec's count, 'auto' as 1). */
  microBatches?: number | undefined;
  signal?: AbortSignal | undefined;
  emit(body: EventBody<StepEndEvent>): StepEndEvent;
}

/** Gradient accumulation of one stage within a pass: k batches per optimizer step. */
interface Accumulator {
  counter: number;
  sums: GradAccumulator;
}

function yieldToLoop(): Promise<void> {
  // Lets signal handlers (Ctrl-C) and I/O run between CPU-bound steps.
  return new Promise((r) => setImmediate(r));
}

function clipGrads(g: Grads, clip: NonNullable<Ir['schedule']['clip']>): Grads {
  return clip.type === 'value' ? clipGradValue(g, clip.max) : clipGradNorm(g, clip.max).grads;
}

function scaleGrads(g: Grads, s: number): Grads {
  const out: Grads = {};
  for (const [n, t] of Object.entries(g)) out[n] = tf.mul(t, s);
  return out;
}

function mapKeep(m: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [k, t] of Object.entries(m)) out[k] = tf.keep(t);
  return out;
}

/**
 * A batch's outputs from its chunks' (each disposed here): every output with a row per sample, concatenated in order;
 * outputs of another shape (a node's scalar loss) have no whole-batch value and are left out.
 */
function concatOutputs(parts: readonly ModelOutputs[], sizes: readonly number[]): ModelOutputs {
  const join = (pick: (o: ModelOutputs) => Record<string, tf.Tensor>): Record<string, tf.Tensor> => {
    const out: Record<string, tf.Tensor> = {};
    for (const key of Object.keys(pick(parts[0]!))) {
      const ts = parts.map((p) => pick(p)[key]);
      if (ts.every((t, i) => t !== undefined && t.rank >= 1 && t.shape[0] === sizes[i])) out[key] = tf.concat(ts as tf.Tensor[], 0);
    }
    return out;
  };
  const whole = { heads: join((o) => o.heads), features: join((o) => o.features) };
  for (const p of parts) disposeOutputs(p);
  return whole;
}

function disposeOutputs(o: ModelOutputs): void {
  const seen = new Set<tf.Tensor>();
  for (const t of [...Object.values(o.heads), ...Object.values(o.features)]) {
    if (seen.has(t)) continue;
    seen.add(t);
    t.dispose();
  }
}

/** Trains one epoch, yielding step.end events; returns the epoch's totals. */
export async function* trainEpoch(o: TrainEpochOptions): AsyncGenerator<StepEndEvent, EpochTotals> {
  const s = o.ir.schedule;
  const { model, optimizer } = o.pipeline;
  const k = Math.max(1, Math.floor(s.gradAccumSteps));
  const microBatches = o.microBatches ?? microBatchCount(o.ir.schedule.microBatches);
  const totals: EpochTotals = { lossSum: 0, nBatches: 0, taskLossSums: {}, headLossSums: {}, optimizerSteps: 0, interrupted: false };
  for (const st of o.stages) for (const t of st.tasks) totals.taskLossSums[t.name] = 0;
  // Task name -> its only head, for tasks whose loss trains one head (l1/mse/cross_entropy).
  const singleHead = new Map(o.ir.tasks.filter((t) => t.heads.length === 1).map((t) => [t.name, t.heads[0]!] as const));

  const applyStep = (grads: Grads, count: number, stage: RunStage) => {
    let g = grads;
    const owned: Grads[] = [];
    if (s.gradAccumMode === 'corrected' && count > 1) {
      g = scaleGrads(g, 1 / count);
      owned.push(g);
    }
    if (s.clip && s.clip.when === 'step') {
      g = clipGrads(g, s.clip);
      owned.push(g);
    }
    // A stage that differentiates every parameter (for the clip norm) still steps only its own.
    if (stage.gradVars !== stage.vars) {
      const own = new Set(stage.vars.map((v) => v.name));
      g = Object.fromEntries(Object.entries(g).filter(([n]) => own.has(n)));
    }
    optimizer.step(g);
    for (const x of owned) disposeGrads(x);
    totals.optimizerSteps += 1;
  };

  let step = 0;
  const passes = passesOf(o.stages);
  for (const [pi, pass] of passes.entries()) {
    const accs: Accumulator[] = pass.map((st) => ({ counter: k, sums: st.accum }));
    // Every pass draws its own shuffle, as each iteration of a PyTorch DataLoader does; the first one keeps the
    // stream the single-stage loop always had.
    const shuffleSeed = pi === 0 ? deriveSeed(o.seed, STREAM.train) : deriveSeed(o.seed, STREAM.train, pi);
    const nBatches = Math.ceil(o.data.train.n / Math.max(1, Math.floor(s.batchSize)));
    let bi = -1;
    for (const batch of o.batches(o.data.train, { batchSize: s.batchSize, shuffle: true, seed: shuffleSeed, epoch: o.epoch })) {
      if (o.signal?.aborted) {
        totals.interrupted = true;
        break;
      }
      bi += 1;
      // A stage with a fraction trains on batch i of n while i / n < fraction (MMSA breaks out of the loader there).
      const active = pass.map((st) => bi / nBatches < st.fraction);
      if (!active.some(Boolean)) break;
      step += 1;
      const t0 = performance.now();
      let batchLoss = 0;
      let stepped = false;
      const taskLosses: Record<string, number> = {};
      const headLosses: Record<string, number> = {};
      for (const [si, stage] of pass.entries()) {
        if (!active[si]) continue;
        const a = accs[si]!;
        if (a.counter === k) a.sums.clear();
        a.counter -= 1;
        const baseSeed = si === 0 ? deriveSeed(o.seed, STREAM.dropout, o.epoch, step) : deriveSeed(o.seed, STREAM.dropout, o.epoch, step, si);
        const chunks = splitBatch(batch, microBatches);
        const outs: ModelOutputs[] = [];
        let stageLoss = 0;
        const stageTasks: Record<string, number> = {};
        const stageHeads: Record<string, number> = {};
        for (const [ci, chunk] of chunks.entries()) {
          // Each task's loss is a mean over the samples: weighted by its share of the batch, the chunks' losses and
          // gradients add up to the whole batch's. Chunks after the first draw their own dropout masks.
          const share = chunk.size / batch.size;
          const keep: { out?: ModelOutputs; losses: tf.Scalar[] } = { losses: [] };
          const ctx = trainCtx(ci === 0 ? baseSeed : deriveSeed(baseSeed, ci));
          const { value, grads } = tf.variableGrads(() => {
            const out = model.forward(chunk, ctx);
            const parts = stage.tasks.map((t) => t.trainLoss(out, chunk, o.epoch));
            const total = (parts.length === 1 ? parts[0]! : tf.addN(parts)).reshape([]) as tf.Scalar;
            keep.out = { heads: mapKeep(out.heads), features: mapKeep(out.features) };
            keep.losses = parts.map((p) => tf.keep(p));
            return share === 1 ? total : (tf.mul(total, share) as tf.Scalar);
          }, stage.gradVars);
          stageLoss += value.dataSync()[0]!;
          value.dispose();
          stage.tasks.forEach((t, i) => {
            const v = keep.losses[i]!.dataSync()[0]! * share;
            stageTasks[t.name] = (stageTasks[t.name] ?? 0) + v;
            // A single-head task's loss is its head's; multi-head tasks (ULGM) report their parts.
            const parts = t.lastHeadLosses?.() ?? (singleHead.get(t.name) !== undefined ? { [singleHead.get(t.name)!]: v / share } : {});
            for (const [h, hv] of Object.entries(parts)) stageHeads[h] = (stageHeads[h] ?? 0) + hv * share;
          });
          for (const l of keep.losses) l.dispose();
          // The count stays in batches: a batch's later chunks add to its sums without counting again.
          a.sums.add(grads, ci === 0 ? 1 : 0);
          if (keep.out) outs.push(keep.out);
        }
        batchLoss += stageLoss;
        for (const [name, v] of Object.entries(stageTasks)) {
          taskLosses[name] = v;
          totals.taskLossSums[name] = (totals.taskLossSums[name] ?? 0) + v;
        }
        for (const [h, hv] of Object.entries(stageHeads)) headLosses[h] = (headLosses[h] ?? 0) + hv;
        guardStepLoss({ epoch: o.epoch, step, loss: stageLoss, taskLosses: stageTasks, headLosses: stageHeads });
        // MMSA clips the .grad buffers after every backward, i.e. the running sum of the accumulation window (a whole
        // batch's backward: after its last chunk).
        if (s.clip && s.clip.when === 'backward') a.sums.mapRunning((g) => clipGrads(g, s.clip!));
        if (outs.length > 0) {
          // The tasks' hooks (ULGM's label banks) see the whole batch once, as without chunks.
          const outputs = outs.length === 1 ? outs[0]! : concatOutputs(outs, chunks.map((c) => c.size));
          for (const cb of o.callbacks) cb.onStepEnd?.({ epoch: o.epoch, batch, outputs, tasks: stage.tasks });
          disposeOutputs(outputs);
        }
        if (s.gradAccumMode === 'step_every_batch') {
          // TFR_NET.py: optimizer.step() after every backward on the .grad sums of the window so far, and a second
          // step on the same sums when the window closes (zero_grad only opens the next one).
          for (let i = a.counter === 0 ? 2 : 1; i > 0; i--) {
            const running = a.sums.peek();
            applyStep(running, 1, stage);
            disposeGrads(running);
          }
          if (a.counter === 0) a.counter = k;
          stepped = true;
        } else if (a.counter === 0) {
          const count = a.sums.count;
          const summed = a.sums.take();
          applyStep(summed, count, stage);
          disposeGrads(summed);
          a.counter = k;
          stepped = true;
        }
      }
      for (const [h, hv] of Object.entries(headLosses)) totals.headLossSums[h] = (totals.headLossSums[h] ?? 0) + hv;
      totals.lossSum += batchLoss;
      totals.nBatches += 1;
      const dt = (performance.now() - t0) / 1000;
      const lr = pass[0]!.groups[0]?.lr;
      yield o.emit({
        kind: 'step.end',
        runId: o.runId,
        epoch: o.epoch,
        step,
        steps: o.stepsPerEpoch,
        loss: batchLoss,
        taskLosses,
        headLosses,
        optimizerStep: stepped,
        ...(lr !== undefined ? { lr } : {}),
        examplesPerSec: dt > 0 ? batch.size / dt : 0,
      });
      await yieldToLoop();
    }
    // Leftover batches of the pass (n mod k): MMSA computes their gradients and then drops them; 'corrected' steps
    // ('step_every_batch' has stepped on them already).
    for (const [si, a] of accs.entries()) {
      if (a.sums.count === 0) continue;
      if (!totals.interrupted && s.gradAccumMode === 'corrected') {
        const count = a.sums.count;
        const summed = a.sums.take();
        applyStep(summed, count, pass[si]!);
        disposeGrads(summed);
      } else a.sums.clear();
    }
    if (totals.interrupted) break;
  }
  return totals;
}
