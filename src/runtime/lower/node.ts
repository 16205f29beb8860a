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

export type NodeLowering = (node: IrNode, ctx: LowerNodeContext) => LoweredNode;

export interface LowerTaskContext {
  ir: Ir;
  /** ULGM sizes its banks by the training split. */
  trainSize: number;
  outDir?: string;
}

export type TaskLowering = (task: IrTask, ctx: LowerTaskContext) => TaskRuntime;

export type ComponentLowering =
  | { kind: 'encoder' | 'fusion' | 'head'; lowerNode: NodeLowering }
  | { kind: 'task'; lowerTask: TaskLowering };

/** Typed reads of a node's normalized config (the compiler has validated it; a miss is an internal bug). */
export function cfgNumber(node: { id?: string; name?: string; config: Record<string, unknown> }, key: string, fallback?: number): number {
  const v = node.config[key];
  if (typeof v === 'number') return v;
  if (fallback !== undefined && (v === undefined || v === null)) return fallback;
  throw internal(node, key, 'a number', v);
}

export function cfgBool(node: { id?: string; name?: string; config: Record<string, unknown> }, key: string, fallback: boolean): boolean {
  const v = node.config[key];
  if (typeof v === 'boolean') return v;
  if (v === undefined || v === null) return fallback;
  throw internal(node, key, 'a boolean', v);
}

export function cfgString(node: { id?: string; name?: string; config: Record<string, unknown> }, key: string, fallback?: string): string {
  const v = node.config[key];
  if (typeof v === 'string') return v;
  if (fallback !== undefined && (v === undefined || v === null)) return fallback;
  throw internal(node, key, 'a string', v);
}

export function cfgNumbers(node: { id?: string; name?: string; config: Record<string, unknown> }, key: string): number[] {
  const v = node.config[key];
  if (v === undefined || v === null) return [];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  throw internal(node, key, 'a list of numbers', v);
}

function internal(node: { id?: string; name?: string }, key: string, want: string, got: unknown): MmsaError {
  const where = node.id ?? node.name ?? '?';
  return new MmsaError('MSA5002', `internal: '${where}' config.${key} should be ${want}, got ${JSON.stringify(got)}`, {
    hint: 'this is a bug in the compiler or the lowering; please report it with the pipeline file',
    details: { node: where, key },
  });
}

/** The feature (last) size of an IR node's output, which must be concrete at lowering time. */
export function outDim(node: IrNode): number {
  const d = node.output.shape[node.output.shape.length - 1];
  if (typeof d !== 'number') throw new MmsaError('MSA5002', `internal: '${node.id}' has no concrete feature size`);
  return d;
}

export function onlyInput(node: IrNode, ctx: LowerNodeContext): IrNode {
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
