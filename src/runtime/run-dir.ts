// Run directories: `runs/<pipeline>/<spec-hash>-<seed>/` with the lock file, manifest, events, per-epoch CSV and
// results, every file written atomically (temp file in the same dir, fsync, rename). Phase 7 (execute).

import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { MmsaError } from '../errors.js';
import { serializeEvent, type RunEvent, type SeedResult, type AggregateCell } from './events.js';
import { withWriteErrors, type WriteContext } from './fs-errors.js';
import { currentOwner, HEARTBEAT_MS, isStaleTemp, tempOwnerPid, type RunOwner } from './run-liveness.js';

export type RunStatus = 'running' | 'completed' | 'interrupted' | 'failed';

export interface DatasetIdentity {
  name: string;
  source: string;
  path?: string;
  sha256?: string | null;
  synthetic?: Record<string, unknown>;
  /** Training-split mean / std of the modalities with `normalize: standard`, reused when scoring new data. */
  normalization?: Record<string, { mean: number[]; std: number[] }>;
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
  /** The process writing the directory while it runs (readers tell a dead run from a live one with it). */
  owner?: RunOwner;
  /** Last sign of life of the owner (ISO), rewritten every HEARTBEAT_MS while the run is running. */
  heartbeatAt?: string;
  /** Set when the weights were imported from an MMSA checkpoint (`mmsa import`) instead of trained. */
  imported?: ImportedFrom;
}

export interface ImportedFrom {
  from: 'mmsa';
  /** The checkpoint as given on the command line, its SHA-256 and torch.save format. */
  file: string;
  sha256: string;
  format: 'zip' | 'legacy';
  tensors: number;
  /** `--extra-tensors`: the file of tensors MMSA never saves (Graph-MFN's node networks). */
  extraTensors?: { file: string; sha256: string; tensors: number };
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
  /** `set`: the `--set KEY=VALUE` arguments, in order (already applied to `spec`). */
  overrides: { maxEpochs?: number; seeds?: number[]; set?: string[] };
  /** Per pretrained encoder (node id): the model, the revision asked for and the commit it resolved to. */
  pretrained?: Record<string, { model: string; revision?: string; commit?: string; source: string }>;
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

/**
 * Writes a file so that readers see either the old or the new content, never a torn one. A full disk or a read-only
 * place becomes a located MmsaError (MSA6740/MSA6741) and leaves no temporary behind.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, ctx: WriteContext = {}): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${tmpCounter++}`);
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  withWriteErrors(path, { bytes: buf.byteLength, ...ctx }, () => {
    let fd: number | undefined;
    try {
      fd = openSync(tmp, 'w');
      let off = 0;
      while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off);
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(tmp, path);
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
  });
  fsyncDir(dir);
}

/** mkdir -p with located errors. */
export function ensureDir(dir: string, ctx: WriteContext = {}): void {
  withWriteErrors(join(dir, '.'), ctx, () => mkdirSync(dir, { recursive: true }));
}

export function writeJsonAtomic(path: string, value: unknown, opts: { compact?: boolean } & WriteContext = {}): void {
  const { compact, ...ctx } = opts;
  writeFileAtomic(path, `${JSON.stringify(value, jsonReplacer, compact ? undefined : 2)}\n`, ctx);
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
  /** Where the directory goes (default: runs/<pipeline>/<hash>-<seed> under outRoot). */
  path?: string;
  /** spec.lock.json content: the normalized spec and the list of defaulted keys. */
  lock: unknown;
  manifest: Omit<RunManifest, 'status' | 'finishedAt' | 'startedAt'>;
}

/**
 * CSV columns of epochs.csv; then the valid metric keys (`valid_<key>`), the training loss of every task
 * (`train_loss_task_<task>`, weighted as it enters the total) and of every head (`train_loss_head_<head>`: the part of
 * the loss that trains it, e.g. Self-MM's M, T, A, V), in the order of the first epoch. A task whose loss is 0 has
 * not started contributing yet (Self-MM's ULGM weights are 0 until the generated labels move away from y_M).
 */
const EPOCH_COLUMNS = ['epoch', 'train_loss', 'valid_loss', 'improved', 'best_epoch', 'optimizer_steps', 'seconds'];

/** Run directories of this process that have not finished yet (settled on a second Ctrl-C or an unexpected exit). */
const openDirs = new Set<RunDir>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers run synchronously on process.exit() and after an uncaught exception: a run directory this process
  // still holds open would otherwise say "running" forever.
  process.on('exit', (code) => {
    settleOpenRunDirs('failed', { code: 'MSA6744', message: `the process exited (code ${code}) while the run was in progress` });
  });
}

/** Marks every run directory this process still has open as finished (synchronous; for signal and exit paths). */
export function settleOpenRunDirs(status: 'interrupted' | 'failed', error?: { code: string; message: string }): void {
  for (const d of [...openDirs]) {
    try {
      d.finish(status, error ? { error } : {});
    } catch {
      /* best effort: the owner check still tells readers the run is dead */
    }
  }
}

/** Removes `*.tmp-<pid>` / `*.old-<pid>` entries of `dir` whose process is gone (never those of a live process). */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    if (tempOwnerPid(n) === undefined || !isStaleTemp(n)) continue;
    try {
      rmSync(join(dir, n), { recursive: true, force: true });
      removed.push(n);
    } catch {
      /* a read-only place: the next writable run cleans it */
    }
  }
  return removed;
}

/**
 * One seed's run directory. Created under a temporary name (`<dir>.tmp-<pid>`) holding the lock file and the
 * manifest, then renamed into place, so `<dir>` never exists half-initialised. While it runs, the manifest names its
 * owner (pid, host, process start) and a heartbeat, so a reader can tell a killed run from a live one.
 */
export class RunDir {
  readonly path: string;
  manifest: RunManifest;
  private eventsFd: number | undefined;
  private epochRows: string[] = [];
  private metricKeys: string[] | undefined;
  private taskKeys: string[] = [];
  private headKeys: string[] = [];
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(path: string, manifest: RunManifest) {
    this.path = path;
    this.manifest = manifest;
  }

  static create(init: RunDirInit, now: () => Date = () => new Date(), opts: { heartbeatMs?: number } = {}): RunDir {
    const path = init.path ?? runDirPath(init.outRoot, init.pipeline, init.hash, init.seed);
    const ctx: WriteContext = { what: 'the run directory', elsewhere: 'write the runs elsewhere with --out DIR' };
    ensureDir(dirname(path), ctx);
    removeStaleTemps(dirname(path));
    const tmp = `${path}.tmp-${process.pid}`;
    const started = now().toISOString();
    const manifest: RunManifest = { ...init.manifest, startedAt: started, finishedAt: null, status: 'running', owner: currentOwner(), heartbeatAt: started };
    try {
      rmSync(tmp, { recursive: true, force: true });
      withWriteErrors(tmp, ctx, () => mkdirSync(tmp));
      writeJsonAtomic(join(tmp, 'spec.lock.json'), init.lock, ctx);
      writeJsonAtomic(join(tmp, 'manifest.json'), manifest, ctx);
      writeFileAtomic(join(tmp, 'events.ndjson'), '', ctx);
      // A previous run of the same hash and seed (failed, interrupted, dead, or being forced) is replaced as a whole.
      withWriteErrors(path, ctx, () => replaceDir(tmp, path));
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    const dir = new RunDir(path, manifest);
    dir.eventsFd = withWriteErrors(join(path, 'events.ndjson'), ctx, () => openSync(join(path, 'events.ndjson'), 'a'));
    openDirs.add(dir);
    installExitHook();
    const every = opts.heartbeatMs ?? HEARTBEAT_MS;
    dir.heartbeat = setInterval(() => dir.beat(now), every);
    dir.heartbeat.unref();
    return dir;
  }

  get checkpointDir(): string {
    return join(this.path, 'checkpoint');
  }

  /** Rewrites the heartbeat; a failure (full disk) is not the run's failure: the next real write reports it. */
  beat(now: () => Date = () => new Date()): void {
    if (this.manifest.status !== 'running') return;
    this.manifest = { ...this.manifest, heartbeatAt: now().toISOString() };
    try {
      writeJsonAtomic(join(this.path, 'manifest.json'), this.manifest);
    } catch {
      /* see above */
    }
  }

  /** Appends one event line; milestones (everything but steps) are fsynced so a crash keeps them. */
  appendEvent(e: RunEvent): void {
    if (this.eventsFd === undefined) return;
    const fd = this.eventsFd;
    const line = Buffer.from(`${serializeEvent(e)}\n`, 'utf8');
    withWriteErrors(join(this.path, 'events.ndjson'), { what: 'the run events', bytes: line.byteLength, elsewhere: 'write the runs elsewhere with --out DIR' }, () => {
      let off = 0;
      while (off < line.byteLength) off += writeSync(fd, line, off, line.byteLength - off);
      if (e.kind !== 'step.end') fsyncSync(fd);
    });
  }

  /** Adds a row to epochs.csv (rewritten atomically: it is small). */
  recordEpoch(e: Extract<RunEvent, { kind: 'epoch.end' }>): void {
    if (!this.metricKeys) {
      this.metricKeys = Object.keys(e.valid.metrics).filter((k) => k !== 'Loss');
      this.taskKeys = Object.keys(e.taskLosses ?? {});
      this.headKeys = Object.keys(e.headLosses ?? {});
    }
    const cells = [
      e.epoch,
      e.trainLoss,
      e.valid.loss,
      e.improved ? 1 : 0,
      e.select.bestEpoch,
      e.optimizerSteps,
      Number(e.seconds.toFixed(3)),
      ...this.metricKeys.map((k) => e.valid.metrics[k] ?? ''),
      ...this.taskKeys.map((k) => e.taskLosses?.[k] ?? ''),
      ...this.headKeys.map((k) => e.headLosses?.[k] ?? ''),
    ];
    this.epochRows.push(cells.map(csvCell).join(','));
    const header = [
      ...EPOCH_COLUMNS,
      ...this.metricKeys.map((k) => `valid_${k}`),
      ...this.taskKeys.map((k) => `train_loss_task_${k}`),
      ...this.headKeys.map((k) => `train_loss_head_${k}`),
    ]
      .map(csvCell)
      .join(',');
    writeFileAtomic(join(this.path, 'epochs.csv'), `${header}\n${this.epochRows.join('\n')}\n`, { elsewhere: 'write the runs elsewhere with --out DIR' });
  }

  /** results.json and results.csv, both or neither (a half-written pair would look like a finished run). */
  writeResults(modelName: string, result: SeedResult): void {
    const keys = Object.keys(result.test);
    const ctx = { what: 'the results', elsewhere: 'write the runs elsewhere with --out DIR' };
    try {
      writeJsonAtomic(join(this.path, 'results.json'), result, ctx);
      writeFileAtomic(join(this.path, 'results.csv'), `${['Model', ...keys].join(',')}\n${[csvCell(modelName), ...keys.map((k) => csvCell(result.test[k]!))].join(',')}\n`, ctx);
    } catch (e) {
      rmSync(join(this.path, 'results.json'), { force: true });
      rmSync(join(this.path, 'results.csv'), { force: true });
      throw e;
    }
  }

  /**
   * Final status; closes the events file. On a full disk the atomic rewrite can fail: the manifest is then
   * overwritten in place (it fits the blocks it already has), so a failed run never keeps saying "running".
   */
  finish(status: Exclude<RunStatus, 'running'>, extra: { error?: { code: string; message: string }; memory?: Record<string, unknown> } = {}, now: () => Date = () => new Date()): void {
    this.stopHeartbeat();
    this.manifest = { ...this.manifest, status, finishedAt: now().toISOString(), ...(extra.error ? { error: extra.error } : {}), ...(extra.memory ? { memory: extra.memory } : {}) };
    const file = join(this.path, 'manifest.json');
    const text = `${JSON.stringify(this.manifest, jsonReplacer, 2)}\n`;
    try {
      try {
        writeFileAtomic(file, text);
      } catch (e) {
        if (!(e instanceof MmsaError)) throw e;
        overwriteInPlace(file, text);
      }
    } finally {
      this.close();
    }
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  close(): void {
    this.stopHeartbeat();
    openDirs.delete(this);
    if (this.eventsFd !== undefined) {
      try {
        fsyncSync(this.eventsFd);
      } catch {
        /* already closed by the OS, or the disk is full: the lines written so far stay */
      }
      closeSync(this.eventsFd);
      this.eventsFd = undefined;
    }
  }
}

function overwriteInPlace(path: string, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  withWriteErrors(path, { bytes: buf.byteLength }, () => {
    const fd = openSync(path, 'r+');
    try {
      let off = 0;
      while (off < buf.byteLength) off += writeSync(fd, buf, off, buf.byteLength - off, off);
      ftruncateSync(fd, buf.byteLength);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}

/**
 * Puts a fully written directory `tmp` in place of `path` (replacing an older one whole): readers see either the old
 * or the new directory, never a half-written one. A kill between the two renames leaves `path` missing with both
 * complete copies beside it (`<path>.old-<pid>`, `<path>.tmp-<pid>`): `recoverSwap` puts one back.
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

/**
 * After a kill inside `replaceDir`: when `path` is missing, moves the best complete copy left by a dead process back
 * (the new one, `.tmp-<pid>`, before the previous one, `.old-<pid>`) and removes the rest. `complete` decides what
 * counts as whole. Returns the name put back, if any. Leftovers of live processes are never touched.
 */
export function recoverSwap(path: string, complete: (dir: string) => boolean): string | undefined {
  const parent = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return undefined;
  }
  const mine = names.filter((n) => n.startsWith(`${base}.`) && /^\.(tmp|old)-\d+$/.test(n.slice(base.length)) && isStaleTemp(n));
  if (mine.length === 0) return undefined;
  let restored: string | undefined;
  if (!existsSync(path)) {
    const order = [...mine.filter((n) => n.includes('.tmp-')), ...mine.filter((n) => n.includes('.old-'))];
    restored = order.find((n) => complete(join(parent, n)));
    if (restored) renameSync(join(parent, restored), path);
  }
  for (const n of mine) if (n !== restored) rmSync(join(parent, n), { recursive: true, force: true });
  fsyncDir(parent);
  return restored;
}

export function csvCell(v: string | number | boolean): string {
  const s = typeof v === 'number' && !Number.isFinite(v) ? 'nan' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The summary of a spec over its seeds: JSON, and MMSA's normal-mode CSV row (`Model`, then one "(mean, std)" cell per
 * key; x100 and numpy-rounded to 2 for MMSA's metric sets, whose headers then say "(x100)", else rounded to 4).
 */
export function writeSummary(
  paths: { json: string; csv: string },
  summary: { pipeline: string; specHash: string; seeds: number[]; results: SeedResult[]; aggregate: Record<string, AggregateCell> },
): void {
  ensureDir(dirname(paths.json), { what: 'the summary', elsewhere: 'write the runs elsewhere with --out DIR' });
  writeJsonAtomic(paths.json, summary, { what: 'the summary' });
  const keys = Object.keys(summary.aggregate);
  const cells = keys.map((k) => {
    const c = summary.aggregate[k]!.cell;
    return csvCell(`(${pyFloat(c[0])}, ${pyFloat(c[1])})`);
  });
  const head = keys.map((k) => csvCell((summary.aggregate[k]!.scale ?? 100) === 100 ? `${k} (x100)` : k));
  writeFileAtomic(paths.csv, `${['Model', ...head].join(',')}\n${[csvCell(summary.pipeline), ...cells].join(',')}\n`);
}

/** Results of every completed seed run of one spec hash under `runs/<pipeline>/`, in seed order. */
export function completedSeedResults(outRoot: string, pipeline: string, hash: string): SeedResult[] {
  const dir = join(outRoot, safeSegment(pipeline));
  const out: SeedResult[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  const re = new RegExp(`^${hash}-(\\d+)$`);
  for (const n of names) {
    if (!re.test(n)) continue;
    const done = findCompletedRun(join(dir, n));
    if (done) out.push(done.results);
  }
  return out.sort((a, b) => a.seed - b.seed);
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
