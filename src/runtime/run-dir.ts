// Run directories: `runs/<pipeline>/<spec-hash>-<seed>/` with the lock file, manifest, events, per-epoch CSV and
// results, every file written atomically (temp file in the same dir, fsync, rename). Phase 7 (execute).

import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { MmsaError } from '../errors.js';
import { serializeEvent, type RunEvent, type SeedResult, type AggregateCell } from './events.js';

export type RunStatus = 'running' | 'completed' | 'interrupted' | 'failed';

export interface DatasetIdentity {
  name: string;
  source: string;
  path?: string;
  sha256?: string | null;
  synthetic?: Record<string, unknown>;
}

export interface RunManifest {
  mmsaVersion: string;
  nodeVersion: string;
  backend: string;
  backendDetails?: Record<string, unknown>;
  pipeline: string;
  specHash: string;
  seed: number;
  dataset: DatasetIdentity;
  command: string[];
  startedAt: string;
  finishedAt: string | null;
  status: RunStatus;
  error?: { code: string; message: string };
  /** The memory plan (design, estimates, budget) and, once finished, the measured peaks (src/runtime/memory/). */
  memory?: Record<string, unknown>;
}

/** spec.lock.json: what a run trained, enough to rebuild its model (`mmsa predict`). */
export interface LockFile {
  mmsaVersion: string;
  specHash: string;
  /** The spec file the run was compiled from (relative paths in the spec are relative to it). */
  file: string;
  /** The normalized spec with every default filled and command-line overrides applied. */
  spec: Record<string, unknown>;
  /** Dotted paths whose values came from defaults. */
  defaulted: string[];
  overrides: { maxEpochs?: number; seeds?: number[] };
}

/** Where a lock's spec is compiled from (in memory): beside the original spec, so relative paths resolve the same. */
export function lockSpecPath(lock: LockFile): string {
  return join(dirname(lock.file), `${basename(lock.file, extname(lock.file))}.lock.yaml`);
}

let tmpCounter = 0;

/** Serialises to stable JSON: object keys sorted at every level; typed arrays as plain arrays. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value));
}

function canonicalize(v: unknown): unknown {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(canonicalize);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonicalize(x);
    }
    return out;
  }
  return v;
}

/**
 * First 12 hex digits of SHA-256 over the canonical JSON of the normalized spec, the dataset identity (file hash or
 * synthetic settings, never its location) and the mmsa version: equal hashes mean "the same experiment".
 */
export function specHash(spec: unknown, dataset: DatasetIdentity, mmsaVersion: string): string {
  const identity = { name: dataset.name, source: dataset.source, sha256: dataset.sha256 ?? null, synthetic: dataset.synthetic ?? null };
  const text = canonicalJson({ spec, dataset: identity, mmsa: mmsaVersion });
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** File names must not escape `runs/<pipeline>/`. */
export function safeSegment(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
  return s.length > 0 ? s : 'pipeline';
}

export function runDirPath(outRoot: string, pipeline: string, hash: string, seed: number): string {
  return join(outRoot, safeSegment(pipeline), `${hash}-${seed}`);
}

export function summaryPaths(outRoot: string, pipeline: string, hash: string): { json: string; csv: string } {
  const base = join(outRoot, safeSegment(pipeline), `${hash}-summary`);
  return { json: `${base}.json`, csv: `${base}.csv` };
}

/** Writes a file so that readers see either the old or the new content, never a torn one. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${tmpCounter++}`);
  const fd = openSync(tmp, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dir);
}

export function writeJsonAtomic(path: string, value: unknown, opts: { compact?: boolean } = {}): void {
  writeFileAtomic(path, `${JSON.stringify(value, jsonReplacer, opts.compact ? undefined : 2)}\n`);
}

/** NaN/Infinity are not JSON: write null. Typed arrays as arrays. */
export function jsonReplacer(_k: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  return v;
}

function fsyncDir(dir: string): void {
  // Directory fsync makes the rename durable; not supported everywhere (Windows), where it is skipped.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Reads a run's manifest; undefined when the directory has none or it does not parse. */
export function readManifest(dir: string): RunManifest | undefined {
  try {
    return readJson<RunManifest>(join(dir, 'manifest.json'));
  } catch {
    return undefined;
  }
}

/** A completed run with results, or undefined. */
export function findCompletedRun(dir: string): { manifest: RunManifest; results: SeedResult } | undefined {
  const manifest = readManifest(dir);
  if (!manifest || manifest.status !== 'completed') return undefined;
  try {
    return { manifest, results: readJson<SeedResult>(join(dir, 'results.json')) };
  } catch {
    return undefined;
  }
}

export interface RunDirInit {
  outRoot: string;
  pipeline: string;
  hash: string;
  seed: number;
  /** spec.lock.json content: the normalized spec and the list of defaulted keys. */
  lock: unknown;
  manifest: Omit<RunManifest, 'status' | 'finishedAt' | 'startedAt'>;
}

/** CSV columns of epochs.csv; valid metric keys follow in the order of the first epoch. */
const EPOCH_COLUMNS = ['epoch', 'train_loss', 'valid_loss', 'improved', 'best_epoch', 'optimizer_steps', 'seconds'];

/**
 * One seed's run directory. Created under a temporary name (`<dir>.tmp-<pid>`) holding the lock file and the
 * manifest, then renamed into place, so `<dir>` never exists half-initialised.
 */
export class RunDir {
  readonly path: string;
  manifest: RunManifest;
  private eventsFd: number | undefined;
  private epochRows: string[] = [];
  private metricKeys: string[] | undefined;

  private constructor(path: string, manifest: RunManifest) {
    this.path = path;
    this.manifest = manifest;
  }

  static create(init: RunDirInit, now: () => Date = () => new Date()): RunDir {
    const path = runDirPath(init.outRoot, init.pipeline, init.hash, init.seed);
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    const manifest: RunManifest = { ...init.manifest, startedAt: now().toISOString(), finishedAt: null, status: 'running' };
    writeJsonAtomic(join(tmp, 'spec.lock.json'), init.lock);
    writeJsonAtomic(join(tmp, 'manifest.json'), manifest);
    writeFileAtomic(join(tmp, 'events.ndjson'), '');
    // A previous run of the same hash and seed (failed, interrupted, or being forced) is replaced as a whole.
    replaceDir(tmp, path);
    const dir = new RunDir(path, manifest);
    dir.eventsFd = openSync(join(path, 'events.ndjson'), 'a');
    return dir;
  }

  get checkpointDir(): string {
    return join(this.path, 'checkpoint');
  }

  /** Appends one event line; milestones (everything but steps) are fsynced so a crash keeps them. */
  appendEvent(e: RunEvent): void {
    if (this.eventsFd === undefined) return;
    const line = Buffer.from(`${serializeEvent(e)}\n`, 'utf8');
    let off = 0;
    while (off < line.byteLength) off += writeSync(this.eventsFd, line, off, line.byteLength - off);
    if (e.kind !== 'step.end') fsyncSync(this.eventsFd);
  }

  /** Adds a row to epochs.csv (rewritten atomically: it is small). */
  recordEpoch(e: Extract<RunEvent, { kind: 'epoch.end' }>): void {
    if (!this.metricKeys) this.metricKeys = Object.keys(e.valid.metrics).filter((k) => k !== 'Loss');
    const cells = [
      e.epoch,
      e.trainLoss,
      e.valid.loss,
      e.improved ? 1 : 0,
      e.select.bestEpoch,
      e.optimizerSteps,
      Number(e.seconds.toFixed(3)),
      ...this.metricKeys.map((k) => e.valid.metrics[k] ?? ''),
    ];
    this.epochRows.push(cells.map(csvCell).join(','));
    const header = [...EPOCH_COLUMNS, ...this.metricKeys.map((k) => `valid_${k}`)].join(',');
    writeFileAtomic(join(this.path, 'epochs.csv'), `${header}\n${this.epochRows.join('\n')}\n`);
  }

  writeResults(modelName: string, result: SeedResult): void {
    writeJsonAtomic(join(this.path, 'results.json'), result);
    const keys = Object.keys(result.test);
    writeFileAtomic(join(this.path, 'results.csv'), `${['Model', ...keys].join(',')}\n${[csvCell(modelName), ...keys.map((k) => csvCell(result.test[k]!))].join(',')}\n`);
  }

  /** Final status; closes the events file. */
  finish(status: Exclude<RunStatus, 'running'>, extra: { error?: { code: string; message: string }; memory?: Record<string, unknown> } = {}, now: () => Date = () => new Date()): void {
    this.manifest = { ...this.manifest, status, finishedAt: now().toISOString(), ...(extra.error ? { error: extra.error } : {}), ...(extra.memory ? { memory: extra.memory } : {}) };
    writeJsonAtomic(join(this.path, 'manifest.json'), this.manifest);
    this.close();
  }

  close(): void {
    if (this.eventsFd !== undefined) {
      try {
        fsyncSync(this.eventsFd);
      } catch {
        /* already closed by the OS */
      }
      closeSync(this.eventsFd);
      this.eventsFd = undefined;
    }
  }
}

/**
 * Puts a fully written directory `tmp` in place of `path` (replacing an older one whole): readers see either the old
 * or the new directory, never a half-written one.
 */
export function replaceDir(tmp: string, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path)) {
    const old = `${path}.old-${process.pid}`;
    rmSync(old, { recursive: true, force: true });
    renameSync(path, old);
    renameSync(tmp, path);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, path);
  }
  fsyncDir(dirname(path));
}

export function csvCell(v: string | number | boolean): string {
  const s = typeof v === 'number' && !Number.isFinite(v) ? 'nan' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** MMSA's normal-mode CSV row: `Model` then one "(mean, std)" cell per key (both x100, numpy-rounded to 2). */
export function writeSummary(
  paths: { json: string; csv: string },
  summary: { pipeline: string; specHash: string; seeds: number[]; results: SeedResult[]; aggregate: Record<string, AggregateCell> },
): void {
  mkdirSync(dirname(paths.json), { recursive: true });
  writeJsonAtomic(paths.json, summary);
  const keys = Object.keys(summary.aggregate);
  const cells = keys.map((k) => {
    const c = summary.aggregate[k]!.cell;
    return csvCell(`(${pyFloat(c[0])}, ${pyFloat(c[1])})`);
  });
  writeFileAtomic(paths.csv, `${['Model', ...keys].join(',')}\n${[csvCell(summary.pipeline), ...cells].join(',')}\n`);
}

/** Python's repr of a float for the CSV cells (`70.8`, `0.0`). */
function pyFloat(x: number): string {
  if (!Number.isFinite(x)) return 'nan';
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

export function assertRunDir(dir: string): void {
  if (!existsSync(join(dir, 'spec.lock.json')) || !existsSync(join(dir, 'manifest.json'))) {
    throw new MmsaError('MSA6710', `${dir} is not a run directory (no spec.lock.json / manifest.json)`, {
      hint: 'pass a directory made by `mmsa run`, e.g. runs/<pipeline>/<hash>-<seed>',
    });
  }
}
