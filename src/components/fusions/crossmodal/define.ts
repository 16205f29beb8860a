// Catalog entry 'crossmodal': MulT's fusion - a cross-modal transformer `<target>_with_<source>` for every ordered
// pair of inputs, a self-attention memory `<target>_mem` over each target's concatenated cross-modal outputs, the
// memories' last steps concatenated. Schema, shape rule and parameter names; phases 2-5.

import { defineComponent, type ShapeContext } from '../../component.js';
import type { CrossmodalFusion } from '../../../compiler/spec/types.generated.js';
import { featureDim, type ParamDecl } from '../../../compiler/ir/types.js';
import { checkFusionInputs, sequenceType, transformerEncoderParams, vector } from '../../shape-helpers.js';

/** Each target's cross-modal encoders (one per other input, in input order), then its memory. */
export function crossmodalPlan(p: CrossmodalFusion): Array<{ target: string; sources: string[] }> {
  return p.inputs.map((t) => ({ target: t, sources: p.inputs.filter((s) => s !== t) }));
}

/**
 * The input that enhances the pair target <- source (TETFN's text-enhanced block), or undefined for a plain
 * cross-modal encoder: with `text_enhanced`, every pair that does not involve `via` itself.
 */
export function enhancedVia(p: CrossmodalFusion, target: string, source: string): string | undefined {
  const via = p.text_enhanced?.via;
  return via !== undefined && target !== via && source !== via ? via : undefined;
}

/** The parameters of the cross-modal block target <- source at width d (a text-enhanced block: two encoders). */
function blockParams(p: CrossmodalFusion, target: string, source: string, d: number): ParamDecl[] {
  const name = `${target}_with_${source}`;
  if (!enhancedVia(p, target, source)) return transformerEncoderParams(name, p.layers, d);
  return [...transformerEncoderParams(`${name}.lower_mha`, p.text_enhanced!.lower_layers, d), ...transformerEncoderParams(`${name}.upper_mha`, p.layers, d)];
}

export function memoryLayers(p: CrossmodalFusion): number {
  return p.memory_layers ?? Math.max(p.layers, 3);
}

/** Cross-modal attention dropout: one number, or one per source input (the crossmodal fusion and encoder). */
interface SourceDropouts {
  attn_dropout: number | Record<string, number>;
}

/** Attention dropout of the cross-modal encoder that reads `source`. */
export function sourceDropout(p: SourceDropouts, source: string): number {
  return typeof p.attn_dropout === 'number' ? p.attn_dropout : (p.attn_dropout[source] ?? 0);
}

/** Reports an `attn_dropout` map whose keys are not exactly the input names `names`. */
export function checkDropoutKeys(ctx: ShapeContext<SourceDropouts>, names: readonly string[]): void {
  const p = ctx.params;
  if (typeof p.attn_dropout === 'number') return;
  const keys = Object.keys(p.attn_dropout);
  const unknown = keys.filter((k) => !names.includes(k));
  const missing = names.filter((k) => !keys.includes(k));
  if (unknown.length > 0 || missing.length > 0) {
    const parts = [];
    if (unknown.length > 0) parts.push(`names ${unknown.map((k) => `'${k}'`).join(', ')}, which ${unknown.length === 1 ? 'is' : 'are'} not an input`);
    if (missing.length > 0) parts.push(`has no value for ${missing.map((k) => `'${k}'`).join(', ')}`);
    ctx.report('MSA4004', ctx.spanOf('attn_dropout'), { node: ctx.node, detail: `attn_dropout ${parts.join(' and ')}` }, {
      hint: `give one value per source input: {${names.map((i) => `${i}: 0.1`).join(', ')}}, or a single number`,
    });
  }
}

export default defineComponent<CrossmodalFusion>({
  kind: 'fusion',
  type: 'crossmodal',
  schema: 'components/fusions/crossmodal.schema.json',
  doc: "MulT's fusion: a cross-modal transformer for every ordered pair of input sequences, a self-attention memory per target over its cross-modal outputs, and the memories' last steps concatenated.",
  arity: { min: 2, max: Number.POSITIVE_INFINITY },
  accepts: ['sequence'],
  // MMSA's time-major numbering gives a sample's keys positions that depend on its row in the batch and the batch's
  // size, in training and evaluation alike: chunks would change every prediction, not only the gradient's sum.
  couplesBatch: (p) =>
    p.text_enhanced && (p.text_enhanced.upper_source_positions ?? 'time_major') === 'time_major'
      ? "text_enhanced.upper_source_positions: time_major numbers the upper encoders' keys over the whole batch (a sample's positions depend on its row and the batch size)"
      : undefined,
  examples: [
    {
      label: 'mult mosi',
      params: { type: 'crossmodal', inputs: ['text', 'audio', 'vision'], heads: 10, layers: 4, memory_layers: null, attn_dropout: { text: 0.3, audio: 0.2, vision: 0 }, memory_attn_dropout: 0.3, relu_dropout: 0, res_dropout: 0, embed_dropout: 0.2, attn_mask: true },
      inputs: [['text', sequenceType(46, 50)], ['audio', sequenceType(371, 50)], ['vision', sequenceType(496, 50)]],
    },
    {
      label: 'two inputs, no mask',
      params: { type: 'crossmodal', inputs: ['a', 'b'], heads: 2, layers: 1, memory_layers: 1, attn_dropout: 0.1, memory_attn_dropout: 0, relu_dropout: 0.1, res_dropout: 0.1, embed_dropout: 0, attn_mask: false },
      inputs: [['a', sequenceType(5, 8)], ['b', sequenceType(7, 8)]],
    },
  ],
  summary(p) {
    const n = p.inputs.length;
    const parts = [`${n * (n - 1)} cross-modal x ${p.layers} layers`, `${n} memories x ${memoryLayers(p)} layers`, `heads ${p.heads}`];
    if (p.attn_mask) parts.push('causal mask');
    if (p.text_enhanced) parts.push(`enhanced via ${p.text_enhanced.via} (lower ${p.text_enhanced.lower_layers} layers, positions)`);
    return `crossmodal(${p.inputs.join(', ')}; ${parts.join(', ')}) -> last steps`;
  },
  paramNames: (p) =>
    crossmodalPlan(p).flatMap(({ target, sources }) => [
      ...sources.flatMap((s) => blockParams(p, target, s, 1).map((d) => d.name)),
      ...transformerEncoderParams(`${target}_mem`, memoryLayers(p), 1).map((d) => d.name),
    ]),
  // Attention makes B x heads x Tq x Tk weights per layer, which the generic per-element bound misses by far at
  // MOSI's 375/500 frames. 'keep' tapes every layer op by op (the attention weights are one op that keeps them);
  // 'recompute' makes each layer one op that keeps its inputs and runs the layer again in the backward pass
  // (runtime/nn/transformer.ts), one layer at a time. Evaluation runs every encoder's layers in the forward's one
  // tf.tidy scope (no layer has a scope of its own): what each layer leaves (its [B, T, width] intermediates) stays
  // until the batch's outputs are read, while its attention scores and weights are freed when the attention op
  // returns, so the layers add up and one attention's scratch comes on top.
  stepMemory(node, { ir, batch, frozen, mode }) {
    const p = node.config;
    const steps = node.inputs.map((id) => {
      const t = ir.nodes.find((n) => n.id === id.split(':')[0])?.output.shape[1];
      return typeof t === 'number' ? t : 1;
    });
    const d = featureDim(ir.nodes.find((n) => n.id === node.inputs[0]?.split(':')[0])?.output ?? vector(0));
    const B = batch;
    let saved = 0;
    let peak = 0;
    let evalHeld = 0;
    let evalScratch = 0;
    let masks = 0;
    const layer = (tq: number, tk: number, width: number, n: number, dropout: number, cross: boolean, positions = false) => {
      const att = B * p.heads * tq * tk;
      // Keeping: about 51 [B, Tq, width] and 17 [B, Tk, width] tensors per layer until the backward pass ends
      // (projections, heads, LayerNorms, FFN at 4x width, and their gradients, which tfjs frees together at the end).
      // Calibrated on one epoch of MulT's MOSI config at MOSI's lengths: batch 8 peaked at a 3.44 GB heap.
      const kept = att + 51 * B * tq * width + 17 * B * tk * width;
      // Recomputing: a cross-modal layer's three pre-attention LayerNorms stay on the outer tape (about 14 tensors of
      // their input's size each, the outputs included); a self-attention layer holds little more than its input and
      // output. Calibrated on the batch-16 epoch at MOSI's lengths (docs/benchmarks.md).
      const recomputed = cross ? 14 * B * tq * width + 28 * B * tk * width : 4 * B * tq * width;
      saved += n * (mode === 'keep' ? kept : recomputed);
      // One layer's forward (scores, masked scores, weights, dropout mask, dropped weights) or backward (weights,
      // dropped weights, their gradient, the scores' gradient, the dropout mask) at a time; evaluation has no dropout.
      // Recomputing adds the layer's whole kept set, rebuilt while its backward runs.
      const scratch = 5 * att + 12 * B * Math.max(tq, tk) * width;
      peak = Math.max(peak, mode === 'keep' ? scratch : scratch + kept);
      // Evaluation, per encoder of n layers (in [B, T, width] units of the queries' or the keys' steps; measured on the
      // wasm backend with mmsa's native kernels, each heap buffer once): the scaled input, and the key and value
      // sources' own copies (with positions, each embedding's position tensor and sum too); per cross-modal layer 26
      // query-sized tensors (its LayerNorms, projections, the heads' transposes, the attention's output, the
      // feed-forward at 4x width) and 8 key-sized ones (the sources' LayerNorms, key and value projections and
      // transposes) and its query, key and value weight slices (3 width x width), per self-attention layer 35
      // query-sized ones; the final LayerNorm. One more of each per layer leaves room; the attention op itself holds
      // its scores, weights and dropped weights (3 B x heads x Tq x Tk) and its output while it runs. Without the
      // native kernels (MMSA_NATIVE=0) each LayerNorm is tensor ops that leave about 3 more of its input's size.
      // MulT at MOSI's lengths: 1.09x of the measured peak live bytes (docs/benchmarks.md).
      const embeds = (positions ? 3 : 1) * (cross ? tq + 2 * tk : tq);
      const perLayer = cross ? B * width * (27 * tq + 9 * tk) + 3 * width * width : B * width * 36 * tq;
      evalHeld += B * width * (embeds + tq) + n * perLayer;
      evalScratch = Math.max(evalScratch, 3 * att + B * tq * width);
      // The dropout masks are drawn in JS memory and held there until the backward pass (with residual and ReLU
      // dropout, 6 [B, Tq, width] more per layer).
      if (dropout > 0) masks += n * att;
      masks += n * ((p.res_dropout > 0 ? 2 : 0) + (p.relu_dropout > 0 ? 4 : 0)) * B * tq * width;
    };
    crossmodalPlan(p).forEach(({ target, sources }, ti) => {
      for (const s of sources) {
        const si = p.inputs.indexOf(s);
        const via = enhancedVia(p, target, s);
        if (via === undefined) {
          layer(steps[ti]!, steps[si]!, d, p.layers, sourceDropout(p, s), true);
          continue;
        }
        // Lower: the source's steps over via's; upper: the target's steps over the lower's output.
        layer(steps[si]!, steps[p.inputs.indexOf(via)]!, d, p.text_enhanced!.lower_layers, sourceDropout(p, via), true, true);
        layer(steps[ti]!, steps[si]!, d, p.layers, sourceDropout(p, via), true, true);
      }
      // The memory reads the cross-modal outputs concatenated over features (one more tensor of its width).
      if (sources.length > 1) evalHeld += B * steps[ti]! * sources.length * d;
      layer(steps[ti]!, steps[ti]!, sources.length * d, memoryLayers(p), p.memory_attn_dropout, false);
    });
    const evalBytes = 4 * (evalHeld + evalScratch);
    return frozen ? { saved: 0, transient: evalBytes, host: 0, eval: evalBytes } : { saved: 4 * saved, transient: 4 * peak, host: 4 * masks, eval: evalBytes };
  },
  // MMSA's TransformerEncoder registers a `version` buffer (fairseq's state-dict version), and its sinusoidal position
  // embedding a one-element `_float_tensor` buffer (a dtype carrier); nothing reads either.
  mmsaNames: {
    ignore: (p: CrossmodalFusion) =>
      crossmodalPlan(p).flatMap(({ target, sources }) => [
        ...sources.flatMap((s) =>
          enhancedVia(p, target, s)
            ? ['lower_mha', 'upper_mha'].flatMap((m) => [`${target}_with_${s}.${m}.version`, `${target}_with_${s}.${m}.embed_positions._float_tensor`])
            : [`${target}_with_${s}.version`],
        ),
        `${target}_mem.version`,
      ]),
  },
  infer(ctx) {
    const p = ctx.params;
    if (!checkFusionInputs(ctx, 'crossmodal', ['sequence'], { kindCode: 'MSA4002' })) return undefined;
    checkDropoutKeys(ctx, p.inputs);
    const via = p.text_enhanced?.via;
    if (via !== undefined && !p.inputs.includes(via)) {
      ctx.report('MSA4004', ctx.spanOf('text_enhanced'), { node: ctx.node, detail: `text_enhanced.via '${via}' is not an input` }, {
        hint: `name one of the inputs: ${p.inputs.map((i) => `'${i}'`).join(', ')}`,
      });
      return undefined;
    }
    const first = ctx.inputs[0];
    if (!first) return undefined;
    const d = featureDim(first.type);
    let ok = true;
    for (const other of ctx.inputs.slice(1)) {
      const od = featureDim(other.type);
      if (od !== d) {
        ok = false;
        ctx.report('MSA4004', other.span, {
          node: ctx.node,
          detail: `every input must have the same width: '${first.name}' gives ${d} features, '${other.name}' ${od}`,
        }, { hint: 'project the inputs to one width first (MulT: conv1d encoders with the same `out`)' });
      }
    }
    const mem = (ctx.inputs.length - 1) * d;
    for (const [what, width] of [['the inputs\' width', d], ['the memories\' width', mem]] as const) {
      if (width % p.heads !== 0) {
        ok = false;
        ctx.report('MSA4004', ctx.spanOf('heads'), { node: ctx.node, detail: `${p.heads} heads do not divide ${what} ${width}` });
      }
    }
    if (!ok) return undefined;
    const params: ParamDecl[] = [];
    for (const { target, sources } of crossmodalPlan(p)) {
      for (const s of sources) params.push(...blockParams(p, target, s, d));
      params.push(...transformerEncoderParams(`${target}_mem`, memoryLayers(p), mem));
    }
    return { output: vector(ctx.inputs.length * mem), params };
  },
});
