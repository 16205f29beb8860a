// BertModel in tfjs over ParamStore variables named like Hugging Face's state_dict: embeddings, N post-LN encoder
// layers (masked multi-head self-attention, erf GELU), pooler. Phase 6 (lower) creates it; phase 7 runs apply().
import * as tf from '@tensorflow/tfjs';
import { MmsaError } from '../../../errors.js';
import { nativeBertKernels } from '../../backend/bert-kernels.js';
import { normalInit, onesInit, zerosInit, type Initializer } from '../init.js';
import { dropout, linear } from '../layers.js';
import { joinPath, type ForwardCtx, type ParamStore } from '../params.js';
import { bertParamShapes, type BertModelConfig } from './config.js';
import { bertLayer, layerNormFwd, type ActivationMode, type BertLayerShape, type BertLayerWeights } from './layer.js';

/** Weights keyed by local name (`encoder.layer.0.attention.self.query.weight`), PyTorch layout, float32. */
export type BertWeights = ReadonlyMap<string, { shape: readonly number[]; values: Float32Array }>;

export interface CreateBertOptions {
  /** Initial values by local name; names missing here get BERT's init (normal(0, initializer_range), LN 1/0). */
  weights?: BertWeights;
  /** Register the parameters as trainable (default true). false = frozen BERT (no gradients ever). */
  trainable?: boolean;
  /** What each encoder layer keeps for the backward pass (default: the process default, 'keep'). */
  activations?: ActivationMode;
  /**
   * Embeddings (word, position, token type, their LayerNorm) frozen and run without gradients while the encoder
   * layers train: CENET's BertModel computes its embeddings under torch.no_grad.
   */
  freezeEmbeddings?: boolean;
}

let defaultActivationMode: ActivationMode = 'keep';

/** The activation mode of models that were not given one (the run sets it from its memory plan before lowering). */
export function setDefaultBertActivations(mode: ActivationMode): void {
  defaultActivationMode = mode;
}

export function defaultBertActivations(): ActivationMode {
  return defaultActivationMode;
}

export interface BertOutput {
  /** Last-layer hidden states, [B, L, H]. */
  sequence: tf.Tensor3D;
  /** The last layer's [CLS] row (position 0), [B, H]: the sentence vector of Self-MM / MMIM. */
  cls: tf.Tensor2D;
  /**
   * With `hooks.hiddenStates`: Hugging Face's `hidden_states`, the encoder's input (the embedding output after the
   * embeddings hook) and every layer's output, num_hidden_layers + 1 tensors [B, L, H]. A `beforeLayer` hook's
   * rewrite is not among them (entry k is what layer k - 1 returned, as CENET's encoder records it).
   */
  hidden?: tf.Tensor3D[];
}

/**
 * Modules other models put inside BERT's forward. All off = BertModel exactly (the same ops in the same order). The
 * functions are called inside the caller's tape, so their own parameters and ops get gradients like BERT's.
 */
export interface BertHooks {
  /** Rewrites the embedding output (after the embeddings' LayerNorm and dropout) before the encoder: BERT-MAG's gate. */
  embeddings?: (embedding: tf.Tensor3D) => tf.Tensor3D;
  /** Rewrites the hidden states entering encoder layer k (0-based): CENET's cross-modal enhancement before layer 1. */
  beforeLayer?: ReadonlyMap<number, (hidden: tf.Tensor3D) => tf.Tensor3D>;
  /** Returns every hidden state (`hidden`), as `output_hidden_states=True`. */
  hiddenStates?: boolean;
}

export interface Bert {
  path: string;
  config: BertModelConfig;
  /** Full state_dict keys of this model's parameters (`${path}.${local}`), in registration order. */
  keys: string[];
  /**
   * Forward pass. ids / types: [B, L] int32 (float is cast); mask: [B, L], 1 on real tokens. Dropout follows
   * ctx.training, as torch's train()/eval(). Call inside tf.tidy / tf.variableGrads.
   */
  apply(ids: tf.Tensor, mask: tf.Tensor, types: tf.Tensor, ctx: ForwardCtx, hooks?: BertHooks): BertOutput;
  /** BertPooler: tanh(dense([CLS])); computed only on request (the reference ignores it). */
  pool(cls: tf.Tensor2D): tf.Tensor2D;
  /** What the encoder layers keep for the backward pass; settable between steps (both modes give the same bits). */
  activations: ActivationMode;
}

function inputError(what: string, shape: readonly number[], expect: string): MmsaError {
  return new MmsaError('MSA6811', `bert: ${what} has shape [${shape.join(', ')}], expected ${expect}`, {
    hint: 'pass text_bert rows as [batch, length] arrays (ids, attention mask, segment ids) of equal shape',
    details: { input: what, shape: [...shape] },
  });
}

function checkIds(ids: tf.Tensor, n: number, what: string, key: string): void {
  const d = ids.dataSync();
  for (let i = 0; i < d.length; i++) {
    const x = d[i]!;
    if (x < 0 || x >= n) {
      throw new MmsaError('MSA6811', `bert: ${what} ${x} at flat position ${i} is outside [0, ${n}) (config ${key} ${n})`, {
        hint: 'the ids must come from the tokenizer of the same checkpoint',
        details: { value: x, position: i },
      });
    }
  }
}

/**
 * Row lookup (nn.Embedding) whose gradient is a dense scatter-add done in plain JS. tf.gather's own gradient is
 * UnsortedSegmentSum, which wasm lacks and whose cpu kernel loops over every segment (vocab row) with whole-tensor
 * ops: minutes for a 30522-row table; wasm's ScatterNd is about as slow. This takes milliseconds (the same sums in the
 * same order natively or in JS). With `paddingIdx` (nn.Embedding's padding_idx) the rows looked up at that id pass no
 * gradient, so the table's padding row gets a zero gradient, as torch's.
 */
export function embeddingLookup(table: tf.Tensor, ids: tf.Tensor, paddingIdx: number | null = null): tf.Tensor2D {
  const f = tf.customGrad((...args: unknown[]) => {
    const t = args[0] as tf.Tensor2D;
    const i = args[1] as tf.Tensor1D;
    const save = args[2] as tf.GradSaveFunc;
    save([i]);
    return {
      value: tf.gather(t, i),
      gradFunc: (dyIn: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [V, H] = t.shape as [number, number];
        const dy = paddingIdx === null ? (dyIn as tf.Tensor) : tf.mul(dyIn as tf.Tensor, tf.expandDims(tf.cast(tf.notEqual(saved[0]!, paddingIdx), 'float32'), 1));
        // Natively the table's gradient is built where it lives, in the heap (no 94 MB JS array per step).
        const native = nativeBertKernels();
        if (native && saved[0]!.dtype === 'int32') return [native.embeddingGrad(dy as tf.Tensor, saved[0]!, V), tf.zerosLike(saved[0]!)];
        const idx = saved[0]!.dataSync();
        const g = (dy as tf.Tensor).dataSync() as Float32Array;
        const out = new Float32Array(V * H);
        for (let r = 0; r < idx.length; r++) {
          const base = idx[r]! * H;
          const src = r * H;
          for (let d = 0; d < H; d++) out[base + d]! += g[src + d]!;
        }
        return [tf.tensor2d(out, [V, H]), tf.zerosLike(saved[0]!)];
      },
    };
  });
  return f(table, ids) as tf.Tensor2D;
}

function checkHookOutput(t: tf.Tensor, shape: [number, number, number], what: string): tf.Tensor3D {
  if (t.rank !== 3 || t.shape.some((d, i) => d !== shape[i])) {
    throw new MmsaError('MSA6811', `bert: ${what} returned shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] (batch, length, hidden)`, {
      hint: 'a module inside BERT must keep the hidden states\' shape',
      details: { shape: [...t.shape], expected: shape },
    });
  }
  return t as tf.Tensor3D;
}

/**
 * Registers BertModel's parameters under `path` with exactly the catalog's local names (`bertParams` of
 * src/compiler/components/encoders/bert.ts) and returns the model.
 */
export function createBert(store: ParamStore, path: string, config: BertModelConfig, opts: CreateBertOptions = {}): Bert {
  const c = config;
  const H = c.hidden_size;
  const nh = c.num_attention_heads;
  const dh = H / nh;
  if (!Number.isInteger(dh)) throw new MmsaError('MSA6803', `bert: hidden_size ${H} is not a multiple of num_attention_heads ${nh}`);
  const trainable = opts.trainable ?? true;
  const frozenEmbeddings = opts.freezeEmbeddings === true;
  const shapes = bertParamShapes(c);
  const vars = new Map<string, tf.Variable>();
  const keys: string[] = [];
  for (const [local, shape] of shapes) {
    const dot = local.lastIndexOf('.');
    const mod = local.slice(0, dot);
    const name = local.slice(dot + 1);
    const given = opts.weights?.get(local);
    let init: Initializer;
    if (given !== undefined) {
      if (given.shape.length !== shape.length || given.shape.some((d, i) => d !== shape[i])) {
        throw new MmsaError('MSA6808', `bert: weight '${local}' has shape [${given.shape.join(', ')}], the config needs [${shape.join(', ')}]`, {
          details: { tensor: local, shape: [...given.shape], expected: shape },
        });
      }
      init = () => given.values;
    } else if (mod.endsWith('LayerNorm')) init = name === 'weight' ? onesInit : zerosInit;
    else if (name === 'bias') init = zerosInit;
    else init = normalInit(0, c.initializer_range);
    const own = trainable && !(frozenEmbeddings && local.startsWith('embeddings.'));
    vars.set(local, store.param(joinPath(path, mod), name, shape, init, { trainable: own }));
    keys.push(joinPath(path, local));
  }
  const v = (local: string): tf.Variable => vars.get(local)!;
  const eps = c.layer_norm_eps;
  const layerWeights: BertLayerWeights[] = [];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = (name: string) => v(`encoder.layer.${i}.${name}`);
    layerWeights.push({
      qW: l('attention.self.query.weight'), qB: l('attention.self.query.bias'),
      kW: l('attention.self.key.weight'), kB: l('attention.self.key.bias'),
      vW: l('attention.self.value.weight'), vB: l('attention.self.value.bias'),
      oW: l('attention.output.dense.weight'), oB: l('attention.output.dense.bias'),
      ln1W: l('attention.output.LayerNorm.weight'), ln1B: l('attention.output.LayerNorm.bias'),
      iW: l('intermediate.dense.weight'), iB: l('intermediate.dense.bias'),
      o2W: l('output.dense.weight'), o2B: l('output.dense.bias'),
      ln2W: l('output.LayerNorm.weight'), ln2B: l('output.LayerNorm.bias'),
    });
  }

  const apply = (idsIn: tf.Tensor, maskIn: tf.Tensor, typesIn: tf.Tensor, ctx: ForwardCtx, hooks: BertHooks = {}): BertOutput => {
    if (idsIn.rank !== 2) throw inputError('input ids', idsIn.shape, '[batch, length]');
    const [B, L] = idsIn.shape as [number, number];
    if (maskIn.shape.length !== 2 || maskIn.shape[0] !== B || maskIn.shape[1] !== L) throw inputError('attention mask', maskIn.shape, `[${B}, ${L}]`);
    if (typesIn.shape.length !== 2 || typesIn.shape[0] !== B || typesIn.shape[1] !== L) throw inputError('token type ids', typesIn.shape, `[${B}, ${L}]`);
    if (L > c.max_position_embeddings) throw inputError('input ids', idsIn.shape, `at most ${c.max_position_embeddings} positions (max_position_embeddings)`);
    const ids = idsIn.dtype === 'int32' ? idsIn : tf.cast(idsIn, 'int32');
    const types = typesIn.dtype === 'int32' ? typesIn : tf.cast(typesIn, 'int32');
    const mask = maskIn.dtype === 'float32' ? maskIn : tf.cast(maskIn, 'float32');
    // Out-of-range ids would read (and, in the gradient, write) outside the tables on wasm without any error.
    checkIds(ids, c.vocab_size, 'token id', 'vocab_size');
    checkIds(types, c.type_vocab_size, 'token type id', 'type_vocab_size');

    // Embeddings: word + position + token type, LayerNorm, dropout.
    const embed = (idsE: tf.Tensor, typesE: tf.Tensor): tf.Tensor => {
      const words = embeddingLookup(v('embeddings.word_embeddings.weight'), tf.reshape(idsE, [B * L]), c.pad_token_id);
      const toks = embeddingLookup(v('embeddings.token_type_embeddings.weight'), tf.reshape(typesE, [B * L]));
      const pos = tf.slice(v('embeddings.position_embeddings.weight'), [0, 0], [L, H]);
      const e = layerNormFwd(tf.add(tf.reshape(tf.add(words, toks), [B, L, H]), pos), v('embeddings.LayerNorm.weight'), v('embeddings.LayerNorm.bias'), eps).y;
      return dropout(e, c.hidden_dropout_prob, ctx);
    };
    // Frozen embeddings are not taped at all (no_grad), so neither their activations nor a word-table gradient exist.
    let x: tf.Tensor = frozenEmbeddings ? noGrad(embed, ids, types) : embed(ids, types);
    if (hooks.embeddings) x = checkHookOutput(hooks.embeddings(x as tf.Tensor3D), [B, L, H], 'the embeddings hook');
    x = tf.reshape(x, [B * L, H]);

    // Additive key mask, broadcast over heads and query positions: [B, 1, 1, L].
    const addMask = tf.reshape(tf.mul(tf.sub(1, mask), -10000), [B, 1, 1, L]);

    const shape: BertLayerShape = {
      B, L, heads: nh, eps, act: c.hidden_act, attentionDropout: c.attention_probs_dropout_prob, hiddenDropout: c.hidden_dropout_prob,
    };
    for (const k of hooks.beforeLayer?.keys() ?? []) {
      if (!Number.isInteger(k) || k < 0 || k >= c.num_hidden_layers) {
        throw new MmsaError('MSA6811', `bert: a hook is set before layer ${k}, but the model has layers 0 to ${c.num_hidden_layers - 1}`, { details: { layer: k } });
      }
    }
    const hidden: tf.Tensor3D[] | undefined = hooks.hiddenStates ? [] : undefined;
    for (let i = 0; i < c.num_hidden_layers; i++) {
      hidden?.push(tf.reshape(x, [B, L, H]) as tf.Tensor3D);
      const before = hooks.beforeLayer?.get(i);
      if (before) x = tf.reshape(checkHookOutput(before(tf.reshape(x, [B, L, H]) as tf.Tensor3D), [B, L, H], `the hook before layer ${i}`), [B * L, H]);
      x = bertLayer(x as tf.Tensor2D, addMask, layerWeights[i]!, shape, ctx, model.activations);
    }
    const sequence = tf.reshape(x, [B, L, H]) as tf.Tensor3D;
    hidden?.push(sequence);
    const cls = tf.reshape(tf.slice(sequence, [0, 0, 0], [B, 1, H]), [B, H]) as tf.Tensor2D;
    return hidden ? { sequence, cls, hidden } : { sequence, cls };
  };

  const pool = (cls: tf.Tensor2D): tf.Tensor2D => tf.tanh(linear(cls, v('pooler.dense.weight'), v('pooler.dense.bias'))) as tf.Tensor2D;

  const model: Bert = { path, config: c, keys, apply, pool, activations: opts.activations ?? defaultActivationMode };
  return model;
}

/**
 * Runs `f` so that tfjs records nothing for gradients (torch.no_grad): inside tf.variableGrads the frozen BERT's
 * activations are then neither taped nor kept for a backward pass. Inputs must be tensors; the result gets zero
 * gradients towards them.
 */
export function noGrad<T extends tf.Tensor>(f: (...inputs: tf.Tensor[]) => T, ...inputs: tf.Tensor[]): T {
  // Kernels that run inside a customGrad forward are not taped (kernelDepth > 0), which is exactly no_grad.
  const g = tf.customGrad((...args: unknown[]) => {
    const ts = args.slice(0, inputs.length) as tf.Tensor[];
    return { value: f(...ts), gradFunc: () => ts.map((t) => tf.zerosLike(t)) };
  });
  return g(...inputs) as T;
}

/**
 * Reference optimizer grouping (Self-MM / MMIM trainers): BERT parameters whose key contains 'bias',
 * 'LayerNorm.bias' or 'LayerNorm.weight' get no weight decay; all share the BERT learning rate (5e-5 default).
 */
export function bertParamGroups(store: ParamStore, path: string): { decay: ReturnType<ParamStore['select']>; noDecay: ReturnType<ParamStore['select']> } {
  const noDecayNames = ['bias', 'LayerNorm.bias', 'LayerNorm.weight'];
  return {
    decay: store.select({ prefix: path, nameExcludes: noDecayNames }),
    noDecay: store.select({ prefix: path, nameIncludes: noDecayNames }),
  };
}
