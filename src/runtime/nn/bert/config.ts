// The BERT architecture as read from a Hugging Face config.json (snake_case keys as in the file), with validation
// and the defaults of transformers.BertConfig. Phases 6 (lower) and 7 (execute).
import { KNOWN_BERT_MODELS, type BertConfig } from '../../../components/encoders/bert/define.js';
import { MmsaError } from '../../../errors.js';

export type BertActivation = 'gelu' | 'gelu_new' | 'relu';

/** The architecture (the catalog's BertConfig) plus the constants config.json carries for training. */
export interface BertModelConfig extends BertConfig {
  layer_norm_eps: number;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  /** 'gelu' is the exact erf form (BERT's); 'gelu_new' the tanh approximation. */
  hidden_act: BertActivation;
  initializer_range: number;
  /**
   * The word table's padding row (transformers' `nn.Embedding(..., padding_idx=pad_token_id)`): its gradient is
   * always zero, so fine-tuning never moves it. null: no padding row.
   */
  pad_token_id: number | null;
}

/** transformers.BertConfig defaults: the catalog's bert-base-uncased architecture plus BERT's training constants. */
export const BERT_CONFIG_DEFAULTS: BertModelConfig = {
  ...KNOWN_BERT_MODELS['bert-base-uncased']!,
  layer_norm_eps: 1e-12,
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  hidden_act: 'gelu',
  initializer_range: 0.02,
  pad_token_id: 0,
};

const INT_KEYS = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size'] as const;
const FLOAT_KEYS = ['layer_norm_eps', 'hidden_dropout_prob', 'attention_probs_dropout_prob', 'initializer_range'] as const;
const ACTIVATIONS: Record<string, BertActivation> = { gelu: 'gelu', gelu_new: 'gelu_new', gelu_pytorch_tanh: 'gelu_new', relu: 'relu' };

function bad(file: string, key: string, msg: string): MmsaError {
  return new MmsaError('MSA6803', `${file}: '${key}' ${msg}`, {
    hint: 'config.json must be a Hugging Face BERT config (as written by BertConfig.save_pretrained)',
    details: { file, key },
  });
}

/**
 * Reads a config.json object. Missing keys take BertConfig's defaults; present keys must have the right type.
 * Refuses what this implementation does not compute (relative position embeddings, unknown activations).
 */
export function parseBertConfig(json: unknown, file = 'config.json'): BertModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad(file, '<root>', 'is not a JSON object');
  const o = json as Record<string, unknown>;
  const c: BertModelConfig = { ...BERT_CONFIG_DEFAULTS };
  for (const k of INT_KEYS) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw bad(file, k, `must be a positive integer, got ${JSON.stringify(v)}`);
    c[k] = v;
  }
  for (const k of FLOAT_KEYS) {
    const v = o[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw bad(file, k, `must be a non-negative number, got ${JSON.stringify(v)}`);
    c[k] = v;
  }
  if (c.hidden_dropout_prob >= 1) throw bad(file, 'hidden_dropout_prob', 'must be below 1');
  if (c.attention_probs_dropout_prob >= 1) throw bad(file, 'attention_probs_dropout_prob', 'must be below 1');
  const pad = o.pad_token_id;
  if (pad === null) c.pad_token_id = null;
  else if (pad !== undefined) {
    if (typeof pad !== 'number' || !Number.isInteger(pad) || pad < 0 || pad >= c.vocab_size) {
      throw bad(file, 'pad_token_id', `must be null or an integer in [0, vocab_size ${c.vocab_size}), got ${JSON.stringify(pad)}`);
    }
    c.pad_token_id = pad;
  }
  const act = o.hidden_act ?? 'gelu';
  if (typeof act !== 'string' || ACTIVATIONS[act] === undefined) {
    throw bad(file, 'hidden_act', `${JSON.stringify(act)} is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
  }
  c.hidden_act = ACTIVATIONS[act]!;
  const pe = o.position_embedding_type;
  if (pe !== undefined && pe !== 'absolute') throw bad(file, 'position_embedding_type', `${JSON.stringify(pe)} is not supported (only 'absolute')`);
  const mt = o.model_type;
  if (mt !== undefined && mt !== 'bert') throw bad(file, 'model_type', `is ${JSON.stringify(mt)}; only 'bert' checkpoints are supported`);
  if (c.hidden_size % c.num_attention_heads !== 0) {
    throw bad(file, 'hidden_size', `${c.hidden_size} is not a multiple of num_attention_heads ${c.num_attention_heads}`);
  }
  return c;
}

/** Local parameter names and shapes of BertModel's state_dict, in its order (the catalog's `bertParams`). */
export function bertParamShapes(c: Pick<BertModelConfig, 'vocab_size' | 'hidden_size' | 'num_hidden_layers' | 'intermediate_size' | 'max_position_embeddings' | 'type_vocab_size'>): Map<string, number[]> {
  const H = c.hidden_size;
  const I = c.intermediate_size;
  const m = new Map<string, number[]>();
  const lin = (p: string, inF: number, outF: number) => {
    m.set(`${p}.weight`, [outF, inF]);
    m.set(`${p}.bias`, [outF]);
  };
  const ln = (p: string) => {
    m.set(`${p}.weight`, [H]);
    m.set(`${p}.bias`, [H]);
  };
  m.set('embeddings.word_embeddings.weight', [c.vocab_size, H]);
  m.set('embeddings.position_embeddings.weight', [c.max_position_embeddings, H]);
  m.set('embeddings.token_type_embeddings.weight', [c.type_vocab_size, H]);
  ln('embeddings.LayerNorm');
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `encoder.layer.${i}`;
    lin(`${l}.attention.self.query`, H, H);
    lin(`${l}.attention.self.key`, H, H);
    lin(`${l}.attention.self.value`, H, H);
    lin(`${l}.attention.output.dense`, H, H);
    ln(`${l}.attention.output.LayerNorm`);
    lin(`${l}.intermediate.dense`, H, I);
    lin(`${l}.output.dense`, I, H);
    ln(`${l}.output.LayerNorm`);
  }
  lin('pooler.dense', H, H);
  return m;
}
