// Catalog entry 'window_pool': fixed windows over interview-level sequences (10^4 frames), each summarised by its
// mean or max over valid frames, optionally wrapping the sequence encoder that reads the summaries. Phases 2-5.

import { defineComponent, lookupComponent, type ComponentDef, type NodeMemory } from '../../component.js';
import type { Encoder, Modality, WindowPoolEncoder } from '../../../compiler/spec/types.generated.js';
import type { IrNode, TensorType } from '../../../compiler/ir/types.js';
import { checkDeclaredDim, expectKind, sequenceType, singleInput } from '../../shape-helpers.js';

/** Frames between window starts: `stride`, or the window itself (non-overlapping chunks). */
export function strideOf(p: WindowPoolEncoder): number {
  return p.stride ?? p.window;
}

/** Windows over T frames: one starting at every stride that begins inside the sequence (the last may be partial). */
export function countWindows(T: number, stride: number): number {
  return Math.max(1, Math.ceil(T / stride));
}

/** The window sequence's type: T becomes the window count; a modality's lengths become window counts per row. */
export function pooledType(input: TensorType, p: WindowPoolEncoder): TensorType {
  const [, T, D] = input.shape as ['B', number, number];
  return { ...input, shape: ['B', countWindows(T, strideOf(p)), D] };
}

export function innerDef(p: WindowPoolEncoder): ComponentDef | undefined {
  return p.encoder ? lookupComponent('encoder', p.encoder.type) : undefined;
}

/**
 * The wrapped encoder's params with the defaults it derives from its input (lstm: packed when there are lengths), as
 * phase 3 would set them were it reading the window sequence directly; without `pooled`, the params as written.
 */
export function innerParams(enc: Encoder, pooled: TensorType | undefined): Record<string, unknown> {
  const def = lookupComponent('encoder', enc.type);
  const own = enc as unknown as Record<string, unknown>;
  // Without the input (the plan line, parameter names) only what the spec wrote is known.
  if (!pooled) return own;
  const modality = { feature: '', lengths: pooled?.lengths ?? null, preprocess: { time_mean: false }, align: null } as unknown as Modality;
  const extra = def?.defaults?.(enc, { modality, dataset: undefined }) ?? {};
  const out = { ...own };
  for (const [k, v] of Object.entries(extra)) if (out[k] === undefined) out[k] = v;
  return out;
}

const INNER = 'encoder';

function summarize(p: WindowPoolEncoder): string {
  const s = strideOf(p);
  const pool = `window_pool(window ${p.window}${s === p.window ? '' : `, stride ${s}`}, ${p.op})`;
  const def = innerDef(p);
  return p.encoder && def ? `${pool} -> ${def.summary(innerParams(p.encoder, undefined))}` : pool;
}

export default defineComponent<WindowPoolEncoder>({
  kind: 'encoder',
  type: 'window_pool',
  schema: 'components/encoders/window_pool.schema.json',
  doc: 'Fixed windows over a long sequence, each summarised by its mean or max over valid frames; the summaries are the new sequence, read by the wrapped encoder.',
  accepts: ['sequence'],
  outputKind: (p) => (p.encoder ? innerDef(p)?.outputKind?.(innerParams(p.encoder, undefined) as never) : 'sequence'),
  examples: [
    { label: 'chunks', params: { type: 'window_pool', window: 4, op: 'mean', encoder: null }, inputs: [['audio', sequenceType(10, 3, { lengths: 'audio_lengths' })]] },
    {
      label: 'overlapping, then lstm',
      params: { type: 'window_pool', window: 100, stride: 50, op: 'max', encoder: { type: 'lstm', hidden: 8, layers: 1, dropout: 0, bidirectional: false, out: 4 } },
      inputs: [['audio', sequenceType(10000, 5, { lengths: 'audio_lengths' })]],
    },
  ],
  summary: summarize,
  namedOutputs: (p) => (p.encoder ? [...(innerDef(p)?.namedOutputs?.(innerParams(p.encoder, undefined)) ?? []), 'windows'] : []),
  paramNames(p) {
    const def = innerDef(p);
    if (!p.encoder || !def?.paramNames) return [];
    return def.paramNames(innerParams(p.encoder, undefined)).map((n) => `${INNER}.${n}`);
  },
  infer(ctx) {
    const p = ctx.params;
    const input = singleInput(ctx);
    if (!input || !expectKind(ctx, 'window_pool', input, ['sequence'])) return undefined;
    checkDeclaredDim(ctx, p.in_dim, input, 'in_dim');
    const pooled = pooledType(input.type, p);
    if (!p.encoder) return { output: pooled, params: [] };
    const def = innerDef(p);
    if (!def?.infer) return undefined;
    const at = ctx.spanOf(INNER);
    // The wrapped encoder sees the window sequence as its one input; its diagnostics point at `encoder:`.
    const res = def.infer({
      ...ctx,
      node: `${ctx.node}.${INNER}`,
      params: innerParams(p.encoder, pooled),
      inputs: [{ ...input, name: `${input.name} windows`, type: pooled }],
      span: at,
      spanOf: () => at,
    });
    if (!res) return undefined;
    // The window sequence is published as `<node>:windows`, so the plan shows the reduced length.
    return { ...res, params: res.params.map((d) => ({ ...d, name: `${INNER}.${d.name}` })), features: { ...res.features, windows: pooled } };
  },
  stepMemory(node, ctx): NodeMemory {
    const { ir, batch } = ctx;
    // What the windows cost, and the wrapped encoder at the window rate.
    const inId = node.inputs[0]?.split(':')[0];
    const input = ir.nodes.find((n) => n.id === inId)?.output;
    const p = node.config;
    const [, T, D] = (input?.shape ?? ['B', 1, 1]) as ['B', number, number];
    const n = countWindows(T, strideOf(p));
    // The masked (for max, penalised) input, its padded copy and the block reduction: ~4 floats a frame. Nothing
    // flows back through the windows (they read a modality, before any parameter), so no gradients of frames.
    const pool = 4 * batch * (4 * T * D + 4 * n * D);
    const outElems = node.output.shape.slice(1).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
    // The wrapped encoder's own hook where it has one (at the window rate), else the plan's generic bound.
    const def = innerDef(p);
    const windows = { ...node, id: `${node.id}:windows`, kind: 'input', inputs: [], output: pooledType(input ?? node.output, p) } as unknown as IrNode;
    const innerNode = p.encoder ? ({ ...node, id: `${node.id}.encoder`, type: p.encoder.type, inputs: [windows.id], config: innerParams(p.encoder, windows.output) } as IrNode) : undefined;
    const own = innerNode && def?.stepMemory ? def.stepMemory(innerNode, { ...ctx, ir: { ...ctx.ir, nodes: [...ctx.ir.nodes, windows] } }) : undefined;
    const inner = own ? own.saved : p.encoder ? 4 * 16 * batch * (n * D + outElems) : 0;
    return { saved: pool + inner, transient: pool, host: 0, eval: pool + inner };
  },
});

