// lowerModel: the IR graph as a tfjs model over one ParamStore whose keys are exactly the IR's parameter names
// (`<node id>.<local name>`), seeded per variable from the run seed. Phase 6 (lower).

import type * as tf from '@tensorflow/tfjs';
import type { Ir, IrNode } from '../../compiler/ir/types.js';
import { MmsaError } from '../../errors.js';
import type { Batch } from '../data/types.js';
import { ParamStore, type ForwardCtx } from '../nn/params.js';
import { readInput } from './input.js';
import type { LoweredNode, NodeValue } from './node.js';
import { getLowering } from './registry.js';
import type { LoweredModel, ModelOutputs } from './types.js';

/** The node an input reference reads: `encoders.sp` for `encoders.sp:private_text`. */
function producerOf(ref: string): string {
  const colon = ref.indexOf(':');
  return colon < 0 ? ref : ref.slice(0, colon);
}

/**
 * The IR node an input reference reads, as the reading node's lowering sees it: a named output looks like a node of
 * its own whose output type is the named output's.
 */
function inputNode(byId: ReadonlyMap<string, IrNode>, ref: string): IrNode {
  const producer = byId.get(producerOf(ref))!;
  if (ref === producer.id) return producer;
  const name = ref.slice(producer.id.length + 1);
  const type = producer.features?.[name];
  if (!type) throw new MmsaError('MSA5002', `internal: '${ref}' names an output '${producer.id}' does not publish`);
  return { ...producer, id: ref, output: type };
}

/** Nodes in dependency order (the IR lists them so already; this guards against a reordering). */
function topoOrder(ir: Ir): IrNode[] {
  const byId = new Map(ir.nodes.map((n) => [n.id, n]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: IrNode[] = [];
  const visit = (n: IrNode): void => {
    if (done.has(n.id)) return;
    if (visiting.has(n.id)) throw new MmsaError('MSA5002', `internal: the IR graph has a cycle through '${n.id}'`);
    visiting.add(n.id);
    for (const ref of n.inputs) {
      const id = producerOf(ref);
      const d = byId.get(id);
      if (!d) throw new MmsaError('MSA5002', `internal: '${n.id}' reads '${id}', which is not an IR node`);
      visit(d);
    }
    visiting.delete(n.id);
    done.add(n.id);
    out.push(n);
  };
  for (const n of ir.nodes) visit(n);
  return out;
}

/** Every ParamDecl must exist in the store with its shape, and the store must hold nothing else. */
function checkStoreMatchesIr(ir: Ir, store: ParamStore): void {
  const problems: string[] = [];
  const declared = new Set<string>();
  for (const n of ir.nodes) {
    for (const p of n.params) {
      const key = `${n.id}.${p.name}`;
      declared.add(key);
      const e = store.entry(key);
      if (!e) problems.push(`'${key}' is declared but not created`);
      else if (e.shape.length !== p.shape.length || e.shape.some((d, i) => d !== p.shape[i])) {
        problems.push(`'${key}' is [${e.shape.join(', ')}], declared [${p.shape.join(', ')}]`);
      } else if (e.buffer !== (p.buffer === true)) problems.push(`'${key}' buffer flag differs from its declaration`);
    }
  }
  for (const e of store.entries()) if (!declared.has(e.key)) problems.push(`'${e.key}' is created but not declared`);
  if (problems.length > 0) {
    throw new MmsaError('MSA5002', `internal: the lowered model does not match the IR: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? ` (+${problems.length - 8} more)` : ''}`, {
      hint: 'the catalog shape rule and the lowering disagree; please report this with the pipeline file',
    });
  }
}

export function lowerModel(ir: Ir, opts: { seed: number }): LoweredModel {
  const store = new ParamStore({ seed: opts.seed, ...(ir.schedule.initRng ? { initRng: ir.schedule.initRng } : {}) });
  const order = topoOrder(ir);
  const byId = new Map(ir.nodes.map((n) => [n.id, n]));
  const lowered = new Map<string, LoweredNode>();
  try {
    for (const node of order) {
      if (node.kind === 'input') continue;
      const l = getLowering(node.kind, node.type);
      if (!l || l.kind === 'task') {
        throw new MmsaError('MSA5001', `component '${node.type}' cannot be lowered: no lowering for ${node.kind} '${node.type}' (${node.id})`);
      }
      lowered.set(node.id, l.lowerNode(node, { store, ir, inputs: node.inputs.map((ref) => inputNode(byId, ref)) }));
    }
    checkStoreMatchesIr(ir, store);
  } catch (e) {
    store.dispose();
    throw e;
  }

  const forward = (batch: Batch, ctx: ForwardCtx): ModelOutputs => {
    const values = new Map<string, NodeValue>();
    const heads: Record<string, tf.Tensor> = {};
    const features: Record<string, tf.Tensor> = {};
    const nodes: Record<string, tf.Tensor> = {};
    for (const node of order) {
      let v: NodeValue;
      if (node.kind === 'input') v = readInput(node, batch);
      else v = lowered.get(node.id)!.apply(node.inputs.map((ref) => values.get(ref)!), ctx);
      values.set(node.id, v);
      nodes[node.id] = v.tensor;
      // Named outputs are values of their own, read as `<node id>:<name>` by other nodes and by tasks.
      for (const [name, t] of Object.entries(v.outputs ?? {})) {
        values.set(`${node.id}:${name}`, { tensor: t });
        nodes[`${node.id}:${name}`] = t;
      }
      if (node.kind === 'head') {
        heads[node.name] = v.tensor;
        if (v.feature) features[node.name] = v.feature;
      }
    }
    return { heads, features, nodes };
  };

  return { ir, store, forward, dispose: () => store.dispose() };
}
