// `mmsa import`, the checkpoint half: reads the state_dict MMSA saved (torch.save, zip or legacy), matches every
// tensor to a pipeline parameter by its MMSA name, checks every shape, and reports all mismatches at once. Phase 6.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { didYouMean } from '../../core/did-you-mean.js';
import { isIgnoredMmsaName, type MmsaName, type MmsaNaming } from '../../compiler/ir/mmsa-names.js';
import type { Ir } from '../../compiler/ir/types.js';
import { MmsaError } from '../../errors.js';
import type { StateDict } from '../train/checkpoint.js';
import { toFloat32, type StoredTensor } from './tensor.js';
import { readTorchBin, torchFormat } from './torch-bin.js';

export interface MmsaCheckpoint {
  file: string;
  format: 'zip' | 'legacy';
  sha256: string;
  bytes: number;
  tensors: Map<string, StoredTensor>;
}

/**
 * Adds the tensors of another torch.save file (tensors MMSA's model keeps but never saves, exported separately) to a
 * checkpoint's; a name in both is an error (MSA6830), since one of the two files would be silently ignored.
 */
export function addExtraTensors(ckpt: MmsaCheckpoint, extra: MmsaCheckpoint): void {
  const both = [...extra.tensors.keys()].filter((k) => ckpt.tensors.has(k));
  if (both.length > 0) {
    throw new MmsaError('MSA6830', `${extra.file} repeats ${both.length} tensor${both.length === 1 ? '' : 's'} of ${ckpt.file} (${both.slice(0, 3).join(', ')}${both.length > 3 ? ', ...' : ''}); nothing was imported`, {
      hint: 'the extra tensors file should hold only what the checkpoint lacks (e.g. Graph-MFN node networks)',
      details: { file: extra.file, checkpoint: ckpt.file, repeated: both },
    });
  }
  for (const [k, v] of extra.tensors) ckpt.tensors.set(k, v);
}

/** Reads a torch.save state_dict through the safe pickle reader (no code runs) and hashes the file. */
export function readMmsaCheckpoint(file: string): MmsaCheckpoint {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new MmsaError('MSA6804', `cannot read checkpoint ${file}: ${(e as Error).message}`, { hint: 'check the path of the .pth file', details: { file } });
  }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  const tensors = readTorchBin(bytes, file);
  return { file, format: torchFormat(bytes)!, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, tensors };
}

export interface ImportProblem {
  kind: 'missing' | 'unexpected' | 'shape' | 'unnamed' | 'clash';
  /** MMSA's name (the checkpoint's key). */
  mmsa?: string;
  /** The pipeline parameter. */
  key?: string;
  /** Shape in the checkpoint / in the pipeline. */
  shape?: number[];
  expected?: number[];
  suggestion?: string;
  keys?: string[];
}

export interface ImportedTensor {
  mmsa: string;
  key: string;
  shape: number[];
  node: string;
  module: string;
}

export interface ImportMatch {
  weights: StateDict;
  tensors: ImportedTensor[];
  /** Checkpoint tensors that are no parameters here by the components' own declaration (e.g. BERT's position_ids). */
  ignored: string[];
  /** `mmsa_modules` entries that named nothing (notes, not errors). */
  unused: string[];
  /** Parameters MMSA never saves that the checkpoint (and the extra tensors) did not hold: they keep initial values. */
  unsaved: MmsaName[];
}

const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** One line per problem, as printed under the MSA6830 message. */
export function formatImportProblem(p: ImportProblem): string {
  const hint = p.suggestion ? `; did you mean '${p.suggestion}'?` : '';
  switch (p.kind) {
    case 'missing':
      return `  missing     ${p.mmsa} ${fmtShape(p.expected ?? [])} (for ${p.key})${hint}`;
    case 'unexpected':
      return `  unexpected  ${p.mmsa} ${fmtShape(p.shape ?? [])}${hint}`;
    case 'shape':
      return `  shape       ${p.mmsa} is ${fmtShape(p.shape ?? [])} in the checkpoint, ${p.key} needs ${fmtShape(p.expected ?? [])}`;
    case 'unnamed':
      return `  unnamed     ${p.key} ${fmtShape(p.expected ?? [])}: no mmsa_modules entry covers its node`;
    case 'clash':
      return `  clash       ${p.mmsa} would be the MMSA name of ${(p.keys ?? []).join(' and ')}`;
  }
}

const SHOWN = 40;

/**
 * Matches the checkpoint's tensors to the pipeline's parameters (buffers included) by MMSA name. Every tensor must
 * find its parameter with the same shape and every parameter its tensor; otherwise nothing is imported and one
 * MSA6830 lists every problem (with did-you-mean and, where the pattern is known, the fix).
 */
export function matchMmsaCheckpoint(ckpt: Pick<MmsaCheckpoint, 'file' | 'tensors'>, naming: MmsaNaming, ir: Ir, modules: Readonly<Record<string, string>> = {}, specFile = ir.file): ImportMatch {
  const problems: ImportProblem[] = [];
  const byMmsa = new Map<string, MmsaName>();
  for (const c of naming.clashes) problems.push({ kind: 'clash', mmsa: c.mmsa, keys: c.keys });
  for (const n of naming.names) {
    if (n.mmsa === undefined) problems.push({ kind: 'unnamed', key: n.key, expected: n.shape });
    else byMmsa.set(n.mmsa, n);
  }
  const unexpected = [...ckpt.tensors.keys()].filter((k) => !byMmsa.has(k) && !isIgnoredMmsaName(naming, k));
  const absent = [...byMmsa.values()].filter((n) => !ckpt.tensors.has(n.mmsa!));
  const unsaved = absent.filter((n) => n.unsaved);
  const missing = absent.filter((n) => !n.unsaved);
  for (const n of missing) {
    const s = didYouMean(n.mmsa!, unexpected);
    problems.push({ kind: 'missing', mmsa: n.mmsa!, key: n.key, expected: n.shape, ...(s ? { suggestion: s } : {}) });
  }
  const missingNames = missing.map((n) => n.mmsa!);
  for (const k of unexpected) {
    const s = didYouMean(k, missingNames);
    problems.push({ kind: 'unexpected', mmsa: k, shape: ckpt.tensors.get(k)!.shape, ...(s ? { suggestion: s } : {}) });
  }
  const tensors: ImportedTensor[] = [];
  for (const n of byMmsa.values()) {
    const t = ckpt.tensors.get(n.mmsa!);
    if (!t) continue;
    if (!sameShape(t.shape, n.shape)) problems.push({ kind: 'shape', mmsa: n.mmsa!, key: n.key, shape: t.shape, expected: n.shape });
    else tensors.push({ mmsa: n.mmsa!, key: n.key, shape: n.shape, node: n.node, module: n.module! });
  }
  if (problems.length > 0) throw importError(ckpt, problems, ir, modules, specFile);
  const weights: StateDict = new Map();
  for (const t of tensors) weights.set(t.key, { shape: [...t.shape], values: toFloat32(ckpt.tensors.get(t.mmsa)!) });
  const ignored = [...ckpt.tensors.keys()].filter((k) => !byMmsa.has(k) && isIgnoredMmsaName(naming, k));
  return { weights, tensors, ignored, unused: naming.unused, unsaved };
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The fix when a whole node's module is absent from (or only present in) the checkpoint: finetune on or off. */
function nodeHints(ckpt: Pick<MmsaCheckpoint, 'tensors'>, problems: ImportProblem[], ir: Ir, modules: Readonly<Record<string, string>>): string[] {
  const hints: string[] = [];
  const keys = [...ckpt.tensors.keys()];
  for (const node of ir.nodes) {
    const module = modules[node.id];
    if (module === undefined) continue;
    const under = keys.filter((k) => k.startsWith(`${module}.`));
    // A rewritten node (frozen BERT read as precomputed features) keeps the spec's own params in rewrittenFrom.
    const finetune = (node.rewrittenFrom?.config ?? node.config)['finetune'];
    const allMissing = node.params.length > 0 && problems.filter((p) => p.kind === 'missing' && p.key?.startsWith(`${node.id}.`)).length === node.params.length;
    if (allMissing && under.length === 0) {
      hints.push(
        `the checkpoint has no tensors under ${module}, where ${node.id}'s ${node.params.length} parameters belong` +
          (finetune === true ? `: if the model was trained on precomputed text features, set \`finetune: false\` on ${node.id} (a frozen BERT reads the dataset's precomputed features)` : ''),
      );
    }
    if (node.params.length === 0 && under.length > 0 && problems.some((p) => p.kind === 'unexpected' && p.mmsa?.startsWith(`${module}.`))) {
      hints.push(
        `${node.id} has no parameters in this pipeline, but the checkpoint holds ${under.length} tensors under ${module}` +
          (finetune === false ? `: set \`finetune: true\` on ${node.id} to run BERT with the checkpoint's weights` : ''),
      );
    }
  }
  return hints;
}

function importError(ckpt: Pick<MmsaCheckpoint, 'file' | 'tensors'>, problems: ImportProblem[], ir: Ir, modules: Readonly<Record<string, string>>, specFile: string): MmsaError {
  const n = (k: ImportProblem['kind']) => problems.filter((p) => p.kind === k).length;
  const parts = [
    n('clash') && count(n('clash'), 'MMSA name given twice', 'MMSA names given twice'),
    n('unnamed') && count(n('unnamed'), 'parameter without an MMSA name', 'parameters without an MMSA name'),
    n('shape') && count(n('shape'), 'tensor with another shape', 'tensors with another shape'),
    n('missing') && count(n('missing'), 'missing tensor', 'missing tensors'),
    n('unexpected') && count(n('unexpected'), 'unexpected tensor', 'unexpected tensors'),
  ].filter(Boolean);
  const order: ImportProblem['kind'][] = ['clash', 'unnamed', 'shape', 'missing', 'unexpected'];
  const sorted = [...problems].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  const lines = sorted.slice(0, SHOWN).map(formatImportProblem);
  if (sorted.length > SHOWN) lines.push(`  ... and ${sorted.length - SHOWN} more (--format json lists all)`);
  const hints = nodeHints(ckpt, problems, ir, modules);
  if (n('unnamed') > 0 || n('clash') > 0) hints.push(`declare where MMSA keeps each node in the pipeline's mmsa_modules (the model presets in pipelines/presets do)`);
  if (hints.length === 0) hints.push('the checkpoint and the pipeline describe different models: use the pipeline of the MMSA model and dataset config the checkpoint was trained with, with the same sizes');
  return new MmsaError(
    'MSA6830',
    `${ckpt.file} does not fit ${specFile}: ${parts.join(', ')}; nothing was imported\n${lines.join('\n')}`,
    { hint: hints.join('; '), details: { file: ckpt.file, spec: specFile, problems } },
  );
}
