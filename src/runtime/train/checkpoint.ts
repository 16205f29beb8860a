// Checkpoints: model.json (weights manifest: every variable by full name, float32, shape, byte offset) plus one
// little-endian weights.bin, and tasks.json with task state (ULGM banks). Phase 7 (execute) writes, predict reads.

import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MmsaError } from '../../errors.js';
import { replaceDir, writeFileAtomic, writeJsonAtomic } from '../run-dir.js';

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
 * always belong together. Returns the bytes written.
 */
export function writeCheckpoint(dir: string, data: CheckpointData): { path: string; bytes: number } {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const specs: WeightSpec[] = [];
  let total = 0;
  for (const [name, w] of data.weights) {
    specs.push({ name, shape: [...w.shape], dtype: 'float32', offset: total });
    total += w.values.length * 4;
  }
  const bin = new Uint8Array(total);
  const view = new DataView(bin.buffer);
  let off = 0;
  for (const w of data.weights.values()) {
    for (let i = 0; i < w.values.length; i++, off += 4) view.setFloat32(off, w.values[i]!, true);
  }
  writeFileAtomic(join(tmp, 'weights.bin'), bin);
  const taskNames = Object.keys(data.tasks);
  writeJsonAtomic(join(tmp, 'tasks.json'), data.tasks, { compact: true });
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
  writeJsonAtomic(join(tmp, 'model.json'), meta);
  replaceDir(tmp, dir);
  return { path: dir, bytes: total };
}

export function readCheckpoint(dir: string): { meta: CheckpointMeta; weights: StateDict; tasks: Record<string, unknown> } {
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
