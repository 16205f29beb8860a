// Test helpers for one component in isolation: its definition's shape rule gives the IR node, its own lowering
// builds it on a fresh ParamStore, and tasks get a hand-made IrTask; tests compare against plain-JS maths.

import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { getComponent } from '../../src/components/catalog.js';
import type { ComponentKind } from '../../src/components/component.js';
import type { IrNode, IrTask, TensorType } from '../../src/compiler/ir/types.js';
import type { Batch } from '../../src/runtime/data/types.js';
import type { LoweredNode, NodeValue } from '../../src/runtime/lower/node.js';
import { getLowering } from '../../src/runtime/lower/registry.js';
import type { ModelOutputs, TaskRuntime } from '../../src/runtime/lower/types.js';
import { ParamStore } from '../../src/runtime/nn/params.js';
import { runInfer } from '../compiler/components/fake-context.js';

export { seq, tokens, vec } from '../compiler/components/fake-context.js';

const span = { file: 'spec.yaml', start: 0, end: 0 };

export interface OneNode {
  node: IrNode;
  lowered: LoweredNode;
  store: ParamStore;
  /** The store's values as plain arrays, by local name (`lstm.weight_ih_l0`). */
  values(local: string): number[];
  dispose(): void;
}

function inputNode(name: string, type: TensorType): IrNode {
  return { id: `modalities.${name}`, kind: 'input', name, type: name, inputs: [], output: type, params: [], summary: '', config: {}, span };
}

/** The node the component's shape rule declares for these params and inputs, lowered by the component's lowering. */
export function lowerOne(kind: Exclude<ComponentKind, 'task'>, params: Record<string, unknown> & { type: string }, inputs: Array<[string, TensorType]>, seed = 1): OneNode {
  const def = getComponent(kind, params.type);
  if (!def) throw new Error(`no ${kind} '${params.type}'`);
  const id = kind === 'fusion' ? 'fusion' : `${kind}s.n`;
  const { result, reports } = runInfer(def, params, inputs, id);
  if (!result || reports.some((r) => r.code.startsWith('MSA4') && r.code !== 'MSA4005')) throw new Error(`shape rule failed: ${reports.map((r) => r.code).join(', ')}`);
  const ins = inputs.map(([n, t]) => inputNode(n, t));
  const node: IrNode = { id, kind, name: 'n', type: params.type, inputs: ins.map((i) => i.id), output: result.output, params: result.params, summary: def.summary(params), config: params, span };
  if (result.features) node.features = result.features;
  const l = getLowering(kind, params.type);
  if (!l || l.kind === 'task') throw new Error(`no lowering for ${kind} '${params.type}'`);
  const store = new ParamStore({ seed });
  const lowered = l.lowerNode(node, { store, ir: undefined as never, inputs: ins });
  // The lowering creates exactly what the shape rule declared.
  const made = store.entries().map((e) => e.key).sort();
  const declared = node.params.map((p) => `${id}.${p.name}`).sort();
  if (JSON.stringify(made) !== JSON.stringify(declared)) throw new Error(`lowering made ${made.join(', ')}, declared ${declared.join(', ')}`);
  return {
    node,
    lowered,
    store,
    values: (local) => Array.from(store.get(`${id}.${local}`).dataSync()),
    dispose: () => store.dispose(),
  };
}

export function value(t: tf.Tensor, lengths?: number[]): NodeValue {
  return lengths ? { tensor: t, lengths: Int32Array.from(lengths) } : { tensor: t };
}

/** A task as phase 5 would build it from normalized params (heads and targets from the definition). */
export function taskOf(params: Record<string, unknown> & { type: string; weight?: number; valid_loss?: boolean }, name = params.type): IrTask {
  const def = getComponent('task', params.type)!;
  return {
    name,
    type: params.type,
    heads: def.headRefs!(params).map((r) => r.name),
    targets: def.taskTargets!(params),
    weight: params.weight ?? 1,
    validLoss: params.valid_loss ?? true,
    summary: def.summary(params),
    hooks: def.hooks!(params),
    config: params,
    span,
  };
}

export function lowerTaskOf(task: IrTask, trainSize = 4): TaskRuntime {
  const l = getLowering('task', task.type);
  if (!l || l.kind !== 'task') throw new Error(`no task lowering '${task.type}'`);
  return l.lowerTask(task, { ir: undefined as never, trainSize });
}

export function batchWithLabels(y: number[], name = 'M'): Batch {
  return { indexes: Int32Array.from(y.map((_, i) => i)), size: y.length, features: {}, lengths: {}, labels: { [name]: Float32Array.from(y) } };
}

export const outputs = (head: string, t: tf.Tensor): ModelOutputs => ({ heads: { [head]: t }, features: {} });

/**
 * Checks tf.variableGrads of `loss` towards `vars` against central differences (step 1e-2) at a few flat positions of
 * each variable: |numeric - analytic| < tol * max(1, |numeric|). Every variable must get a non-zero gradient.
 */
export function expectCentralDifferences(loss: () => tf.Scalar, vars: tf.Variable[], tol: number, at: readonly number[] = [0, 7, 31]): void {
  const { value, grads } = tf.variableGrads(loss, vars);
  value.dispose();
  for (const v of vars) {
    const g = grads[v.name]!.dataSync();
    expect(g.some((x) => x !== 0), v.name).toBe(true);
    for (const k of at) {
      const keep = v.dataSync().slice();
      const lossAt = (x: number) => {
        const b = keep.slice();
        b[k] = keep[k]! + x;
        v.assign(tf.reshape(tf.tensor(b), v.shape));
        return tf.tidy(() => loss().dataSync()[0]!);
      };
      const num = (lossAt(1e-2) - lossAt(-1e-2)) / 2e-2;
      v.assign(tf.reshape(tf.tensor(keep), v.shape));
      expect(Math.abs(num - g[k]!), `${v.name}[${k}]`).toBeLessThan(tol * Math.max(1, Math.abs(num)));
    }
  }
  for (const g of Object.values(grads)) g.dispose();
}
