// Hugging Face model resolution: a local directory, the HF cache layout (HF_HOME / HF_HUB_CACHE,
// hub/models--{org}--{name}/snapshots/{commit}) or a download from the hub (HF_ENDPOINT) into that cache with
// progress, HTTP Range resume of `.incomplete` blobs and atomic renames. Phases 6-8 (loading pretrained models).
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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
  /** Bearer token for private and gated models; default $HF_TOKEN, else the token file ($HF_TOKEN_PATH, $HF_HOME/token). */
  token?: string;
  /** Deadline for the metadata request (default $HF_HUB_ETAG_TIMEOUT seconds, else 10 s). */
  etagTimeoutMs?: number;
  /** A transfer that sends nothing for this long is cut and resumed (default $HF_HUB_DOWNLOAD_TIMEOUT s, else 10 s). */
  downloadTimeoutMs?: number;

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
  const rev = checkRevision(opts.revision ?? 'main');
  const snaps = path.join(repo, 'snapshots');
  if (!existsSync(snaps)) return undefined;
  const ref = path.join(repo, 'refs', rev);
  let commit: string | undefined;
  if (existsSync(ref)) {
    commit = readFileSync(ref, 'utf8').trim();
    // The ref file names a snapshot folder: one plain name, whatever wrote the cache.
    if (!/^[\w.-]+$/.test(commit) || commit === '.' || commit === '..') {
      throw new MmsaError('MSA6820', `${ref} holds ${shown(commit)}, not a commit hash`, { hint: `delete ${ref} and download again`, details: { ref } });
    }
  }
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
      ? 'the model is gated or private: set HF_TOKEN (or log in so that $HF_HOME/token exists), or download it yourself and give the directory'
      : status === 404
        ? 'check the model id and revision (and HF_ENDPOINT)'
        : 'retry later, or download the files yourself and give the directory';
  return new MmsaError('MSA6802', `downloading ${file} of '${id}' from ${url} failed: HTTP ${status}${text ? ` ${text}` : ''}`, { hint, details: { id, file, url, status } });
}

/** Printable, short: names from the network end up in messages. */
function shown(s: string): string {
  const t = JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);
  return t.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** MSA6820: a value from the hub (or the user) that must never become a path unchecked. */
function unusableName(id: string, what: string, value: string, url: string): MmsaError {
  return new MmsaError('MSA6820', `the hub sent ${what} ${shown(value)} for '${id}' (${url}); it is not a valid name and was not used`, {
    hint: 'a Hugging Face hub sends 40-hex commit hashes and sha1/sha256 ETags; check HF_ENDPOINT (a mirror or proxy may be broken or hostile)',
    details: { id, url, what, value: value.slice(0, 200) },
  });
}

/** Git commit hashes as the hub sends them in X-Repo-Commit: the only snapshot folder names written. */
export const COMMIT_HASH = /^[0-9a-f]{40}$/;
/** Blob names: the sha1 ETag of a regular file or the sha256 ETag of an LFS file. */
const ETAG = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * A revision (branch, tag or commit) from a spec or the caller: becomes refs/<revision> in the cache, so it must be
 * a relative path of plain segments (refs/pr/1 is fine, `..` and absolute paths are not).
 */
export function checkRevision(rev: string): string {
  const segs = rev.split('/');
  if (rev.length === 0 || rev.length > 255 || !/^[A-Za-z0-9._/-]+$/.test(rev) || segs.some((x) => x === '' || x === '.' || x === '..')) {
    throw new MmsaError('MSA6820', `revision ${shown(rev)} is not a branch, tag or commit name`, {
      hint: "use a branch or tag (e.g. 'main', 'v1.0') or a 40-hex commit hash",
      details: { revision: rev },
    });
  }
  return rev;
}

function stripEtag(e: string | null): string | undefined {
  if (e === null) return undefined;
  return e.replace(/^W\//, '').replace(/"/g, '').trim();
}

/** Throws unless `p` resolves inside `root`, also through symlinks of existing ancestors (never write outside). */
function assertInside(root: string, p: string): void {
  const r = path.resolve(root);
  const q = path.resolve(p);
  const rel = path.relative(r, q);
  let real = true;
  try {
    // The nearest existing ancestor, resolved: a planted symlink inside the cache must not lead out of it.
    let a = q;
    while (!existsSync(a) && path.dirname(a) !== a) a = path.dirname(a);
    const ra = realpathSync(a);
    const rr = realpathSync(r);
    real = ra === rr || ra.startsWith(rr + path.sep);
  } catch {
    /* root missing: the lexical check decides */
  }
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel) || !real) {
    throw new MmsaError('MSA6820', `refusing to write ${q}: it is outside the model cache ${r}`, {
      hint: 'the cache folder holds a symlink or name leading out of it; remove that folder and download again',
      details: { path: q, cache: r },
    });
  }
}

/** Hugging Face's own order: the option, HF_TOKEN, then the token file written by `hf auth login`. */
export function hubToken(opts: Pick<HubOptions, 'token' | 'env' | 'cacheDir'> = {}): string | undefined {
  if (opts.token) return opts.token;
  const env = opts.env ?? process.env;
  if (env.HF_TOKEN) return env.HF_TOKEN.trim();
  const home = env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'huggingface');
  const file = env.HF_TOKEN_PATH || path.join(home, 'token');
  try {
    const t = readFileSync(file, 'utf8').trim();
    return t.length > 0 ? t : undefined;
  } catch {
    return undefined;
  }
}

function timeoutMs(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n * 1000 : fallback;
}

interface HeadInfo {
  status: number;
  commit: string | undefined;
  etag: string | undefined;
  /** True when the ETag is the LFS sha256 of the content (X-Linked-Etag). */
  lfs: boolean;
  size: number | undefined;
  contentType: string;
  /** Where the bytes come from (the CDN location of LFS files, else the resolve URL). */
  location: string;
}

interface Transport {
  fetch: typeof fetch;
  /** Origin of the hub: the only one that gets the token. */
  origin: string;
  token: string | undefined;
  etagTimeout: number;
  downloadTimeout: number;
}

/** Headers for a request to `url`: the token only for the hub's own origin (dropped on cross-host redirects). */
function headersFor(t: Transport, url: string, extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { 'User-Agent': 'mmsa (TypeScript port of MMSA)', 'Accept-Encoding': 'identity', ...extra };
  if (t.token && new URL(url).origin === t.origin) h.Authorization = `Bearer ${t.token}`;
  return h;
}

/** fetch with a deadline for the answer (headers); the body has its own stall timer. */
async function fetchWithin(t: Transport, url: string, init: RequestInit, ms: number): Promise<Response> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`no answer within ${ms / 1000} s`)), ms);
  try {
    return await t.fetch(url, { ...init, signal: ac.signal });
  } finally {
    clearTimeout(timer);
  }
}

/** HEAD with relative redirects followed (hub renames) and absolute ones recorded (LFS -> CDN), as huggingface_hub. */
async function headFile(url: string, t: Transport): Promise<HeadInfo> {
  let u = url;
  for (let hop = 0; hop < 5; hop++) {
    const r = await fetchWithin(t, u, { method: 'HEAD', redirect: 'manual', headers: headersFor(t, u) }, t.etagTimeout);
    const loc = r.headers.get('location');
    const isRedirect = r.status >= 300 && r.status < 400 && loc !== null;
    if (isRedirect && !/^https?:\/\//i.test(loc)) {
      u = new URL(loc, u).toString();
      continue;
    }
    const linked = r.headers.get('x-linked-etag');
    const sizeHeader = r.headers.get('x-linked-size') ?? (isRedirect ? null : r.headers.get('content-length'));
    return {
      status: r.status,
      commit: r.headers.get('x-repo-commit') ?? undefined,
      etag: stripEtag(linked ?? r.headers.get('etag')),
      lfs: linked !== null,
      size: sizeHeader !== null && /^\d+$/.test(sizeHeader) ? Number(sizeHeader) : undefined,
      contentType: r.headers.get('content-type') ?? '',
      location: isRedirect ? new URL(loc).toString() : u,
    };
  }
  throw new MmsaError('MSA6802', `too many redirects for ${url}`, { details: { url } });
}

/** GET following redirects by hand, so the token never reaches another host. */
async function getFollowing(t: Transport, url: string, extra: Record<string, string>): Promise<Response> {
  let u = url;
  for (let hop = 0; hop < 5; hop++) {
    const r = await fetchWithin(t, u, { redirect: 'manual', headers: headersFor(t, u, extra) }, t.downloadTimeout);
    const loc = r.headers.get('location');
    if (r.status >= 300 && r.status < 400 && loc !== null) {
      await r.body?.cancel();
      u = new URL(loc, u).toString();
      continue;
    }
    return r;
  }
  throw new Error(`too many redirects from ${url}`);
}

/** An HTML page where a model file was expected: an error page of the hub, a proxy or a captive portal. */
function isHtml(contentType: string): boolean {
  return /^\s*text\/html\b/i.test(contentType);
}

function linkOrCopy(repo: string, blob: string, dest: string): void {
  assertInside(repo, dest);
  assertInside(repo, blob);
  mkdirSync(path.dirname(dest), { recursive: true });
  assertInside(repo, dest);
  rmSync(dest, { force: true });
  try {
    symlinkSync(path.relative(path.dirname(dest), blob), dest);
  } catch {
    copyFileSync(blob, dest);
  }
}

class ContentMismatch extends Error {}

async function sha256OfFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** What a finished transfer must be before it may enter the cache: size, sha256 (LFS) and, for .json, JSON. */
async function verifyContent(file: string, part: string, head: HeadInfo): Promise<void> {
  const size = statSync(part).size;
  if (head.size !== undefined && size !== head.size) throw new ContentMismatch(`${size} bytes, the hub announced ${head.size}`);
  if (head.lfs && head.etag && head.etag.length === 64) {
    const sum = await sha256OfFile(part);
    if (sum !== head.etag) throw new ContentMismatch(`sha256 ${sum} does not match the hub's ETag ${head.etag}`);
  }
  if (file.endsWith('.json')) {
    try {
      JSON.parse(readFileSync(part, 'utf8'));
    } catch (e) {
      throw new ContentMismatch(`not JSON (${(e as Error).message})`);
    }
  }
}

/**
 * Streams `head.location` into `blob` via `blob.incomplete`, resuming from what is there (HTTP Range), with a stall
 * timeout per read and retries; the content is verified before the rename, so the cache never holds a wrong file.
 */
async function fetchBlob(id: string, file: string, head: HeadInfo, blob: string, t: Transport, opts: HubOptions): Promise<void> {
  const part = `${blob}.incomplete`;
  const attempts = Math.max(1, (opts.retries ?? 3) + 1);
  let lastError: unknown;
  let mismatches = 0;
  for (let attempt = 0; attempt < attempts; attempt++) {
    lastError = undefined;
    const have = existsSync(part) ? statSync(part).size : 0;
    if (!(head.size !== undefined && have === head.size && have > 0)) {
      try {
        await transfer(id, file, head, part, have, t, opts);
      } catch (e) {
        if (e instanceof MmsaError) throw e;
        lastError = e;
        continue;
      }
    }
    try {
      await verifyContent(file, part, head);
      break;
    } catch (e) {
      // Wrong bytes are never kept: the next attempt starts from byte 0.
      rmSync(part, { force: true });
      lastError = e;
      mismatches += 1;
    }
  }
  if (lastError !== undefined || !existsSync(part)) {
    const msg = lastError instanceof Error ? lastError.message : String(lastError ?? 'no data');
    if (lastError instanceof ContentMismatch) {
      throw new MmsaError('MSA6821', `downloaded ${file} of '${id}' from ${head.location} does not match what the hub announced: ${msg} (${mismatches} attempt(s)); nothing was cached`, {
        hint: 'retry later; if it persists the hub, mirror (HF_ENDPOINT) or a proxy serves wrong content',
        details: { id, file, url: head.location },
      });
    }
    throw new MmsaError('MSA6802', `downloading ${file} of '${id}' failed after ${attempts} attempt(s): ${msg}`, {
      hint: 'run again to resume from the partial file (kept as .incomplete in the cache), or check the network / HF_ENDPOINT (HF_HUB_DOWNLOAD_TIMEOUT sets the stall timeout in seconds)',
      details: { id, file, partial: part },
      cause: lastError,
    });
  }
  renameSync(part, blob);
  const size = statSync(blob).size;
  opts.onProgress?.({ file, loaded: size, total: size, resumedFrom: 0, done: true });
}

/** One GET into `part` from byte `have`. Throws MmsaError for answers a retry cannot fix. */
async function transfer(id: string, file: string, head: HeadInfo, part: string, have: number, t: Transport, opts: HubOptions): Promise<void> {
  const resp = await getFollowing(t, head.location, have > 0 ? { Range: `bytes=${have}-` } : {});
  if (resp.status === 416 && have > 0) {
    // Nothing past what we hold: the partial file is whole (verified next) or garbage (verification drops it).
    await resp.body?.cancel();
    return;
  }
  if (resp.status !== 200 && resp.status !== 206) {
    await resp.body?.cancel();
    throw httpError(id, file, head.location, resp.status, resp.statusText);
  }
  if (isHtml(resp.headers.get('content-type') ?? '')) {
    await resp.body?.cancel();
    throw new MmsaError('MSA6821', `the hub answered ${file} with an HTML page (content-type ${resp.headers.get('content-type')}), not the file; nothing was cached`, {
      hint: 'an error page of the hub, a proxy or a captive portal: check HF_ENDPOINT and the network, then retry',
      details: { file, url: head.location },
    });
  }
  const append = resp.status === 206 && have > 0;
  if (resp.status === 206) {
    const cr = resp.headers.get('content-range');
    const m = cr ? /^bytes (\d+)-/.exec(cr) : null;
    if (!m || Number(m[1]) !== have) {
      // A range we did not ask for: start over.
      await resp.body?.cancel();
      rmSync(part, { force: true });
      throw new Error(`unexpected Content-Range ${cr}`);
    }
  }
  const total =
    head.size ??
    (() => {
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
  if (!resp.body) throw new Error('empty response body');
  const reader = resp.body.getReader();
  try {
    for (;;) {
      // A body that stops sending is cut after the download timeout; the retry resumes with Range.
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no data for ${t.downloadTimeout / 1000} s (stalled transfer)`)), t.downloadTimeout);
      });
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await Promise.race([reader.read(), stalled]);
      } finally {
        clearTimeout(timer);
      }
      if (chunk.done) break;
      if (head.size !== undefined && loaded + chunk.value.length > head.size) throw new Error(`more bytes than the announced ${head.size}`);
      if (!out.write(chunk.value)) await new Promise<void>((r) => out.once('drain', () => r()));
      loaded += chunk.value.length;
      opts.onProgress?.({ file, loaded, total, resumedFrom: start, done: false });
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    out.end();
    await closed.catch(() => undefined);
    throw e;
  }
  out.end();
  await closed;
  if (total !== undefined && loaded !== total) throw new Error(`got ${loaded} of ${total} bytes`);
}

/**
 * Downloads the files of a hub model into the HF cache layout (blobs/<etag>, snapshots/<commit>/<file> symlinks,
 * refs/<revision>) and returns the snapshot directory. Files already cached are not fetched again. For each group the
 * first alternative the hub has is fetched (404s are remembered under .no_exist/<commit>/ like huggingface_hub).
 * Every name from the network (commit, ETag) is checked before it becomes a path, and nothing is written outside the
 * model's cache folder.
 */
export async function downloadModel(id: string, groups: FileGroups = MODEL_FILES, opts: HubOptions = {}): Promise<ResolvedModel> {
  if (!isModelId(id)) throw new MmsaError('MSA6801', `'${id}' is not a Hugging Face model id (org/name)`, { details: { id } });
  const env = opts.env ?? process.env;
  const endpoint = (opts.endpoint ?? env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const rev = checkRevision(opts.revision ?? 'main');
  const repo = path.join(hubCacheDir(opts), repoFolder(id));
  const t: Transport = {
    fetch: opts.fetch ?? fetch,
    origin: new URL(endpoint).origin,
    token: hubToken(opts),
    etagTimeout: opts.etagTimeoutMs ?? timeoutMs(env.HF_HUB_ETAG_TIMEOUT, 10_000),
    downloadTimeout: opts.downloadTimeoutMs ?? timeoutMs(env.HF_HUB_DOWNLOAD_TIMEOUT, 10_000),
  };
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
        head = await headFile(url, t);
      } catch (e) {
        if (e instanceof MmsaError) throw e;
        throw new MmsaError('MSA6802', `cannot reach ${endpoint} for '${id}': ${(e as Error).message}`, {
          hint: 'check the network or HF_ENDPOINT (HF_HUB_ETAG_TIMEOUT sets the timeout in seconds); offline, give a local directory or a filled HF_HOME cache',
          details: { id, url },
          cause: e,
        });
      }
      if (head.commit !== undefined && !COMMIT_HASH.test(head.commit)) throw unusableName(id, 'the commit (X-Repo-Commit)', head.commit, url);
      if (head.status === 404) {
        if (head.commit) {
          commit = commit ?? head.commit;
          const marker = path.join(repo, '.no_exist', head.commit, file);
          assertInside(repo, marker);
          mkdirSync(path.dirname(marker), { recursive: true });
          writeFileSync(marker, '');
        }
        continue;
      }
      if (head.status >= 400) throw httpError(id, file, url, head.status, '');
      if (head.status >= 300 && head.location === url) throw httpError(id, file, url, head.status, 'redirect without a location');
      if (isHtml(head.contentType) && !head.lfs) {
        throw new MmsaError('MSA6821', `the hub answered ${file} of '${id}' with an HTML page (content-type ${head.contentType}), not the file; nothing was cached`, {
          hint: 'an error page of the hub, a proxy or a captive portal: check HF_ENDPOINT and the network, then retry',
          details: { id, file, url },
        });
      }
      if (head.commit === undefined) {
        throw new MmsaError('MSA6820', `${url} answered without X-Repo-Commit: not a Hugging Face hub`, {
          hint: 'check HF_ENDPOINT (a mirror must pass the hub\'s headers through), the proxy settings, or give a local model directory',
          details: { id, url },
        });
      }
      if (commit !== undefined && head.commit !== commit) {
        throw new MmsaError('MSA6820', `the hub moved '${id}' (revision ${rev}) from commit ${commit} to ${head.commit} during the download`, {
          hint: `retry, or pin the revision to a commit (revision: ${commit})`,
          details: { id, commits: [commit, head.commit] },
        });
      }
      if (COMMIT_HASH.test(rev) && head.commit !== rev) throw unusableName(id, `commit ${head.commit} for the pinned revision ${rev}: the commit (X-Repo-Commit)`, head.commit, url);
      commit = head.commit;
      if (head.etag === undefined || !ETAG.test(head.etag)) throw unusableName(id, `the ETag of ${file}`, head.etag ?? '(none)', url);
      if (head.lfs && head.etag.length !== 64) throw unusableName(id, `the LFS ETag (X-Linked-Etag, a sha256) of ${file}`, head.etag, url);
      const blob = path.join(repo, 'blobs', head.etag);
      assertInside(repo, blob);
      mkdirSync(path.dirname(blob), { recursive: true });
      if (!existsSync(blob)) await fetchBlob(id, file, head, blob, t, opts);
      else opts.onProgress?.({ file, loaded: statSync(blob).size, total: statSync(blob).size, resumedFrom: 0, done: true });
      linkOrCopy(repo, blob, path.join(repo, 'snapshots', commit, file));
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
    const ref = path.join(repo, 'refs', rev);
    assertInside(repo, ref);
    mkdirSync(path.dirname(ref), { recursive: true });
    writeFileSync(ref, snapCommit);
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
