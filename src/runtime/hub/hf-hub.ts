// Hugging Face model resolution: a local directory, the HF cache layout (HF_HOME / HF_HUB_CACHE,
// hub/models--{org}--{name}/snapshots/{commit}) or a download from the hub (HF_ENDPOINT) into that cache with
// progress, HTTP Range resume of `.incomplete` blobs and atomic renames. Phases 6-8 (loading pretrained models).
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MmsaError } from '../../errors.js';

export interface HubOptions {
  /** Cache root; default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Hub base URL; default $HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
  /** Branch, tag or commit (default 'main'). */
  revision?: string;
  /** Never touch the network (default: $HF_HUB_OFFLINE=1). */
  offline?: boolean;
  /** Bearer token for private models (only when given explicitly). */
  token?: string;
  /** Download progress per file. */
  onProgress?: (p: DownloadProgress) => void;
  /** Attempts per file when a transfer breaks off (each resumes with Range; default 3). */
  retries?: number;
  /** Replaceable for tests. */
  fetch?: typeof fetch;
  env?: NodeJS.ProcessEnv;
}

export interface DownloadProgress {
  file: string;
  /** Bytes on disk for this file so far (including resumed bytes). */
  loaded: number;
  total: number | undefined;
  /** Bytes that were already there when this transfer started (resume). */
  resumedFrom: number;
  done: boolean;
}

/** Which files a use of the model needs: every group must be satisfied by one of its alternatives. */
export type FileGroups = readonly (readonly string[])[];

export const MODEL_FILES: FileGroups = [['config.json'], ['model.safetensors', 'pytorch_model.bin']];
export const TOKENIZER_FILES: FileGroups = [['tokenizer.json', 'vocab.txt']];
/** Fetched when present, never required. */
export const OPTIONAL_FILES: readonly string[] = ['tokenizer_config.json', 'special_tokens_map.json'];

export interface ResolvedModel {
  dir: string;
  source: 'local' | 'cache' | 'download';
  /** Model id for hub models. */
  id?: string;
  commit?: string;
}

export function hubCacheDir(opts: Pick<HubOptions, 'cacheDir' | 'env'> = {}): string {
  const env = opts.env ?? process.env;
  if (opts.cacheDir) return opts.cacheDir;
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  const home = env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'huggingface');
  return path.join(home, 'hub');
}

const MODEL_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

export function isModelId(s: string): boolean {
  return MODEL_ID.test(s) && !s.includes('..') && !s.endsWith('.');
}

export function repoFolder(id: string): string {
  return `models--${id.replace('/', '--')}`;
}

function looksLikePath(s: string): boolean {
  return s.startsWith('.') || s.startsWith('/') || s.startsWith('~') || /^[A-Za-z]:[\\/]/.test(s) || s.includes('\\') || s.split('/').length > 2;
}

function expandHome(s: string): string {
  return s === '~' || s.startsWith('~/') ? path.join(os.homedir(), s.slice(1)) : s;
}

function satisfied(dir: string, groups: FileGroups): string[] {
  const missing: string[] = [];
  for (const g of groups) if (!g.some((f) => existsSync(path.join(dir, f)))) missing.push(g.join(' or '));
  return missing;
}

/** Snapshot directory of a cached model for a revision (refs/<rev> -> commit, or the commit itself), if present. */
export function cachedSnapshot(id: string, opts: Pick<HubOptions, 'cacheDir' | 'env' | 'revision'> = {}): { dir: string; commit: string } | undefined {
  const repo = path.join(hubCacheDir(opts), repoFolder(id));
  const rev = opts.revision ?? 'main';
  const snaps = path.join(repo, 'snapshots');
  if (!existsSync(snaps)) return undefined;
  const ref = path.join(repo, 'refs', rev);
  let commit: string | undefined;
  if (existsSync(ref)) commit = readFileSync(ref, 'utf8').trim();
  else if (existsSync(path.join(snaps, rev))) commit = rev;
  else {
    // A cache filled by other means may lack refs: take the newest snapshot.
    const all = readdirSync(snaps).filter((d) => statSync(path.join(snaps, d)).isDirectory());
    all.sort((a, b) => statSync(path.join(snaps, b)).mtimeMs - statSync(path.join(snaps, a)).mtimeMs);
    commit = all[0];
  }
  if (commit === undefined || !existsSync(path.join(snaps, commit))) return undefined;
  return { dir: path.join(snaps, commit), commit };
}

/**
 * Resolves a model directory without the network: an existing directory, or the HF cache snapshot of a model id.
 * Throws MSA6801 when neither holds the files (the message says how to download them).
 */
export function resolveModelDirSync(idOrPath: string, groups: FileGroups = MODEL_FILES, opts: HubOptions = {}): ResolvedModel {
  const p = expandHome(idOrPath);
  if (existsSync(p) && statSync(p).isDirectory()) {
    const missing = satisfied(p, groups);
    if (missing.length > 0) {
      throw new MmsaError('MSA6801', `model directory ${p} lacks ${missing.join(', ')}`, {
        hint: 'a Hugging Face model directory holds config.json, model.safetensors (or pytorch_model.bin) and vocab.txt / tokenizer.json',
        details: { dir: p, missing },
      });
    }
    return { dir: p, source: 'local' };
  }
  if (looksLikePath(idOrPath) || !isModelId(idOrPath)) {
    throw new MmsaError('MSA6801', `model directory ${p} does not exist`, {
      hint: 'give an existing directory with config.json and weights, or a Hugging Face model id such as bert-base-uncased',
      details: { dir: p },
    });
  }
  const snap = cachedSnapshot(idOrPath, opts);
  if (snap && satisfied(snap.dir, groups).length === 0) return { dir: snap.dir, source: 'cache', id: idOrPath, commit: snap.commit };
  const cache = path.join(hubCacheDir(opts), repoFolder(idOrPath));
  throw new MmsaError('MSA6801', `model '${idOrPath}' is not in the Hugging Face cache (${cache})${snap ? ` (snapshot ${snap.commit} lacks ${satisfied(snap.dir, groups).join(', ')})` : ''}`, {
    hint: 'download it first (loadBert downloads when online), point HF_HOME at a cache that holds it, or give a local directory',
    details: { id: idOrPath, cache },
  });
}

function httpError(id: string, file: string, url: string, status: number, text: string): MmsaError {
  const hint =
    status === 401 || status === 403
      ? 'the model is gated or private: pass a token, or download it yourself and give the directory'
      : status === 404
        ? 'check the model id and revision (and HF_ENDPOINT)'
        : 'retry later, or download the files yourself and give the directory';
  return new MmsaError('MSA6802', `downloading ${file} of '${id}' from ${url} failed: HTTP ${status}${text ? ` ${text}` : ''}`, { hint, details: { id, file, url, status } });
}

function cleanEtag(e: string | null): string | undefined {
  if (!e) return undefined;
  const s = e.replace(/^W\//, '').replace(/"/g, '').trim();
  return /^[\w.-]+$/.test(s) ? s : undefined;
}

interface HeadInfo {
  status: number;
  commit: string | undefined;
  etag: string | undefined;
  size: number | undefined;
  /** Where the bytes come from (the CDN location of LFS files, else the resolve URL). */
  location: string;
}

/** HEAD with relative redirects followed (hub renames) and absolute ones recorded (LFS -> CDN), as huggingface_hub. */
async function headFile(url: string, opts: HubOptions, headers: Record<string, string>): Promise<HeadInfo> {
  const f = opts.fetch ?? fetch;
  let u = url;
  for (let hop = 0; hop < 5; hop++) {
    const r = await f(u, { method: 'HEAD', redirect: 'manual', headers: { ...headers, 'Accept-Encoding': 'identity' } });
    const loc = r.headers.get('location');
    const isRedirect = r.status >= 300 && r.status < 400 && loc !== null;
    if (isRedirect && !/^https?:\/\//i.test(loc)) {
      u = new URL(loc, u).toString();
      continue;
    }
    const sizeHeader = r.headers.get('x-linked-size') ?? (isRedirect ? null : r.headers.get('content-length'));
    return {
      status: r.status,
      commit: r.headers.get('x-repo-commit') ?? undefined,
      etag: cleanEtag(r.headers.get('x-linked-etag') ?? r.headers.get('etag')),
      size: sizeHeader !== null && /^\d+$/.test(sizeHeader) ? Number(sizeHeader) : undefined,
      location: isRedirect ? loc : u,
    };
  }
  throw new MmsaError('MSA6802', `too many redirects for ${url}`, { details: { url } });
}

function linkOrCopy(blob: string, dest: string): void {
  rmSync(dest, { force: true });
  mkdirSync(path.dirname(dest), { recursive: true });
  try {
    symlinkSync(path.relative(path.dirname(dest), blob), dest);
  } catch {
    copyFileSync(blob, dest);
  }
}

/** Streams `location` into `blob` via `blob.incomplete`, resuming from what is there; renames when complete. */
async function fetchBlob(id: string, file: string, head: HeadInfo, blob: string, opts: HubOptions, headers: Record<string, string>): Promise<void> {
  const f = opts.fetch ?? fetch;
  const part = `${blob}.incomplete`;
  const attempts = Math.max(1, (opts.retries ?? 3) + 1);
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const have = existsSync(part) ? statSync(part).size : 0;
    if (head.size !== undefined && have === head.size && have > 0) break;
    const h: Record<string, string> = { ...headers, 'Accept-Encoding': 'identity' };
    if (have > 0) h.Range = `bytes=${have}-`;
    let resp: Response;
    try {
      resp = await f(head.location, { headers: h, redirect: 'follow' });
    } catch (e) {
      lastError = e;
      continue;
    }
    if (resp.status === 416 && have > 0) {
      // The server has nothing past what we hold: the partial file is the whole file (or garbage); check the size.
      if (head.size === undefined || head.size === have) break;
      rmSync(part, { force: true });
      continue;
    }
    if (resp.status !== 200 && resp.status !== 206) throw httpError(id, file, head.location, resp.status, resp.statusText);
    const append = resp.status === 206 && have > 0;
    if (resp.status === 206) {
      const cr = resp.headers.get('content-range');
      const m = cr ? /^bytes (\d+)-/.exec(cr) : null;
      if (!m || Number(m[1]) !== have) {
        // A range we did not ask for: start over.
        rmSync(part, { force: true });
        lastError = new Error(`unexpected Content-Range ${cr}`);
        continue;
      }
    }
    const total = head.size ?? (() => {
      const cl = resp.headers.get('content-length');
      return cl !== null ? Number(cl) + (append ? have : 0) : undefined;
    })();
    const start = append ? have : 0;
    let loaded = start;
    const out = createWriteStream(part, { flags: append ? 'a' : 'w' });
    const closed = new Promise<void>((resolve, reject) => {
      out.on('close', resolve);
      out.on('error', reject);
    });
    opts.onProgress?.({ file, loaded, total, resumedFrom: start, done: false });
    try {
      if (!resp.body) throw new Error('empty response body');
      const reader = resp.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!out.write(value)) await new Promise<void>((r) => out.once('drain', () => r()));
        loaded += value.length;
        opts.onProgress?.({ file, loaded, total, resumedFrom: start, done: false });
      }
      out.end();
      await closed;
    } catch (e) {
      out.end();
      await closed.catch(() => undefined);
      lastError = e;
      continue;
    }
    if (total !== undefined && loaded !== total) {
      lastError = new Error(`got ${loaded} of ${total} bytes`);
      continue;
    }
    lastError = undefined;
    break;
  }
  if (lastError !== undefined || !existsSync(part)) {
    const msg = lastError instanceof Error ? lastError.message : String(lastError ?? 'no data');
    throw new MmsaError('MSA6802', `downloading ${file} of '${id}' failed after ${attempts} attempt(s): ${msg}`, {
      hint: 'run again to resume from the partial file (kept as .incomplete in the cache), or check the network / HF_ENDPOINT',
      details: { id, file, partial: part },
      cause: lastError,
    });
  }
  const size = statSync(part).size;
  if (head.size !== undefined && size !== head.size) {
    throw new MmsaError('MSA6802', `downloading ${file} of '${id}': ${size} bytes on disk, the hub announced ${head.size}`, {
      hint: `delete ${part} and retry`,
      details: { id, file, partial: part },
    });
  }
  renameSync(part, blob);
  opts.onProgress?.({ file, loaded: size, total: size, resumedFrom: 0, done: true });
}

/**
 * Downloads the files of a hub model into the HF cache layout (blobs/<etag>, snapshots/<commit>/<file> symlinks,
 * refs/<revision>) and returns the snapshot directory. Files already cached are not fetched again. For each group the
 * first alternative the hub has is fetched (404s are remembered under .no_exist/<commit>/ like huggingface_hub).
 */
export async function downloadModel(id: string, groups: FileGroups = MODEL_FILES, opts: HubOptions = {}): Promise<ResolvedModel> {
  if (!isModelId(id)) throw new MmsaError('MSA6801', `'${id}' is not a Hugging Face model id (org/name)`, { details: { id } });
  const env = opts.env ?? process.env;
  const endpoint = (opts.endpoint ?? env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const rev = opts.revision ?? 'main';
  const repo = path.join(hubCacheDir(opts), repoFolder(id));
  const headers: Record<string, string> = { 'User-Agent': 'mmsa (TypeScript port of MMSA)' };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let commit: string | undefined;
  const wanted: { file: string; required: boolean; group?: readonly string[] }[] = [];
  for (const g of groups) wanted.push({ file: g[0]!, required: true, group: g });
  for (const f of OPTIONAL_FILES) wanted.push({ file: f, required: false });
  for (const w of wanted) {
    const alternatives = w.group ?? [w.file];
    let got = false;
    for (const file of alternatives) {
      const url = `${endpoint}/${id}/resolve/${encodeURIComponent(rev)}/${file}`;
      let head: HeadInfo;
      try {
        head = await headFile(url, opts, headers);
      } catch (e) {
        if (e instanceof MmsaError) throw e;
        throw new MmsaError('MSA6802', `cannot reach ${endpoint} for '${id}': ${(e as Error).message}`, {
          hint: 'check the network or HF_ENDPOINT; offline, give a local directory or a filled HF_HOME cache',
          details: { id, url },
          cause: e,
        });
      }
      if (head.status === 404) {
        if (head.commit) {
          commit = commit ?? head.commit;
          const marker = path.join(repo, '.no_exist', head.commit, file);
          mkdirSync(path.dirname(marker), { recursive: true });
          writeFileSync(marker, '');
        }
        continue;
      }
      if (head.status >= 400) throw httpError(id, file, url, head.status, '');
      commit = head.commit ?? commit ?? rev;
      const etag = head.etag ?? `nohash-${file}-${head.size ?? 'x'}`;
      const blob = path.join(repo, 'blobs', etag);
      mkdirSync(path.dirname(blob), { recursive: true });
      if (!existsSync(blob)) await fetchBlob(id, file, head, blob, opts, headers);
      else opts.onProgress?.({ file, loaded: statSync(blob).size, total: statSync(blob).size, resumedFrom: 0, done: true });
      linkOrCopy(blob, path.join(repo, 'snapshots', commit, file));
      got = true;
      break;
    }
    if (!got && w.required) {
      throw new MmsaError('MSA6802', `model '${id}' (revision ${rev}) on ${endpoint} has none of ${alternatives.join(', ')}`, {
        hint: 'check the model id; only BERT checkpoints with config.json and safetensors/pytorch_model.bin weights are supported',
        details: { id, files: alternatives },
      });
    }
  }
  const snapCommit = commit ?? rev;
  if (snapCommit !== rev) {
    mkdirSync(path.join(repo, 'refs'), { recursive: true });
    writeFileSync(path.join(repo, 'refs', rev), snapCommit);
  }
  return { dir: path.join(repo, 'snapshots', snapCommit), source: 'download', id, commit: snapCommit };
}

/** Local directory, then cache, then (unless offline) a download into the cache. */
export async function resolveModelDir(idOrPath: string, groups: FileGroups = MODEL_FILES, opts: HubOptions = {}): Promise<ResolvedModel> {
  try {
    return resolveModelDirSync(idOrPath, groups, opts);
  } catch (e) {
    const env = opts.env ?? process.env;
    const offline = opts.offline ?? (env.HF_HUB_OFFLINE === '1' || env.HF_HUB_OFFLINE === 'true');
    if (!(e instanceof MmsaError) || offline || !isModelId(idOrPath) || looksLikePath(idOrPath) || existsSync(expandHome(idOrPath))) throw e;
  }
  return downloadModel(idOrPath, groups, opts);
}
