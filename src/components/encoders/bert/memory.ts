// What a BERT encoder holds in memory during a training step or an evaluation batch, from its architecture and the
// batch shape: the sizes the memory plan adds up. Free of tfjs (the plan runs before the backend). Phase 7 (execute).
import type { ActivationMode } from '../../component.js';
import type { BertConfig } from './define.js';

export interface BertStepMemory {
  /** Bytes the backward reads, summed over the layers, held in the tensor backend until the step's backward ends. */
  saved: number;
  /** Bytes in the backend for a moment: one layer's scratch plus the dense word-embedding gradient. */
  transient: number;
  /** Bytes in JS memory during a step: the dropout masks of every layer and the embedding gradient before upload. */
  host: number;
}

/**
 * Floats one encoder layer keeps for its backward (src/runtime/nn/bert/layer.ts): in 'keep' mode the input, q/k/v,
 * context, both LayerNorms' normalised values and output, the feed-forward pre- and post-activation (8 N H + 2 N I),
 * the attention probabilities (B heads L^2) and two per-token statistics; in 'recompute' mode the input only.
 */
export function bertLayerSavedFloats(c: Pick<BertConfig, 'hidden_size' | 'intermediate_size' | 'num_attention_heads'>, batch: number, length: number, mode: ActivationMode): number {
  const N = batch * length;
  const H = c.hidden_size;
  if (mode === 'recompute') return N * H + batch * length;
  return 8 * N * H + 2 * N * c.intermediate_size + batch * c.num_attention_heads * length * length + 2 * N + batch * length;
}

/**
 * Floats CENET's CE holds during a step (taped op by op, src/components/encoders/bert/nn.ts): per modality the
 * transform's two Linear outputs and its ReLU, K and V over the modality's steps, Q and the attended output, the
 * scores, scaled scores and softmax, then the concatenation, the shift and the sum over the tokens; and the gradients
 * of each, which tfjs keeps until the step's backward pass ends (CE's backward runs last, beside everything else's).
 * Measured on the wasm heap at MOSI's 50 tokens, 375 audio and 500 video frames and hidden 768: 933 MB at batch 16,
 * 1643 MB at batch 32, about 20 [B, T, H]-sized tensors per modality (the input Linears' reshapes and the Identity
 * copies tfjs saves for gradients included); at MOSI's lengths these dwarf the rest.
 */
export function ceSavedFloats(H: number, batch: number, length: number, steps: { audio: number; vision: number }): number {
  const N = batch * length;
  const perModality = (T: number) => 20 * batch * T * H + 4 * N * H + 6 * batch * length * T;
  return perModality(steps.audio) + perModality(steps.vision) + 8 * N * H;
}

/**
 * Memory of one fine-tuning step of a BERT encoder (parameters and their gradients are counted by the caller). With
 * frozen embeddings (CENET) neither the embeddings' activations nor the word table's dense gradient exist; frozen
 * weights under a hook (a frozen BERT whose hook trains) keep the activations but make no word-table gradient.
 */
export function bertStepMemory(
  c: BertConfig,
  batch: number,
  length: number,
  mode: ActivationMode,
  opts: { freezeEmbeddings?: boolean; frozenWeights?: boolean; ce?: { audio: number; vision: number } | undefined } = {},
): BertStepMemory {
  const layer = bertLayerSavedFloats(c, batch, length, 'keep');
  const N = batch * length;
  const H = c.hidden_size;
  const embeddingGrad = opts.freezeEmbeddings || opts.frozenWeights ? 0 : c.vocab_size * H;
  // The embeddings' own ops (lookups, sum, LayerNorm, dropout) are taped op by op: about a dozen [N, H] tensors.
  const embeddings = opts.freezeEmbeddings ? 0 : 12 * N * H;
  const ce = opts.ce ? ceSavedFloats(H, batch, length, opts.ce) : 0;
  const saved = c.num_hidden_layers * bertLayerSavedFloats(c, batch, length, mode) + embeddings + ce;
  // While a layer runs its backward: its saved set (rebuilt first in recompute mode), one block's scratch, the
  // gradients flowing out; measured at 1.5-2.5x the saved set at batch 16-32 x 50, so three times is the bound.
  const transient = 3 * layer + embeddingGrad;
  const masks = c.num_hidden_layers * (batch * c.num_attention_heads * length * length + 2 * N * H) + N * H;
  return { saved: 4 * saved, transient: 4 * transient, host: 4 * (masks + embeddingGrad) };
}

/**
 * Memory of one evaluation batch (no tape): one layer's forward at a time (the fused layer frees its own), and what
 * stays until the evaluation's tidy scope ends: every layer's output and the embeddings' dozen [N, H] tensors.
 */
export function bertEvalMemory(c: BertConfig, batch: number, length: number): number {
  return 4 * (2 * bertLayerSavedFloats(c, batch, length, 'keep') + (c.num_hidden_layers + 12) * batch * length * c.hidden_size);
}
