// Shared shapes of the per-component lowerings: what a lowered graph node computes and what a lowered task gets.
// Phase 6 (lower) builds these; phase 7 (execute) runs them through LoweredModel.forward and the TaskRuntimes.

import type * as tf from '@tensorflow/tfjs';
import type { IrNode, IrTask, Ir } from '../../compiler/ir/types.js';
import type { ForwardCtx, ParamStore } from '../nn/params.js';
import type { TaskRuntime } from './types.js';
import { MmsaError } from '../../errors.js';

/** What flows along an IR edge at run time. */
export interface NodeValue {
  tensor: tf.Tensor;
  /** True lengths per batch row, when the value is a sequence whose modality has them. */
  lengths?: Int32Array;
  /** A head's first hidden activation (ULGM's feature). */
  feature?: tf.Tensor;
  /** Named outputs the node publishes (read as `<node id>:<name>`), as its shape rule declared them. */
  outputs?: Record<string, tf.Tensor>;
}

export interface LowerNodeContext {
  store: ParamStore;
  ir: Ir;
  /** The IR nodes this node reads, in order (their output types give input sizes). */
  inputs: IrNode[];
}

export interface LoweredNode {
  apply(inputs: NodeValue[], ctx: ForwardCtx): NodeValue;
}

/** A node's lowering, reading the component's typed params from `node.config`. */
export type NodeLowering<P = any> = (node: IrNode<P>, ctx: LowerNodeContext) => LoweredNode;

export interface LowerTaskContext {
  ir: Ir;
  /** ULGM sizes its banks by the training split. */
  trainSize: number;
  outDir?: string;
}

export type TaskLowering<P = any> = (task: IrTask<P>, ctx: LowerTaskContext) => TaskRuntime;

/** What a component folder's lower.ts exports by default; the generated registry maps `kind/type` to it. */
export type ComponentLowering =
  | { kind: 'encoder' | 'fusion' | 'head'; lowerNode: NodeLowering }
  | { kind: 'task'; lowerTask: TaskLowering };

export function defineNodeLowering<P>(kind: 'encoder' | 'fusion' | 'head', lowerNode: NodeLowering<P>): ComponentLowering {
  return { kind, lowerNode };
}

export function defineTaskLowering<P>(lowerTask: TaskLowering<P>): ComponentLowering {
  return { kind: 'task', lowerTask };
}

/** The feature (last) size of an IR node's output, which must be concrete at lowering time. */
export function outDim(node: IrNode<unknown>): number {
  const d = node.output.shape[node.output.shape.length - 1];
  if (typeof d !== 'number') throw new MmsaError('MSA5002', `internal: '${node.id}' has no concrete feature size`);
  return d;
}

export function onlyInput(node: IrNode<unknown>, ctx: LowerNodeContext): IrNode {
  const i = ctx.inputs[0];
  if (!i || ctx.inputs.length !== 1) {
    throw new MmsaError('MSA5002', `internal: '${node.id}' expects exactly one input, got ${ctx.inputs.length}`);
  }
  return i;
}

export function firstValue(node: { id: string }, inputs: NodeValue[]): NodeValue {
  const v = inputs[0];
  if (!v) throw new MmsaError('MSA5002', `internal: '${node.id}' got no input value`);
  return v;
}
