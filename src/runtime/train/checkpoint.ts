// Checkpoints: model.json (weights manifest: every variable by full name, float32, shape, byte offset) plus one
// little-endian weights.bin, and tasks.json with task state (ULGM banks). Phase 7 (execute) writes, predict reads.

import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Ir } from '../../compiler/ir/types.js';
import { MmsaError } from '../../errors.js';
import { withWriteErrors, type WriteContext } from '../fs-errors.js';
import { recoverSwap, replaceDir, writeFileAtomic, writeJsonAtomic } from '../run-dir.js';

export const CHECKPOINT_FORMAT = 'mmsa-checkpoint';
export const CHECKPOINT_VERSION = 1;

export type StateDict = Map<string, { shape: number[]; values: Float32Array }>;

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
  /** Byte offset into weights.bin. */
  offset: number;
}

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  formatVersion: number;
  pipeline: string;
  epoch: number;
  /** Model description: the IR nodes' ids, types and inputs (the full spec is in spec.lock.json next to it). */
  modelTopology: unknown;
  /** tfjs-style weights manifest: one group, one file. */
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  byteLength: number;
  /** Task names that have state in tasks.json. */
  tasks: string[];
  /** Selection value at this epoch (for humans; the run's epochs.csv has the full history). */
  selectValue?: number;
}

export interface CheckpointData {
  pipeline: string;
  epoch: number;
  topology?: unknown;
  weights: StateDict;
  tasks: Record<string, unknown>;
  selectValue?: number;
}

/**
 * Writes `dir` as a whole: files go to `<dir>.tmp-<pid>`, which then replaces `dir`, so model.json and weights.bin
 * always belong together. On a failure (a full disk) the temporary is removed and the previous checkpoint stays.
 * Returns the bytes written.
 */
export function writeCheckpoint(dir: string, data: CheckpointData): { path: string; bytes: number } {
  // Leftovers of a killed earlier writer: put a lost checkpoint back, drop stale temporaries.
  recoverCheckpoint(dir);
  const tmp = `${dir}.tmp-${process.pid}`;
  const specs: WeightSpec[] = [];
  let total = 0;
  for (const [name, w] of data.weights) {
    specs.push({ name, shape: [...w.shape], dtype: 'float32', offset: total });
    total += w.values.length * 4;
  }
  const ctx: WriteContext = { what: 'the checkpoint', bytes: total, elsewhere: 'write the runs elsewhere with --out DIR' };
  try {
    rmSync(tmp, { recursive: true, force: true });
    withWriteErrors(tmp, ctx, () => mkdirSync(tmp, { recursive: true }));
    const bin = new Uint8Array(total);
    const view = new DataView(bin.buffer);
    let off = 0;
    for (const w of data.weights.values()) {
      for (let i = 0; i < w.values.length; i++, off += 4) view.setFloat32(off, w.values[i]!, true);
    }
    writeFileAtomic(join(tmp, 'weights.bin'), bin, { ...ctx, shownAs: join(dir, 'weights.bin') });
    const taskNames = Object.keys(data.tasks);
    writeJsonAtomic(join(tmp, 'tasks.json'), data.tasks, { compact: true, ...ctx, bytes: undefined });
    const meta: CheckpointMeta = {
      format: CHECKPOINT_FORMAT,
      formatVersion: CHECKPOINT_VERSION,
      pipeline: data.pipeline,
      epoch: data.epoch,
      modelTopology: data.topology ?? null,
      weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
      byteLength: total,
      tasks: taskNames,
      ...(data.selectValue !== undefined ? { selectValue: data.selectValue } : {}),
    };
    // model.json last: its presence marks a complete checkpoint directory (see isCompleteCheckpoint).
    writeJsonAtomic(join(tmp, 'model.json'), meta, { ...ctx, bytes: undefined });
    withWriteErrors(dir, ctx, () => replaceDir(tmp, dir));
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { path: dir, bytes: total };
}

/** A checkpoint directory whose model.json parses and whose weights.bin has the size model.json names. */
export function isCompleteCheckpoint(dir: string): boolean {
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as CheckpointMeta;
    return meta.format === CHECKPOINT_FORMAT && statSync(join(dir, meta.weightsManifest[0]?.paths[0] ?? 'weights.bin')).size === meta.byteLength;
  } catch {
    return false;
  }
}

/**
 * A kill between the two renames of a checkpoint swap leaves no `checkpoint/` but complete copies beside it: puts
 * the newest complete one back and removes the temporaries of dead writers. Returns the restored name, if any.
 */
export function recoverCheckpoint(dir: string): string | undefined {
  return recoverSwap(dir, isCompleteCheckpoint);
}

export function readCheckpoint(dir: string): { meta: CheckpointMeta; weights: StateDict; tasks: Record<string, unknown> } {
  // A live run may swap the directory while it is read: model.json read again after the weights must be the same,
  // or the files could belong to two epochs.
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = readMetaText(dir);
    try {
      const r = readCheckpointOnce(dir);
      if (before === readMetaText(dir)) return r;
    } catch (e) {
      if (before === readMetaText(dir)) throw e;
    }
  }
  throw new MmsaError('MSA6711', `${dir} changed on every read: a live run keeps replacing its checkpoint`, { hint: 'try again, or wait for the run to finish', details: { path: dir } });
}

function readMetaText(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, 'model.json'), 'utf8');
  } catch {
    return undefined;
  }
}

function readCheckpointOnce(dir: string): { meta: CheckpointMeta; weights: StateDict; tasks: Record<string, unknown> } {
  const metaPath = join(dir, 'model.json');
  if (!existsSync(metaPath)) {
    throw new MmsaError('MSA6711', `no checkpoint in ${dir} (model.json missing)`, {
      hint: 'the run stopped before its first improvement on the validation split; train it again',
      details: { path: dir },
    });
  }
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as CheckpointMeta;
  if (meta.format !== CHECKPOINT_FORMAT || meta.formatVersion !== CHECKPOINT_VERSION) {
    throw new MmsaError('MSA6711', `${metaPath}: not an mmsa checkpoint of format version ${CHECKPOINT_VERSION}`, { details: { path: metaPath } });
  }
  const group = meta.weightsManifest[0];
  const binPath = join(dir, group?.paths[0] ?? 'weights.bin');
  const buf = readFileSync(binPath);
  if (buf.byteLength !== meta.byteLength) {
    throw new MmsaError('MSA6711', `${binPath}: ${buf.byteLength} bytes, model.json expects ${meta.byteLength}`, {
      hint: 'the checkpoint is truncated or from another run; retrain or copy the whole checkpoint/ directory',
      details: { path: binPath },
    });
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const weights: StateDict = new Map();
  for (const w of group?.weights ?? []) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (w.offset + n * 4 > buf.byteLength) {
      throw new MmsaError('MSA6711', `${metaPath}: weight '${w.name}' runs past the end of ${binPath}`, { details: { path: metaPath, key: w.name } });
    }
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = view.getFloat32(w.offset + i * 4, true);
    weights.set(w.name, { shape: [...w.shape], values });
  }
  const tasksPath = join(dir, 'tasks.json');
  const tasks = existsSync(tasksPath) ? (JSON.parse(readFileSync(tasksPath, 'utf8')) as Record<string, unknown>) : {};
  return { meta, weights, tasks };
}

/** The model's structure for the checkpoint: node ids, types, inputs and parameter shapes. */
export function topologyOf(ir: Ir): unknown {
  return {
    pipeline: ir.pipeline,
    nodes: ir.nodes.map((n) => ({ id: n.id, kind: n.kind, type: n.type, inputs: n.inputs, output: n.output.shape, params: n.params.map((p) => ({ name: p.name, shape: p.shape, trainable: p.trainable })) })),
    heads: ir.nodes.filter((n) => n.kind === 'head').map((n) => n.name),
    evalHead: ir.schedule.evalHead,
  };
}
