// Maps a BERT checkpoint's tensors (any of the naming styles found in the wild) onto BertModel's local names and
// checks every name and shape against config.json. Phases 6-7 (loading pretrained weights).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MmsaError } from '../../errors.js';
import { bertParamShapes, type BertModelConfig } from '../nn/bert/config.js';
import type { BertWeights } from '../nn/bert/model.js';
import { readSafetensors } from './safetensors.js';
import { toFloat32, type StoredTensor } from './tensor.js';
import { readTorchBin } from './torch-bin.js';

export type NameMapping = { local: string } | { ignore: string };

/**
 * One checkpoint name -> BertModel local name. Accepts `bert.` / `module.` prefixes (BertForPreTraining,
 * DataParallel), LayerNorm `gamma`/`beta` (checkpoints converted from TF / old pytorch-pretrained-bert) and drops
 * pre-training / task heads (`cls.*`, anything outside embeddings/encoder/pooler) and `position_ids` buffers.
 */
export function normaliseBertName(name: string): NameMapping {
  let n = name;
  if (n.startsWith('module.')) n = n.slice('module.'.length);
  if (n.startsWith('bert.')) n = n.slice('bert.'.length);
  if (n.endsWith('position_ids')) return { ignore: 'position_ids buffer' };
  if (!/^(embeddings|encoder|pooler)\./.test(n)) return { ignore: n.startsWith('cls.') ? 'pre-training head' : 'not part of BertModel' };
  if (n.endsWith('.gamma')) n = `${n.slice(0, -'.gamma'.length)}.weight`;
  else if (n.endsWith('.beta')) n = `${n.slice(0, -'.beta'.length)}.bias`;
  return { local: n };
}

export interface BertCheckpoint {
  /** Local name -> float32 values, ready for createBert({ weights }). */
  weights: Map<string, { shape: number[]; values: Float32Array }>;
  /** Checkpoint names that were dropped, with the reason. */
  ignored: { name: string; reason: string }[];
  /** Optional parameters absent from the file (the pooler of MLM-only checkpoints); they keep BERT's init. */
  missingOptional: string[];
  files: string[];
}

function configFor(local: string, c: BertModelConfig): string {
  if (local.startsWith('embeddings.word_')) return `vocab_size ${c.vocab_size}, hidden_size ${c.hidden_size}`;
  if (local.startsWith('embeddings.position_')) return `max_position_embeddings ${c.max_position_embeddings}, hidden_size ${c.hidden_size}`;
  if (local.startsWith('embeddings.token_type_')) return `type_vocab_size ${c.type_vocab_size}, hidden_size ${c.hidden_size}`;
  if (local.includes('intermediate') || local.includes('.output.dense')) return `hidden_size ${c.hidden_size}, intermediate_size ${c.intermediate_size}`;
  return `hidden_size ${c.hidden_size}`;
}

/** Checks and converts a checkpoint's tensors against the config (errors name the tensor and the file). */
export function bertWeightsFromTensors(tensors: ReadonlyMap<string, StoredTensor>, config: BertModelConfig, configFile = 'config.json'): BertCheckpoint {
  const expected = bertParamShapes(config);
  const byLocal = new Map<string, StoredTensor>();
  const ignored: { name: string; reason: string }[] = [];
  for (const [name, t] of tensors) {
    const m = normaliseBertName(name);
    if ('ignore' in m) {
      ignored.push({ name, reason: m.ignore });
      continue;
    }
    const prev = byLocal.get(m.local);
    if (prev) {
      throw new MmsaError('MSA6807', `${t.file}: tensors '${prev.name}' and '${name}' both map to '${m.local}'`, {
        hint: 'the checkpoint holds two copies of a BERT parameter; keep one naming style',
        details: { file: t.file, tensor: name },
      });
    }
    if (!expected.has(m.local)) {
      const layer = /^encoder\.layer\.(\d+)\./.exec(m.local);
      const why = layer ? `${configFile} has num_hidden_layers ${config.num_hidden_layers}` : 'BertModel has no such parameter';
      throw new MmsaError('MSA6808', `${t.file}: tensor '${name}' (as '${m.local}') does not fit the model: ${why}`, {
        hint: `check that ${configFile} belongs to this checkpoint`,
        details: { file: t.file, tensor: name },
      });
    }
    const want = expected.get(m.local)!;
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new MmsaError(
        'MSA6808',
        `${t.file}: tensor '${name}' has shape [${t.shape.join(', ')}], but ${configFile} (${configFor(m.local, config)}) needs [${want.join(', ')}] for '${m.local}'`,
        { hint: `check that ${configFile} belongs to this checkpoint`, details: { file: t.file, tensor: name, shape: t.shape, expected: want } },
      );
    }
    byLocal.set(m.local, t);
  }
  const missing = [...expected.keys()].filter((k) => !byLocal.has(k));
  const missingOptional = missing.filter((k) => k.startsWith('pooler.'));
  const missingRequired = missing.filter((k) => !k.startsWith('pooler.'));
  if (missingRequired.length > 0) {
    const files = [...new Set([...tensors.values()].map((t) => t.file))];
    const strange = ignored.filter((i) => i.reason === 'not part of BertModel').slice(0, 3).map((i) => `'${i.name}'`);
    throw new MmsaError(
      'MSA6807',
      `${files.join(', ') || 'checkpoint'}: ${missingRequired.length} BERT tensor(s) missing, e.g. '${missingRequired.slice(0, 3).join("', '")}'${strange.length > 0 ? `; unrecognised names such as ${strange.join(', ')} were ignored` : ''}`,
      {
        hint: 'the file must hold a BertModel state_dict (optionally prefixed with `bert.`), as written by save_pretrained',
        details: { files, tensor: missingRequired[0], missing: missingRequired.slice(0, 20) },
      },
    );
  }
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const local of expected.keys()) {
    const t = byLocal.get(local);
    if (t) weights.set(local, { shape: [...t.shape], values: toFloat32(t) });
  }
  return { weights, ignored, missingOptional, files: [...new Set([...tensors.values()].map((t) => t.file))] };
}

/** Weight files of a model directory, preferring safetensors (single or sharded) over pytorch_model.bin. */
export function findWeightFiles(dir: string): string[] {
  const st = path.join(dir, 'model.safetensors');
  if (existsSync(st)) return [st];
  for (const [index, single] of [
    ['model.safetensors.index.json', undefined],
    ['pytorch_model.bin.index.json', undefined],
    [undefined, 'pytorch_model.bin'],
  ] as const) {
    if (single !== undefined) {
      const f = path.join(dir, single);
      if (existsSync(f)) return [f];
      continue;
    }
    const f = path.join(dir, index);
    if (!existsSync(f)) continue;
    let map: unknown;
    try {
      map = (JSON.parse(readFileSync(f, 'utf8')) as { weight_map?: unknown }).weight_map;
    } catch (e) {
      throw new MmsaError('MSA6804', `${f}: cannot read the shard index: ${(e as Error).message}`, { details: { file: f } });
    }
    if (typeof map !== 'object' || map === null) throw new MmsaError('MSA6804', `${f}: no weight_map object`, { details: { file: f } });
    return [...new Set(Object.values(map as Record<string, string>))].map((s) => path.join(dir, s));
  }
  throw new MmsaError('MSA6804', `${dir}: no weights file (model.safetensors or pytorch_model.bin)`, {
    hint: 'a Hugging Face model directory needs config.json and model.safetensors (or pytorch_model.bin)',
    details: { dir },
  });
}

/** Reads one weights file by format (safetensors or torch zip), keeping tensor bytes as views of the file buffer. */
export function readWeightsFile(file: string): Map<string, StoredTensor> {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new MmsaError('MSA6804', `cannot read weights file ${file}: ${(e as Error).message}`, { details: { file } });
  }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  return file.endsWith('.safetensors') ? readSafetensors(bytes, file) : readTorchBin(bytes, file);
}

/** All tensors of a model directory's weights and their BERT mapping, checked against the config. */
export function readBertCheckpoint(dir: string, config: BertModelConfig): BertCheckpoint {
  const all = new Map<string, StoredTensor>();
  for (const f of findWeightFiles(dir)) for (const [k, t] of readWeightsFile(f)) all.set(k, t);
  return bertWeightsFromTensors(all, config, path.join(dir, 'config.json'));
}

export type { BertWeights };
