// Package entry points for pretrained BERT: loadBert (model dir / HF cache / hub -> tfjs encoder with cls/sequence)
// and tokenize (raw text -> text_bert rows). Phases 6-8; the lowering uses the sync pieces (openBertSync).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MmsaError } from '../../errors.js';
import { setupBackend, type BackendName } from '../backend.js';
import { MODEL_FILES, resolveModelDir, resolveModelDirSync, TOKENIZER_FILES, type HubOptions, type ResolvedModel } from '../hub/hf-hub.js';
import { parseBertConfig, type BertModelConfig } from '../nn/bert/config.js';
import { createBert, noGrad, type Bert } from '../nn/bert/model.js';
import { evalCtx, ParamStore, type ForwardCtx } from '../nn/params.js';
import { readBertCheckpoint, type BertCheckpoint } from '../weights/bert-checkpoint.js';

export type IdsInput = tf.Tensor | ArrayLike<number>[] | readonly (readonly number[])[];

export interface LoadBertOptions extends HubOptions {
  /** tfjs backend to set up first (default 'wasm'); false leaves the current backend alone. */
  backend?: BackendName | false;
  /** Store to register the variables in (default: a new one). */
  store?: ParamStore;
  /** Module path of the parameters inside the store (default '' : keys are the plain BertModel names). */
  path?: string;
  /** Trainable variables (default true: fine-tuning); false for a frozen encoder. */
  trainable?: boolean;
  /** Seed of the new store / of init of parameters missing from the file (pooler). */
  seed?: number;
}

export interface LoadedBert {
  dir: string;
  source: ResolvedModel['source'];
  config: BertModelConfig;
  store: ParamStore;
  model: Bert;
  checkpoint: Pick<BertCheckpoint, 'ignored' | 'missingOptional' | 'files'>;
  /** Last-layer [CLS] vectors [batch, hidden] (eval mode unless ctx says otherwise). The caller disposes the result. */
  cls(inputIds: IdsInput, attentionMask: IdsInput, tokenTypeIds?: IdsInput, ctx?: ForwardCtx): tf.Tensor2D;
  /** Last-layer hidden states [batch, length, hidden]. */
  sequence(inputIds: IdsInput, attentionMask: IdsInput, tokenTypeIds?: IdsInput, ctx?: ForwardCtx): tf.Tensor3D;
  /** Frees the variables (only when the store was created here). */
  dispose(): void;
}

export function readBertConfigFile(dir: string): BertModelConfig {
  const file = path.join(dir, 'config.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new MmsaError('MSA6803', `cannot read ${file}: ${(e as Error).message}`, {
      hint: 'the model directory needs the config.json written by save_pretrained',
      details: { file },
    });
  }
  return parseBertConfig(json, file);
}

/**
 * Synchronous core for the lowering (no network, no backend setup): resolves a local directory or HF cache
 * snapshot, reads config.json and the weights, and registers a BertModel in `store` under `modulePath` with the
 * pretrained values. Throws MSA6801 when a hub model is not cached yet (call `ensureBertDownloaded` first).
 */
export function openBertSync(dirOrModelId: string, store: ParamStore, modulePath: string, opts: { trainable?: boolean; freezeEmbeddings?: boolean } & HubOptions = {}): { model: Bert; dir: string; source: ResolvedModel['source']; checkpoint: BertCheckpoint } {
  const r = resolveModelDirSync(dirOrModelId, MODEL_FILES, opts);
  const config = readBertConfigFile(r.dir);
  const checkpoint = readBertCheckpoint(r.dir, config);
  const model = createBert(store, modulePath, config, { weights: checkpoint.weights, trainable: opts.trainable ?? true, ...(opts.freezeEmbeddings ? { freezeEmbeddings: true } : {}) });
  checkpoint.weights.clear(); // the variables hold the values now
  return { model, dir: r.dir, source: r.source, checkpoint };
}

/** Makes sure a hub model's files (weights and tokenizer) are in the HF cache; returns the directory. */
export async function ensureBertDownloaded(dirOrModelId: string, opts: HubOptions = {}): Promise<ResolvedModel> {
  const r = await resolveModelDir(dirOrModelId, MODEL_FILES, opts);
  await resolveModelDir(dirOrModelId, TOKENIZER_FILES, opts).catch((e: unknown) => {
    // Weights without a tokenizer are still usable on pre-tokenised text_bert rows.
    if (!(e instanceof MmsaError)) throw e;
  });
  return r;
}

function toInt2D(x: IdsInput, what: string, dtype: 'int32' | 'float32'): tf.Tensor2D {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new MmsaError('MSA6811', `bert: ${what} has shape [${x.shape.join(', ')}], expected [batch, length]`);
    return (x.dtype === dtype ? x.clone() : tf.cast(x, dtype)) as tf.Tensor2D;
  }
  const rows = x as ArrayLike<ArrayLike<number>>;
  const n = rows.length;
  const L = n > 0 ? rows[0]!.length : 0;
  const data = dtype === 'int32' ? new Int32Array(n * L) : new Float32Array(n * L);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    if (r.length !== L) throw new MmsaError('MSA6811', `bert: ${what} row ${i} has length ${r.length}, row 0 has ${L}`);
    for (let j = 0; j < L; j++) data[i * L + j] = r[j]!;
  }
  return tf.tensor2d(data, [n, L], dtype);
}

/**
 * Loads a pretrained BERT from a model directory, the HF cache, or the hub (downloaded into the cache; HF_ENDPOINT
 * respected). `cls(ids, mask, types)` gives the last layer's [CLS] vectors as the reference's text encoder.
 */
export async function loadBert(dirOrModelId: string, options: LoadBertOptions = {}): Promise<LoadedBert> {
  if (options.backend !== false) await setupBackend(options.backend ?? 'wasm');
  const r = await resolveModelDir(dirOrModelId, MODEL_FILES, options);
  const ownStore = options.store === undefined;
  const store = options.store ?? new ParamStore({ seed: options.seed ?? 0 });
  const modulePath = options.path ?? '';
  const opened = openBertSync(r.dir, store, modulePath, { trainable: options.trainable ?? true });
  const model = opened.model;
  const run = (ids: IdsInput, mask: IdsInput, types: IdsInput | undefined, ctx: ForwardCtx | undefined, pick: 'cls' | 'sequence'): tf.Tensor => {
    const c = ctx ?? evalCtx();
    return tf.tidy(() => {
      const idsT = toInt2D(ids, 'input ids', 'int32');
      const maskT = toInt2D(mask, 'attention mask', 'float32');
      const typesT = types === undefined ? tf.zerosLike(idsT) : toInt2D(types, 'token type ids', 'int32');
      const f = (a: tf.Tensor, b: tf.Tensor, t: tf.Tensor) => model.apply(a, b, t, c)[pick];
      // Frozen encoders run as no_grad so an enclosing variableGrads keeps nothing of BERT's activations.
      return options.trainable === false ? noGrad(f, idsT, maskT, typesT) : f(idsT, maskT, typesT);
    });
  };
  return {
    dir: r.dir,
    source: r.source,
    config: model.config,
    store,
    model,
    checkpoint: { ignored: opened.checkpoint.ignored, missingOptional: opened.checkpoint.missingOptional, files: opened.checkpoint.files },
    cls: (ids, mask, types, ctx) => run(ids, mask, types, ctx, 'cls') as tf.Tensor2D,
    sequence: (ids, mask, types, ctx) => run(ids, mask, types, ctx, 'sequence') as tf.Tensor3D,
    dispose: () => {
      if (ownStore) store.dispose();
    },
  };
}

export { loadBertTokenizer, loadBertTokenizerSync, tokenize } from './tokenize.js';
