// Catalog entry 'bert': a BERT encoder over token ids with Hugging Face BertModel parameter names, sized from a
// table of known checkpoints or `config`. Schema, shape rule and parameter names; phases 2-5.

import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { defineComponent, type Rewrite } from '../../component.js';
import type { BertEncoder, PrecomputedEncoder } from '../../../compiler/spec/types.generated.js';
import { featureDim, type Ir, type IrNode, type ParamDecl, type ResolvedDataset, type TensorType } from '../../../compiler/ir/types.js';
import { expandHome } from '../../../compiler/spec/resolve-dataset.js';
import { bertEvalMemory, bertStepMemory } from './memory.js';
import { expectKind, linearNames, linearParams, param, singleInput, tokenIds, vector } from '../../shape-helpers.js';
import { CENET_UNUSED_EMBEDDINGS, ceParams } from './ce-shape.js';
import { magParams } from './mag-shape.js';

export interface BertConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  max_position_embeddings: number;
  type_vocab_size: number;
}

const BERT_BASE: Omit<BertConfig, 'vocab_size'> = {
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  type_vocab_size: 2,
};

/** Checkpoints whose config.json we know, so `check`/`plan` need no download (the models MMSA's `models/subNets/BertTextEncoder.py` loads). */
export const KNOWN_BERT_MODELS: Readonly<Record<string, BertConfig>> = {
  'bert-base-uncased': { ...BERT_BASE, vocab_size: 30522 },
  'bert-base-cased': { ...BERT_BASE, vocab_size: 28996 },
  'bert-base-chinese': { ...BERT_BASE, vocab_size: 21128 },
  'bert-base-multilingual-cased': { ...BERT_BASE, vocab_size: 119547 },
};

const ARCH_KEYS = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size'] as const;
const localConfigs = new Map<string, BertConfig | undefined>();

/**
 * The architecture in a local model directory's config.json (an absolute path, as the compiler resolves it), so that
 * `check` and `plan` size a local BERT as lowering will; undefined for hub ids, missing or unreadable files (lowering
 * then reads the file and reports what is wrong with it).
 */
function localBertConfig(dir: string): BertConfig | undefined {
  if (!isAbsolute(dir)) return undefined;
  if (localConfigs.has(dir)) return localConfigs.get(dir);
  let found: BertConfig | undefined;
  try {
    const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const c: BertConfig = { ...KNOWN_BERT_MODELS['bert-base-uncased']! };
    for (const k of ARCH_KEYS) if (typeof json[k] === 'number' && Number.isInteger(json[k])) c[k] = json[k];
    found = c;
  } catch {
    found = undefined;
  }
  localConfigs.set(dir, found);
  return found;
}

/**
 * Architecture for a pretrained id (or a local directory: its config.json, else its name) with `config` overrides on
 * top. An unknown model without config is taken to be bert-base-uncased sized: lowering reads its config.json and has
 * the last word.
 */
export function resolveBertConfig(p: Pick<BertEncoder, 'pretrained' | 'config'>): { config: BertConfig; known: boolean } {
  const base = p.pretrained.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? p.pretrained;
  const local = localBertConfig(p.pretrained);
  const knownCfg = local ?? KNOWN_BERT_MODELS[p.pretrained] ?? KNOWN_BERT_MODELS[base];
  const config: BertConfig = { ...(knownCfg ?? KNOWN_BERT_MODELS['bert-base-uncased']!) };
  for (const [k, v] of Object.entries(p.config ?? {})) if (typeof v === 'number') config[k as keyof BertConfig] = v;
  return { config, known: knownCfg !== undefined };
}

function bertLayerNames(i: number): string[] {
  const l = `encoder.layer.${i}`;
  return [
    ...linearNames(`${l}.attention.self.query`),
    ...linearNames(`${l}.attention.self.key`),
    ...linearNames(`${l}.attention.self.value`),
    ...linearNames(`${l}.attention.output.dense`),
    `${l}.attention.output.LayerNorm.weight`,
    `${l}.attention.output.LayerNorm.bias`,
    ...linearNames(`${l}.intermediate.dense`),
    ...linearNames(`${l}.output.dense`),
    `${l}.output.LayerNorm.weight`,
    `${l}.output.LayerNorm.bias`,
  ];
}

function layerNorm(prefix: string, h: number): ParamDecl[] {
  return [param(`${prefix}.weight`, [h]), param(`${prefix}.bias`, [h])];
}

/**
 * BertModel's state_dict in its own order (embeddings, layers, then a module the encoder holds beside its layers, such
 * as CENET's CE, then the pooler); the pooler is kept so checkpoints load.
 */
export function bertParams(c: BertConfig, encoderExtra: ParamDecl[] = []): ParamDecl[] {
  const H = c.hidden_size;
  const ps: ParamDecl[] = [
    param('embeddings.word_embeddings.weight', [c.vocab_size, H]),
    param('embeddings.position_embeddings.weight', [c.max_position_embeddings, H]),
    param('embeddings.token_type_embeddings.weight', [c.type_vocab_size, H]),
    ...layerNorm('embeddings.LayerNorm', H),
  ];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `encoder.layer.${i}`;
    ps.push(
      ...linearParams(`${l}.attention.self.query`, H, H),
      ...linearParams(`${l}.attention.self.key`, H, H),
      ...linearParams(`${l}.attention.self.value`, H, H),
      ...linearParams(`${l}.attention.output.dense`, H, H),
      ...layerNorm(`${l}.attention.output.LayerNorm`, H),
      ...linearParams(`${l}.intermediate.dense`, H, c.intermediate_size),
      ...linearParams(`${l}.output.dense`, c.intermediate_size, H),
      ...layerNorm(`${l}.output.LayerNorm`, H),
    );
  }
  ps.push(...encoderExtra, ...linearParams('pooler.dense', H, H));
  return ps;
}

/** Named outputs with `hidden_states`: hidden_0 (the encoder's input) to hidden_<layers> (the last layer). */
export function bertHiddenOutputs(p: BertEncoder): string[] {
  if (!p.hidden_states) return [];
  const { config } = resolveBertConfig(p);
  return Array.from({ length: config.num_hidden_layers + 1 }, (_, i) => `hidden_${i}`);
}

/** Every named output: the hidden states, then one per modality of `also` (BERT's output over it). */
export function bertOutputs(p: BertEncoder): string[] {
  return [...bertHiddenOutputs(p), ...(p.also ?? [])];
}

/** The hook that reads audio and vision (a BERT runs at most one), with its key under `hooks`. */
function sequenceHook(p: BertEncoder): { at: 'embeddings' | 'before_layer'; audio: string; vision: string } | undefined {
  const h = p.hooks?.embeddings ?? p.hooks?.before_layer;
  if (!h) return undefined;
  return { at: p.hooks?.embeddings ? 'embeddings' : 'before_layer', audio: h.audio, vision: h.vision };
}

/**
 * What a BERT with hooks reads besides its token ids: its own modality first, then what the hook reads, each with its
 * path in the spec. Undefined without hooks (the encoder then reads the modality of its key, as every encoder).
 */
export function bertReads(p: BertEncoder, key: string): { name: string; path: (string | number)[] }[] | undefined {
  const hook = sequenceHook(p);
  const also = p.also ?? [];
  if (!hook && also.length === 0) return undefined;
  const own = p.modality ?? key;
  return [
    { name: `modalities.${own}`, path: p.modality ? ['modality'] : [] },
    ...(hook ? [{ name: hook.audio, path: ['hooks', hook.at, 'audio'] }, { name: hook.vision, path: ['hooks', hook.at, 'vision'] }] : []),
    ...also.map((m, i) => ({ name: `modalities.${m}`, path: ['also', i] })),
  ];
}

/**
 * The frozen-BERT fast path: a `bert` encoder with `finetune: false` whose dataset also ships the same model's
 * last-layer features (`text`, [L, hidden]) needs no BERT forward at all: it reads those features instead.
 */
export function frozenBertFastPath(p: BertEncoder, dataset: ResolvedDataset, modality: string): Rewrite | undefined {
  if (p.finetune !== false) return undefined;
  // Precomputed last-layer features cannot stand in for a BERT whose inside a hook changes, nor give the pooler.
  if (p.hooks?.embeddings || p.hooks?.before_layer || p.hidden_states || p.output === 'pooled') return undefined;
  // The precomputed features are those of the unmasked text only.
  if ((p.also ?? []).length > 0) return undefined;
  const feat = dataset.features['text'];
  if (!feat || feat.dtype !== 'float' || feat.shape.length !== 2) return undefined;
  // The model's own width (a local checkpoint's config.json, a known model's, or `config:`), not bert-base's.
  const hidden = resolveBertConfig(p).config.hidden_size;
  if (feat.shape[1] !== hidden) return undefined;
  if (!dataset.pretrained || dataset.pretrained !== p.pretrained) return undefined;
  const select: PrecomputedEncoder['select'] = p.output === 'cls' ? 'cls' : p.output === 'mean' ? 'mean' : 'sequence';
  // BERT's `output: mean` averages over the real tokens (the attention mask of the modality's token rows), not the padding.
  const params: PrecomputedEncoder = { type: 'precomputed', select, mask_from: select === 'mean' ? `modalities.${modality}` : null };
  return {
    type: 'precomputed',
    params: params as unknown as Record<string, unknown>,
    input: {
      feature: 'text',
      type: { kind: 'sequence', shape: ['B', feat.shape[0]!, feat.shape[1]!], dtype: 'float32', aligned: true },
      summary: `text (${feat.key}), precomputed ${p.pretrained} features`,
    },
    summary: `bert(${p.pretrained}, frozen) -> ${select}${select === 'mean' ? ` over the real tokens of modalities.${modality}` : ''}: fast path, reads the precomputed 'text' features, no BERT forward (BERT's dropout, which MMSA keeps active when frozen, is not applied)`,
  };
}

/** The audio and vision lengths a CE hook attends over; undefined without one. */
function ceLengths(ir: Ir, node: Pick<IrNode<BertEncoder>, 'inputs' | 'config'>): { audio: number; vision: number } | undefined {
  if (!node.config.hooks?.before_layer) return undefined;
  const len = (i: number) => {
    const T = ir.nodes.find((n) => n.id === node.inputs[i])?.output.shape[1];
    return typeof T === 'number' ? T : 512;
  };
  return { audio: len(1), vision: len(2) };
}

/** Token length of a BERT node's input ([B, 3, L]); BERT's 512 positions when unknown. */
function tokenLength(ir: Ir, node: Pick<IrNode, 'inputs'>): number {
  const input = ir.nodes.find((n) => n.id === node.inputs[0]);
  const L = input?.output.shape[2];
  return typeof L === 'number' ? L : 512;
}

export default defineComponent<BertEncoder>({
  kind: 'encoder',
  type: 'bert',
  schema: 'components/encoders/bert.schema.json',
  doc: "BERT text encoder over token ids (text_bert rows: ids, mask, segments); the last layer's [CLS] vector by default.",
  accepts: ['tokens'],
  // Token ids, with a hook the audio and vision sequences it reads, then the token ids of `also`.
  arity: { min: 1, max: Number.POSITIVE_INFINITY },
  reads: bertReads,
  namedOutputs: bertOutputs,
  outputKind: (p) => (p.output === 'sequence' ? 'sequence' : 'vector'),
  outputKindFix: (_p, wanted) => (wanted === 'vector' ? 'set `output: cls` or `mean` on the encoder' : undefined),
  tokenizer: (p) => ({ model: p.pretrained, ...(p.revision ? { revision: p.revision } : {}) }),
  frozen: (p) => p.finetune === false,
  freezeWith: 'finetune: false',
  // Its fused layer's sizes (memory.ts): a frozen BERT without hooks keeps nothing for a backward pass; frozen
  // embeddings (CENET) keep neither their activations nor the dense word-table gradient.
  stepMemory(node, { ir, batch, mode, frozen }) {
    const { config } = resolveBertConfig(node.config);
    const L = tokenLength(ir, node);
    const evalBytes = bertEvalMemory(config, batch, L);
    // A hook's modules (or published hidden states) keep a frozen BERT's forward on the tape (lower.ts).
    const p = node.config;
    const taped = p.hooks?.embeddings !== undefined || p.hooks?.before_layer !== undefined || p.hidden_states === true;
    if (frozen && !taped) return { saved: 0, transient: evalBytes, host: 0, eval: evalBytes };
    const m = bertStepMemory(config, batch, L, mode, { freezeEmbeddings: p.freeze_embeddings === true, frozenWeights: frozen, ce: ceLengths(ir, node) });
    // Every run over an `also` modality keeps as much as the run over the encoder's own.
    const runs = 1 + (p.also ?? []).length;
    return { saved: runs * m.saved, transient: m.transient, host: runs * m.host, eval: evalBytes };
  },
  // A model directory written relative to the spec that names it (which may be a preset).
  resolvePaths: (p, dirOf) => (/^(\.{1,2}[\\/]|~[\\/])/.test(p.pretrained) ? { ...p, pretrained: resolve(dirOf('pretrained'), expandHome(p.pretrained)) } : p),
  rewrite: ({ params, dataset, modality }) => frozenBertFastPath(params, dataset, modality),
  // Lowering is synchronous and offline: the weights (local dir, HF cache or the hub) must be on disk before it.
  async prepare(node) {
    const { ensureBertDownloaded } = await import('../../../runtime/bert/load-bert.js');
    const { pretrained: model, revision } = node.config;
    const r = await ensureBertDownloaded(model, revision ? { revision } : {});
    return { model, ...(revision ? { revision } : {}), source: r.source, ...(r.commit ? { commit: r.commit } : {}) };
  },
  examples: [
    { label: 'uncased cls', params: { type: 'bert', pretrained: 'bert-base-uncased', finetune: true, output: 'cls' }, inputs: [['text', tokenIds(50)]] },
    {
      label: 'small config, sequence',
      params: { type: 'bert', pretrained: './my-bert', finetune: false, output: 'sequence', config: { num_hidden_layers: 2, hidden_size: 64, num_attention_heads: 4, intermediate_size: 128, vocab_size: 100 } },
      inputs: [['text', tokenIds(39)]],
    },
  ],
  summary(p) {
    const { config: c } = resolveBertConfig(p);
    const mag = p.hooks?.embeddings;
    const ce = p.hooks?.before_layer;
    const hook =
      (mag ? `, MAG(${mag.audio}, ${mag.vision}; beta_shift ${mag.beta_shift}, dropout ${mag.dropout_prob}) on the embeddings` : '') +
      (ce ? `, CE(${ce.audio}, ${ce.vision}) before layer ${ce.layer}` : '') +
      (p.freeze_embeddings ? ', embeddings frozen' : '');
    const hidden = p.hidden_states ? ` + hidden_0..${c.num_hidden_layers}` : '';
    const also = (p.also ?? []).length > 0 ? ` (also over ${p.also!.join(', ')}, the same weights)` : '';
    return `bert(${p.pretrained}, ${c.num_hidden_layers} layers, hidden ${c.hidden_size}, ${p.finetune ? 'finetune' : 'frozen'}${hook}) -> ${p.output}${hidden}${also}`;
  },
  paramNames(p) {
    const { config: c } = resolveBertConfig(p);
    const names = [
      'embeddings.word_embeddings.weight',
      'embeddings.position_embeddings.weight',
      'embeddings.token_type_embeddings.weight',
      'embeddings.LayerNorm.weight',
      'embeddings.LayerNorm.bias',
    ];
    for (let i = 0; i < c.num_hidden_layers; i++) names.push(...bertLayerNames(i));
    if (p.hooks?.before_layer) names.push(...ceParams(c.hidden_size, 1, 1).map((d) => d.name));
    names.push(...linearNames('pooler.dense'));
    if (p.hooks?.embeddings) names.push(...magParams(c.hidden_size, 1, 1).map((d) => d.name));
    return names;
  },
  infer(ctx) {
    const p = ctx.params;
    const input = singleInput(ctx);
    if (!input || !expectKind(ctx, 'bert', input, ['tokens'])) return undefined;
    const { config: c } = resolveBertConfig(p);
    if (c.hidden_size % c.num_attention_heads !== 0) {
      ctx.report('MSA4004', ctx.spanOf('config'), {
        node: ctx.node,
        detail: `hidden_size ${c.hidden_size} is not a multiple of num_attention_heads ${c.num_attention_heads}`,
      });
    }
    const H = c.hidden_size;
    const L = input.type.shape[2];
    if (typeof L === 'number' && L > c.max_position_embeddings) {
      ctx.report(
        'MSA4007',
        input.span,
        { node: ctx.node, len: L, max: c.max_position_embeddings },
        { hint: 'truncate the token ids (`preprocess.seq_len` on the modality) or use a model with more positions' },
      );
    }
    // The text is what other modalities are aligned to, so its own sequence counts as aligned.
    const seq = { kind: 'sequence' as const, shape: ['B' as const, L ?? 0, H], dtype: 'float32' as const, aligned: true };
    const output = p.output === 'sequence' ? seq : vector(H);
    const mag = p.hooks?.embeddings;
    const ce = p.hooks?.before_layer;
    if (mag && ce) {
      ctx.report('MSA4004', ctx.spanOf('hooks'), {
        node: ctx.node,
        detail: 'a BERT runs one hook over audio and vision, but both `embeddings` (MAG) and `before_layer` (CE) are set',
      }, { hint: 'keep the hook of the model you build: `embeddings` for BERT-MAG, `before_layer` for CENET' });
      return undefined;
    }
    let ceExtra: ParamDecl[] = [];
    if (ce) {
      if (ce.layer >= c.num_hidden_layers) {
        ctx.report('MSA4004', ctx.spanOf('hooks'), {
          node: ctx.node,
          detail: `the CE hook runs before layer ${ce.layer}, but this BERT has layers 0 to ${c.num_hidden_layers - 1}`,
        }, { hint: `set \`layer\` below ${c.num_hidden_layers} (CENET injects before layer 1)` });
        return undefined;
      }
      // CE attends over the audio and vision steps: any length, no alignment to the tokens needed.
      const dims: number[] = [];
      for (const i of [1, 2]) {
        const x = ctx.inputs[i];
        if (!x || !expectKind(ctx, 'bert', x, ['sequence'])) return undefined;
        dims.push(featureDim(x.type));
      }
      ceExtra = ceParams(H, dims[0]!, dims[1]!);
    }
    // Frozen embeddings stay parameters (checkpoints carry them) but are never trained.
    const params = bertParams(c, ceExtra).map((d) => (p.freeze_embeddings && d.name.startsWith('embeddings.') ? { ...d, trainable: false } : d));
    if (mag) {
      // MAG reads the acoustic and visual features of every token: sequences as long as the token rows.
      const dims: number[] = [];
      for (const [i, what] of [[1, 'audio'], [2, 'vision']] as const) {
        const x = ctx.inputs[i];
        if (!x || !expectKind(ctx, 'bert', x, ['sequence'])) return undefined;
        const T = x.type.shape[1];
        if (typeof L === 'number' && typeof T === 'number' && T !== L) {
          ctx.report('MSA4004', x.span, {
            node: ctx.node,
            detail: `the MAG hook's ${what} sequence has ${T} steps but the token rows have ${L}; MAG gates every token with the ${what} features of the same step`,
          }, { hint: 'use the aligned feature file (need_data_aligned: true in MMSA) so that audio, vision and tokens have one length' });
          return undefined;
        }
        dims.push(featureDim(x.type));
      }
      params.push(...magParams(H, dims[0]!, dims[1]!));
    }
    const features: Record<string, TensorType> = Object.fromEntries(bertHiddenOutputs(p).map((n) => [n, seq]));
    const also = p.also ?? [];
    const first = ctx.inputs.length - also.length;
    for (const [i, m] of also.entries()) {
      const x = ctx.inputs[first + i];
      if (!x || !expectKind(ctx, 'bert', x, ['tokens'])) return undefined;
      const Lm = x.type.shape[2];
      features[m] = p.output === 'sequence' ? { ...seq, shape: ['B', Lm ?? 0, H] } : vector(H);
    }
    return { output, params, ...(Object.keys(features).length > 0 ? { features } : {}) };
  },
  // MMSA's BertTextEncoder holds a transformers BertModel as `model`; older transformers also saved position_ids.
  // CENET's own BertModel (the CE hook's) also saves sentiment, POS-tag and polarity tables its forward never reads.
  mmsaNames: {
    rename: { embeddings: 'model.embeddings', encoder: 'model.encoder', pooler: 'model.pooler' },
    ignore: (p: BertEncoder) => ['model.embeddings.position_ids', ...(p.hooks?.before_layer?.type === 'ce' ? CENET_UNUSED_EMBEDDINGS : [])],
  },
});
