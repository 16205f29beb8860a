// What a layer of attention holds during a training step and an evaluation batch, for the memory plan: the attention
// weights (B x heads x Tq x Tk) and the per-token tensors of the layer around them. Free of tfjs. Phase 7 (execute).
import type { ActivationMode, NodeMemory } from './component.js';

/** One attention layer's shape: queries [B, Tq, d] over keys and values [B, Tk, d]. */
export interface AttentionLayerShape {
  batch: number;
  tq: number;
  tk: number;
  /** The model width (residual stream, LayerNorms). */
  d: number;
  heads: number;
  /** heads x head size: the width of q, k, v and the attended values. */
  inner: number;
  /** The feed-forward's hidden width (0 when the layer has none). */
  mlp: number;
  /** Keys and values from another sequence (default: when the lengths differ). */
  cross?: boolean;
}

/**
 * Floats of one ViT-style pre-norm layer (src/runtime/nn/transformer.ts `layout: 'vit'`, ALMT's blocks; the AHL
 * layer's attention is the same op): held until the backward pass ends (`saved`) and a moment's scratch (`transient`).
 * Keeping, the tape holds the attention weights, and per query token q, its scaled and head-major copies, the attended
 * values and their transposes, per key token k, v and their head-major copies (18 inner-wide tensors in all with
 * their gradients, which live until the backward pass ends), the LayerNorms' normalised values, the residual sums and
 * their gradients (20 d-wide) and the MLP's pre-activations, GELU and their gradients (8 mlp-wide). The backward of the
 * attention briefly holds two more weight-sized tensors (the weights' and the scores' gradients). Calibrated on the
 * wasm heap of one and two layers at ALMT's widths (d 128, 8 heads x 64, mlp 128) with 58, 383 and 508 positions:
 * measured 138, 180, 218 (one layer) and 350 (two layers) [B, T, d]-sized units; these formulas give 135, 196, 219
 * and 351. Recomputing (one op per layer that keeps its inputs and runs the layer again in its backward pass) holds
 * the layer's input until the backward and, while one layer's backward runs, that layer's whole kept set.
 */
export function attentionLayerFloats(s: AttentionLayerShape, mode: ActivationMode): { saved: number; transient: number; eval: number } {
  const att = s.batch * s.heads * s.tq * s.tk;
  const q = s.batch * s.tq;
  const k = s.batch * s.tk;
  const cross = s.cross ?? s.tq !== s.tk;
  const kept = att + q * (10 * s.inner + 14 * s.d + 8 * s.mlp) + k * (8 * s.inner + 6 * s.d);
  const scratch = 2 * att + Math.max(q, k) * (4 * s.inner + 8 * s.d);
  // Evaluation: the layer's forward (scores and weights, q, k, v with their head-major copies, the MLP), which stays
  // until the evaluation's tidy scope ends.
  const evalFloats = 2 * att + q * (5 * s.inner + 6 * s.d + 2 * s.mlp) + k * 4 * s.inner;
  if (mode === 'keep') return { saved: kept, transient: scratch, eval: evalFloats };
  return { saved: q * s.d + (cross ? k * s.d : 0), transient: kept + scratch, eval: evalFloats };
}

/**
 * The sum of several layers' memory in bytes: saved sets add up, one layer's scratch at a time. A layer given its own
 * mode keeps it whatever the plan's (the AHL layers' attention, which is no recomputed layer). In an evaluation the
 * layers run op by op with no scope of their own, so every layer's forward is held at once: they add up too.
 */
export function sumAttentionLayers(layers: readonly { shape: AttentionLayerShape; count: number; mode?: ActivationMode }[], mode: ActivationMode, frozen: boolean): NodeMemory {
  let saved = 0;
  let transient = 0;
  let evalFloats = 0;
  for (const { shape, count, mode: own } of layers) {
    if (count <= 0) continue;
    const f = attentionLayerFloats(shape, own ?? mode);
    saved += count * f.saved;
    transient = Math.max(transient, f.transient);
    evalFloats += count * f.eval;
  }
  const evalBytes = 4 * evalFloats;
  return frozen ? { saved: 0, transient: evalBytes, host: 0, eval: evalBytes } : { saved: 4 * saved, transient: 4 * transient, host: 0, eval: evalBytes };
}
