// Contracts of phase 6 (lower): the tfjs model, task runtimes (losses + hooks such as ULGM) and optimizer groups
// built from the IR, as the executor (phase 7) drives them. Implementations live beside this file.

import type * as tf from '@tensorflow/tfjs';
import type { Ir } from '../../compiler/ir/types.js';
import type { Batch, SplitData } from '../data/types.js';
import type { ParamStore, ForwardCtx } from '../nn/params.js';
import type { Adam } from '../train/optim/adam.js';

/** What one forward pass gives: per head its output ([B,1] regression or [B,C] logits) and named features. */
export interface ModelOutputs {
  /** Head name -> output tensor. */
  heads: Record<string, tf.Tensor>;
  /** Head name -> its first hidden activation ([B, hidden0]); only heads with hidden layers. */
  features: Record<string, tf.Tensor>;
  /** Every node's output by node id, and every named output as `<node id>:<name>`, for tasks reading references. */
  nodes?: Record<string, tf.Tensor>;
}

export interface LoweredModel {
  ir: Ir;
  /** Every variable is named `<node id>.<local name>` exactly as the IR's ParamDecls (catalog names). */
  store: ParamStore;
  /** Runs the graph on a batch; call inside tf.tidy / tf.variableGrads. `ctx.training` switches dropout/BatchNorm. */
  forward(batch: Batch, ctx: ForwardCtx): ModelOutputs;
  dispose(): void;
}

/** A task at run time: its loss, plus optional hooks (ULGM keeps label banks across steps). */
export interface TaskRuntime {
  name: string;
  type: string;
  /** Loss of this task for a training batch (a scalar tensor; weighted by the task weight already). */
  trainLoss(out: ModelOutputs, batch: Batch, epoch: number): tf.Scalar;
  /**
   * Per-head parts of the last trainLoss (head name -> value), for tasks that train several heads (ULGM: T, A, V).
   * Single-head tasks leave it out; their loss is their head's.
   */
  lastHeadLosses?(): Record<string, number>;
  /** Loss for validation/test batches (plain loss against the human labels); undefined when the task has no eval loss. */
  evalLoss?(out: ModelOutputs, batch: Batch): tf.Scalar;
  /** Once before epoch 1 over the training split (ULGM's label-bank initialisation). */
  beforeTraining?(train: SplitData): void;
  /** After every training step's backward pass, with the forward outputs of that step (detached values). */
  afterStep?(out: ModelOutputs, batch: Batch, epoch: number): void;
  /** End of each epoch (e.g. save label banks); returns data to put in the epoch event. */
  onEpochEnd?(epoch: number): Record<string, unknown> | void;
  /** State to checkpoint / restore (ULGM banks). */
  snapshot?(): unknown;
  restore?(state: unknown): void;
}

export interface LoweredPipeline {
  model: LoweredModel;
  tasks: TaskRuntime[];
  /** Adam over the IR's parameter groups (lr, weight decay, no-decay split, frozen groups). */
  optimizer: Adam;
}

export interface LowerOptions {
  /** Run seed: every layer's initial weights derive from it and the layer's name. */
  seed: number;
  /** Split sizes (ULGM sizes its banks by the training split). */
  trainSize: number;
  /** Directory to write artefacts tasks produce (ULGM's label banks), when asked to. */
  outDir?: string;
}
