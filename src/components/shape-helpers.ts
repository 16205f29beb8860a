// Shared pieces of the catalog's shape rules: PyTorch-named parameter declarations (Linear, BatchNorm1d, LSTM/GRU)
// and the input checks (in_dim, input kind) every component repeats. Phase 5 (ir / shape inference).

import type { ShapeContext, ShapeInput } from './component.js';
import { featureDim, formatType, type ParamDecl, type TensorType } from '../compiler/ir/types.js';

export function param(name: string, shape: number[]): ParamDecl {
  return { name, shape, trainable: true };
}

export function buffer(name: string, shape: number[]): ParamDecl {
  return { name, shape, trainable: false, buffer: true };
}

/** nn.Linear(inSize, out): `weight` [out, in], `bias` [out]. */
export function linearParams(prefix: string, inSize: number, out: number): ParamDecl[] {
  return [param(`${prefix}.weight`, [out, inSize]), param(`${prefix}.bias`, [out])];
}

export function linearNames(prefix: string): string[] {
  return [`${prefix}.weight`, `${prefix}.bias`];
}

/** nn.BatchNorm1d(n): affine weight/bias are parameters; running stats and the batch counter are buffers. */
export function batchNormParams(prefix: string, n: number): ParamDecl[] {
  return [
    param(`${prefix}.weight`, [n]),
    param(`${prefix}.bias`, [n]),
    buffer(`${prefix}.running_mean`, [n]),
    buffer(`${prefix}.running_var`, [n]),
    // PyTorch stores the counter as a 0-d tensor.
    buffer(`${prefix}.num_batches_tracked`, []),
  ];
}

export function batchNormNames(prefix: string): string[] {
  return ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((n) => `${prefix}.${n}`);
}

export interface RnnShape {
  /** 4 for LSTM, 3 for GRU (gate count). */
  gates: number;
  inSize: number;
  hidden: number;
  layers: number;
  bidirectional: boolean;
}

/**
 * nn.LSTM / nn.GRU state_dict order: per layer, forward then `_reverse`, each weight_ih, weight_hh, bias_ih, bias_hh.
 * Layers above the first read H * directions features.
 */
export function rnnParams(prefix: string, r: RnnShape): ParamDecl[] {
  const out: ParamDecl[] = [];
  const dirs = r.bidirectional ? 2 : 1;
  const G = r.gates * r.hidden;
  for (let k = 0; k < r.layers; k++) {
    const inK = k === 0 ? r.inSize : r.hidden * dirs;
    for (let d = 0; d < dirs; d++) {
      const sfx = `_l${k}${d === 1 ? '_reverse' : ''}`;
      out.push(
        param(`${prefix}.weight_ih${sfx}`, [G, inK]),
        param(`${prefix}.weight_hh${sfx}`, [G, r.hidden]),
        param(`${prefix}.bias_ih${sfx}`, [G]),
        param(`${prefix}.bias_hh${sfx}`, [G]),
      );
    }
  }
  return out;
}

export function rnnNames(prefix: string, layers: number, bidirectional: boolean): string[] {
  // Shapes do not matter for names; reuse the declaration order so the two can never disagree.
  return rnnParams(prefix, { gates: 1, inSize: 1, hidden: 1, layers, bidirectional }).map((p) => p.name);
}

/** Linear layers `layers.{i}` for each hidden size, then `out`: the MLP naming shared by mlp encoders and heads. */
export function mlpParams(inSize: number, hidden: readonly number[], out: number): ParamDecl[] {
  const ps: ParamDecl[] = [];
  let prev = inSize;
  hidden.forEach((h, i) => {
    ps.push(...linearParams(`layers.${i}`, prev, h));
    prev = h;
  });
  ps.push(...linearParams('out', prev, out));
  return ps;
}

export function mlpNames(hidden: readonly number[]): string[] {
  return [...hidden.flatMap((_, i) => linearNames(`layers.${i}`)), ...linearNames('out')];
}

export function vector(dim: number): TensorType {
  return { kind: 'vector', shape: ['B', dim], dtype: 'float32' };
}

export function kindPhrase(kinds: readonly TensorType['kind'][]): string {
  const words = kinds.map((k) => (k === 'tokens' ? 'token-id' : k));
  if (words.length <= 1) return `a ${words[0] ?? 'matching'}`;
  return `a ${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** MSA4002 when the input's kind is not one of `kinds`; true when it is. */
export function expectKind(ctx: ShapeContext<unknown>, type: string, input: ShapeInput, kinds: readonly TensorType['kind'][]): boolean {
  if (kinds.includes(input.type.kind)) return true;
  ctx.report('MSA4002', input.span, {
    node: ctx.node,
    type,
    expected: kindPhrase(kinds),
    input: input.name,
    actual: formatType(input.type),
  });
  return false;
}

/**
 * MSA4001 at the declared size's span, with a note at the input's reference. Returns false on a mismatch; callers
 * keep going with the input's real size (the declaration is the thing that is wrong).
 */
export function checkDeclaredDim(ctx: ShapeContext<unknown>, declared: number | undefined, input: ShapeInput, declSpanParam: string): boolean {
  if (declared === undefined) return true;
  const actual = featureDim(input.type);
  if (declared === actual) return true;
  ctx.report(
    'MSA4001',
    ctx.spanOf(declSpanParam),
    { node: ctx.node, declared, input: input.name, actual },
    { related: [{ span: input.span, message: `'${input.name}' gives ${formatType(input.type)}` }] },
  );
  return false;
}

/** One input of an encoder or head (the IR passes exactly one); undefined when the graph gave none. */
export function singleInput(ctx: ShapeContext<unknown>): ShapeInput | undefined {
  return ctx.inputs[0];
}

/** Thousands separators without depending on the host's ICU data, so plan output is stable. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Fusion inputs: checks `in_dims` (count and each size) and that every input has one of `kinds` (MSA3005). */
export function checkFusionInputs(
  ctx: ShapeContext<{ in_dims?: number[] | undefined }>,
  type: string,
  kinds: readonly TensorType['kind'][],
  opts: { kindCode?: 'MSA3005' | 'MSA4002' } = {},
): boolean {
  let ok = true;
  const code = opts.kindCode ?? 'MSA3005';
  for (const input of ctx.inputs) {
    if (kinds.includes(input.type.kind)) continue;
    ok = false;
    if (code === 'MSA3005') {
      ctx.report('MSA3005', input.span, { type, needed: kinds.join(' or '), input: input.name, actual: formatType(input.type) });
    } else {
      expectKind(ctx, type, input, kinds);
    }
  }
  const dims = ctx.params.in_dims;
  if (dims !== undefined) {
    if (dims.length !== ctx.inputs.length) {
      ctx.report('MSA4004', ctx.spanOf('in_dims'), {
        node: ctx.node,
        detail: `in_dims lists ${dims.length} size${dims.length === 1 ? '' : 's'} for ${ctx.inputs.length} input${ctx.inputs.length === 1 ? '' : 's'}`,
      });
    } else {
      ctx.inputs.forEach((input, i) => {
        checkDeclaredDim(ctx, dims[i], input, 'in_dims');
      });
    }
  }
  return ok;
}

/** A sequence type [B, T, D] (for examples and rewrites). */
export function sequenceType(T: number, D: number, extra: Partial<TensorType> = {}): TensorType {
  return { kind: 'sequence', shape: ['B', T, D], dtype: 'float32', aligned: false, ...extra };
}

/** BERT token rows [B, 3, L] (ids, mask, segments). */
export function tokenIds(L: number): TensorType {
  return { kind: 'tokens', shape: ['B', 3, L], dtype: 'int32' };
}

/**
 * A MulT-style transformer encoder's parameters (models/subNets/transformers_encoder in MMSA), local names in MMSA's
 * state_dict order, for embedding size d: per layer the attention's packed input projection and output Linear,
 * fc1 (d -> 4d), fc2 (4d -> d) and two LayerNorms; then the final LayerNorm.
 */
export function transformerEncoderParams(prefix: string, layers: number, d: number): ParamDecl[] {
  const out: ParamDecl[] = [];
  for (let i = 0; i < layers; i++) {
    const l = `${prefix}.layers.${i}`;
    out.push(
      param(`${l}.self_attn.in_proj_weight`, [3 * d, d]),
      param(`${l}.self_attn.in_proj_bias`, [3 * d]),
      ...linearParams(`${l}.self_attn.out_proj`, d, d),
      ...linearParams(`${l}.fc1`, d, 4 * d),
      ...linearParams(`${l}.fc2`, 4 * d, d),
      param(`${l}.layer_norms.0.weight`, [d]),
      param(`${l}.layer_norms.0.bias`, [d]),
      param(`${l}.layer_norms.1.weight`, [d]),
      param(`${l}.layer_norms.1.bias`, [d]),
    );
  }
  out.push(param(`${prefix}.layer_norm.weight`, [d]), param(`${prefix}.layer_norm.bias`, [d]));
  return out;
}

/**
 * The name a reference gives the parameters and outputs made for it (`audio_factor`, `private_text`): its node's key,
 * with the output after `_` for a named output (`encoders.text` -> `text`, `encoders.x:out` -> `x_out`).
 */
export function refLabel(ref: string): string {
  const [base, output] = ref.split(':');
  const last = (base ?? ref).split('.').pop() ?? ref;
  return output === undefined ? last : `${last}_${output}`;
}

/** nn.Conv1d(in, out, kernel): `weight` [out, in, kernel], `bias` [out] (names as linearNames). */
export function conv1dParams(prefix: string, inSize: number, out: number, kernel: number): ParamDecl[] {
  return [param(`${prefix}.weight`, [out, inSize, kernel]), param(`${prefix}.bias`, [out])];
}

/** Elements per sample of a tensor type (the batch axis left out). */
export function sampleElements(t: TensorType): number {
  return t.shape.slice(1).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
}

/**
 * PyTorch's nn.TransformerEncoder (nn.TransformerEncoderLayer per layer) parameters in state_dict order, for model
 * size d and feed-forward width ffn: the attention's packed input projection and out_proj, linear1, linear2, norm1,
 * norm2 under `layers.<i>`.
 */
export function torchTransformerParams(layers: number, d: number, ffn: number): ParamDecl[] {
  const out: ParamDecl[] = [];
  for (let i = 0; i < layers; i++) {
    const l = `layers.${i}`;
    out.push(
      param(`${l}.self_attn.in_proj_weight`, [3 * d, d]),
      param(`${l}.self_attn.in_proj_bias`, [3 * d]),
      ...linearParams(`${l}.self_attn.out_proj`, d, d),
      ...linearParams(`${l}.linear1`, d, ffn),
      ...linearParams(`${l}.linear2`, ffn, d),
      param(`${l}.norm1.weight`, [d]),
      param(`${l}.norm1.bias`, [d]),
      param(`${l}.norm2.weight`, [d]),
      param(`${l}.norm2.bias`, [d]),
    );
  }
  return out;
}

/**
 * ALMT's ViT-style pre-norm layers (the 'vit' layout of src/runtime/nn/transformer.ts), local names in MMSA's
 * state_dict order (models/singleTask/ALMT.py TransformerEncoder): per layer the attention block `layers.{i}.0`
 * (LayerNorms of q, k and v, bias-free to_q/to_k/to_v to heads x headDim, to_out unless one head spans the width) and
 * the MLP block `layers.{i}.1` (LayerNorm, net.0 d -> ffn, GELU, net.3 ffn -> d).
 */
export function vitLayerParams(prefix: string, layers: number, d: number, heads: number, headDim: number, ffn: number): ParamDecl[] {
  const inner = heads * headDim;
  const ln = (p: string) => [param(`${p}.weight`, [d]), param(`${p}.bias`, [d])];
  const out: ParamDecl[] = [];
  for (let i = 0; i < layers; i++) {
    const a = `${prefix}.layers.${i}.0`;
    const f = `${prefix}.layers.${i}.1`;
    out.push(
      ...ln(`${a}.norm_q`),
      ...ln(`${a}.norm_k`),
      ...ln(`${a}.norm_v`),
      param(`${a}.fn.to_q.weight`, [inner, d]),
      param(`${a}.fn.to_k.weight`, [inner, d]),
      param(`${a}.fn.to_v.weight`, [inner, d]),
      ...(heads === 1 && headDim === d ? [] : linearParams(`${a}.fn.to_out.0`, inner, d)),
      ...ln(`${f}.norm`),
      ...linearParams(`${f}.fn.net.0`, d, ffn),
      ...linearParams(`${f}.fn.net.3`, ffn, d),
    );
  }
  return out;
}
