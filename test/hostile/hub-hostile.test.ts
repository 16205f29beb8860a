// A hostile or broken model hub as a real local HTTP server (HF_ENDPOINT on 127.0.0.1, its "CDN" on 127.0.0.2):
// names from the network that would lead out of the cache, wrong bytes, HTML error pages, a token that must not follow
// a redirect to another host, stalled bodies, HF_TOKEN, a `revision:` pin through `mmsa run` into the lock file.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MmsaError } from '../../src/errors.js';
import { cachedSnapshot, downloadModel, hubToken, resolveModelDirSync } from '../../src/runtime/hub/index.js';
import { writeSafetensors } from '../../src/runtime/weights/safetensors.js';
import { randomWeights, tinyBertSpec, TINY_RUN_CONFIG } from '../runtime/bert/helpers.js';
import { listTree, mmsa, STACK_LINE, tmp } from './runs-helpers.js';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const COMMIT_V1 = 'fedcba9876543210fedcba9876543210fedcba98';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'bad'];
const CONFIG = TINY_RUN_CONFIG;
const files = new Map<string, Buffer>([
  ['config.json', Buffer.from(JSON.stringify(CONFIG))],
  ['model.safetensors', Buffer.from(writeSafetensors(randomWeights(5, CONFIG)))],
  ['vocab.txt', Buffer.from(`${VOCAB.join('\n')}\n`)],
]);

/** How the hub misbehaves in the current test (reset after each). */
interface Mode {
  commit?: string;
  lfsEtag?: string;
  /** Regular-file ETag override. */
  etag?: string;
  corrupt?: boolean;
  /** GET of this file answers 200 with an HTML page. */
  htmlGet?: string;
  /** HEAD and GET of this file answer 200 with an HTML page and no hub headers. */
  htmlAll?: string;
  /** The CDN sends part of the body, then nothing: once, or on every request. */
  stall?: 'once' | 'always';
  /** Where LFS files are redirected: another host (127.0.0.2) or the hub itself. */
  cdn?: 'other' | 'same';
  /** Every hub request needs this bearer token. */
  token?: string;
}
let mode: Mode = {};
let stalls = 0;
const requests: { host: string; method: string; url: string; auth?: string; range?: string }[] = [];
let hub: http.Server;
let cdn: http.Server;
let endpoint: string;
let cdnBase: string;
const sockets = new Set<import('node:net').Socket>();

function handle(req: http.IncomingMessage, res: http.ServerResponse, isCdn: boolean): void {
  const url = req.url ?? '';
  requests.push({ host: isCdn ? 'cdn' : 'hub', method: req.method ?? '', url, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}), ...(req.headers.range ? { range: String(req.headers.range) } : {}) });
  if (isCdn || url.startsWith('/cdn/')) {
    const body = files.get('model.safetensors')!;
    const sent = mode.corrupt ? Buffer.concat([body.subarray(0, 100), Buffer.from([body[100]! ^ 0xff]), body.subarray(101)]) : body;
    const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    const start = range ? Number(range[1]) : 0;
    const headers: Record<string, string | number> = { 'Content-Type': 'application/octet-stream', 'Content-Length': sent.length - start };
    if (range) headers['Content-Range'] = `bytes ${start}-${sent.length - 1}/${sent.length}`;
    res.writeHead(range ? 206 : 200, headers);
    if (mode.stall === 'always' || (mode.stall === 'once' && stalls === 0)) {
      stalls += 1;
      res.write(sent.subarray(start, start + 500)); // then silence, connection open
      return;
    }
    res.end(sent.subarray(start));
    return;
  }
  if (mode.token && req.headers.authorization !== `Bearer ${mode.token}`) {
    res.writeHead(401, { 'X-Error-Code': 'GatedRepo' }).end('unauthorized');
    return;
  }
  const m = /^\/org\/tiny\/resolve\/([^/]+)\/(.+)$/.exec(url);
  if (!m) {
    res.writeHead(404).end();
    return;
  }
  const rev = decodeURIComponent(m[1]!);
  const file = m[2]!;
  const commit = mode.commit ?? (rev === 'v1' ? COMMIT_V1 : COMMIT);
  if (mode.htmlAll === file) {
    const page = '<!doctype html><title>Bad gateway</title><h1>502</h1>';
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': page.length }).end(req.method === 'HEAD' ? undefined : page);
    return;
  }
  const body = files.get(file);
  if (!body) {
    res.writeHead(404, { 'X-Repo-Commit': commit, 'X-Error-Code': 'EntryNotFound' }).end('not found');
    return;
  }
  if (file === 'model.safetensors') {
    // Absolute, as the hub's LFS redirects are (relative ones are renames, followed by the HEAD itself).
    const location = mode.cdn === 'same' ? `${endpoint}/cdn/${sha256(body)}` : `${cdnBase}/blob/${sha256(body)}`;
    res.writeHead(302, { Location: location, 'X-Repo-Commit': commit, 'X-Linked-Etag': `"${mode.lfsEtag ?? sha256(body)}"`, 'X-Linked-Size': String(body.length) }).end();
    return;
  }
  if (mode.htmlGet === file && req.method === 'GET') {
    const page = '<!doctype html><title>Error</title>';
    res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': page.length, 'X-Repo-Commit': commit }).end(page);
    return;
  }
  res.writeHead(200, { 'Content-Type': file.endsWith('.json') ? 'application/json' : 'text/plain', 'Content-Length': body.length, 'X-Repo-Commit': commit, ETag: `"${mode.etag ?? sha1(body)}"` });
  res.end(req.method === 'HEAD' ? undefined : body);
}

beforeAll(async () => {
  hub = http.createServer((q, r) => handle(q, r, false));
  cdn = http.createServer((q, r) => handle(q, r, true));
  for (const s of [hub, cdn]) s.on('connection', (c) => (sockets.add(c), c.on('close', () => sockets.delete(c))));
  await new Promise<void>((r) => hub.listen(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => cdn.listen(0, '127.0.0.2', () => r()));
  endpoint = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
  cdnBase = `http://127.0.0.2:${(cdn.address() as AddressInfo).port}`;
});
afterEach(() => {
  mode = {};
  stalls = 0;
  requests.length = 0;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all([hub, cdn].map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** A cache root, and beside it a directory with files the attack went after. */
function setup(): { base: string; cache: string; victim: string } {
  const base = tmp('mmsa-hostile-hub-');
  const victim = path.join(base, 'victim');
  mkdirSync(victim);
  for (const f of ['config.json', 'model.safetensors', 'vocab.txt']) writeFileSync(path.join(victim, f), `precious ${f}`);
  return { base, cache: path.join(base, 'hf', 'hub'), victim };
}

function victimIntact(victim: string): void {
  for (const f of ['config.json', 'model.safetensors', 'vocab.txt']) {
    expect(lstatSync(path.join(victim, f)).isSymbolicLink()).toBe(false);
    expect(readFileSync(path.join(victim, f), 'utf8')).toBe(`precious ${f}`);
  }
}

const download = (cache: string, o: Parameters<typeof downloadModel>[2] = {}) =>
  downloadModel('org/tiny', undefined, { cacheDir: cache, endpoint, env: {}, retries: 1, downloadTimeoutMs: 400, ...o });

describe('names from the network never become paths unchecked', () => {
  it.each([
    ['X-Repo-Commit with ../ (the reported attack)', { commit: '../../../victim' }, /the hub sent the commit \(X-Repo-Commit\) "..\/..\/..\/victim"/],
    ['X-Repo-Commit that is an absolute path', { commit: '/tmp/x' }, /the commit \(X-Repo-Commit\) "\/tmp\/x"/],
    ['X-Repo-Commit with a terminal control sequence (8-bit CSI)', { commit: '\u009b2Jabc' }, /the commit \(X-Repo-Commit\) "\?2Jabc"/],
    ['an ETag with ../', { etag: '../../../victim/config.json' }, /the ETag of config\.json "..\/..\/..\/victim\/config\.json"/],
    ['an LFS ETag that is not a sha256', { lfsEtag: '../../victim/model.safetensors' }, /ETag of model\.safetensors "..\/..\/victim\/model\.safetensors"/],
  ])('%s: MSA6820, nothing outside the cache touched', async (_name, m, message) => {
    const { base, cache, victim } = setup();
    mode = m;
    const err = await download(cache).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MmsaError);
    expect((err as MmsaError).code).toBe('MSA6820');
    expect((err as MmsaError).message).toMatch(message);
    expect((err as MmsaError).message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    victimIntact(victim);
    // Nothing but the cache and the victim under the base directory.
    expect(readdirSync(base).filter((n) => n !== 'hf')).toEqual(['victim']);
    if (existsSync(cache)) expect(listTree(cache).every((p) => p.startsWith('models--org--tiny'))).toBe(true);
  });

  it('a symlink planted in the cache that leads outside is not followed for writing', async () => {
    const { cache, victim } = setup();
    const repo = path.join(cache, 'models--org--tiny');
    mkdirSync(path.join(repo, 'snapshots'), { recursive: true });
    const { symlinkSync } = await import('node:fs');
    symlinkSync(victim, path.join(repo, 'snapshots', COMMIT));
    await expect(download(cache)).rejects.toMatchObject({ code: 'MSA6820', message: expect.stringMatching(/outside the model cache/) });
    victimIntact(victim);
  });

  it('a refs file with a path in it is refused offline too', () => {
    const { cache } = setup();
    const repo = path.join(cache, 'models--org--tiny');
    mkdirSync(path.join(repo, 'refs'), { recursive: true });
    mkdirSync(path.join(repo, 'snapshots', COMMIT), { recursive: true });
    writeFileSync(path.join(repo, 'refs', 'main'), '../../../victim');
    expect(() => cachedSnapshot('org/tiny', { cacheDir: cache })).toThrow(/MSA6820|not a commit hash/);
    expect(() => resolveModelDirSync('org/tiny', undefined, { cacheDir: cache, revision: '../x' })).toThrow(/revision "..\/x" is not a branch, tag or commit name/);
  });

  it('the reported attack through `mmsa run`: fails with MSA6820, the other directory keeps its files', async () => {
    const { base, victim } = setup();
    mode = { commit: '../../../../victim' };
    const spec = writeBertSpec(base, '');
    const r = await withEnv({ HF_HOME: path.join(base, 'hf'), HF_ENDPOINT: endpoint }, () => mmsa(['run', spec, '--out', path.join(base, 'runs'), '--reporter', 'plain'], base));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error MSA6820: the hub sent the commit \(X-Repo-Commit\) "..\/..\/..\/..\/victim" for 'org\/tiny'/);
    expect(r.err).not.toMatch(STACK_LINE);
    victimIntact(victim);
  });
});

describe('content is verified before it enters the cache', () => {
  it('an LFS file whose bytes do not match the sha256 ETag: retried from byte 0, then MSA6821; nothing cached', async () => {
    const { cache } = setup();
    mode = { corrupt: true };
    const err = (await download(cache, { retries: 2 }).catch((e: unknown) => e)) as MmsaError;
    expect(err.code).toBe('MSA6821');
    expect(err.message).toMatch(/downloaded model\.safetensors of 'org\/tiny' from .* does not match what the hub announced: sha256 [0-9a-f]{64} does not match the hub's ETag [0-9a-f]{64} \(3 attempt\(s\)\); nothing was cached/);
    expect(requests.filter((q) => q.host === 'cdn' && q.method === 'GET')).toHaveLength(3);
    const blobs = path.join(cache, 'models--org--tiny', 'blobs');
    expect(readdirSync(blobs).filter((f) => f.startsWith(sha256(files.get('model.safetensors')!)))).toEqual([]);
    expect(existsSync(path.join(cache, 'models--org--tiny', 'snapshots', COMMIT, 'model.safetensors'))).toBe(false);
  });

  it('an HTML error page answered for config.json is never cached; the next call downloads the real file', async () => {
    const { cache } = setup();
    mode = { htmlGet: 'config.json' };
    await expect(download(cache)).rejects.toMatchObject({ code: 'MSA6821', message: expect.stringMatching(/answered config\.json with an HTML page \(content-type text\/html\)/) });
    expect(readdirSync(path.join(cache, 'models--org--tiny', 'blobs'))).toEqual([]);
    mode = {};
    const r = await download(cache);
    expect(JSON.parse(readFileSync(path.join(r.dir, 'config.json'), 'utf8'))).toEqual(CONFIG);
  });

  it('a proxy page without the hub\'s headers: MSA6821 (HTML) and never a cache entry', async () => {
    const { cache } = setup();
    mode = { htmlAll: 'config.json' };
    await expect(download(cache)).rejects.toMatchObject({ code: 'MSA6821', message: expect.stringMatching(/HTML page/) });
    expect(existsSync(path.join(cache, 'models--org--tiny', 'snapshots'))).toBe(false);
  });
});

describe('credentials', () => {
  it('HF_TOKEN is sent to the hub and dropped on the redirect to another host', async () => {
    const { cache } = setup();
    mode = { token: 'hf_secret', cdn: 'other' };
    await expect(download(cache)).rejects.toMatchObject({ code: 'MSA6802', message: expect.stringMatching(/HTTP 401/), hint: expect.stringMatching(/HF_TOKEN/) });
    requests.length = 0;
    const r = await download(cache, { env: { HF_TOKEN: 'hf_secret' } });
    expect(r.commit).toBe(COMMIT);
    const hubReqs = requests.filter((q) => q.host === 'hub');
    const cdnReqs = requests.filter((q) => q.host === 'cdn');
    expect(hubReqs.length).toBeGreaterThan(0);
    expect(hubReqs.every((q) => q.auth === 'Bearer hf_secret')).toBe(true);
    expect(cdnReqs.length).toBeGreaterThan(0);
    expect(cdnReqs.every((q) => q.auth === undefined)).toBe(true);
  });

  it('a redirect on the hub\'s own host keeps the token; the token file is read when HF_TOKEN is unset', async () => {
    const { base, cache } = setup();
    mkdirSync(path.join(base, 'home'));
    writeFileSync(path.join(base, 'home', 'token'), 'hf_from_file\n');
    expect(hubToken({ env: { HF_HOME: path.join(base, 'home') } })).toBe('hf_from_file');
    expect(hubToken({ env: { HF_HOME: path.join(base, 'home'), HF_TOKEN: 'hf_env' } })).toBe('hf_env');
    mode = { token: 'hf_from_file', cdn: 'same' };
    await download(cache, { env: { HF_HOME: path.join(base, 'home') } });
    const cdnOnHub = requests.filter((q) => q.url.startsWith('/cdn/'));
    expect(cdnOnHub.length).toBeGreaterThan(0);
    expect(cdnOnHub.every((q) => q.auth === 'Bearer hf_from_file')).toBe(true);
  });
});

describe('stalled transfers', () => {
  it('time out and resume with Range on the retry', async () => {
    const { cache } = setup();
    mode = { stall: 'once' };
    const t0 = Date.now();
    const r = await download(cache, { retries: 2, downloadTimeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(10_000);
    const gets = requests.filter((q) => q.host === 'cdn' && q.method === 'GET');
    expect(gets.map((q) => q.range)).toEqual([undefined, 'bytes=500-']);
    expect(readFileSync(path.join(r.dir, 'model.safetensors')).equals(files.get('model.safetensors')!)).toBe(true);
  });

  it('that never recover end with MSA6802 in bounded time, the partial file kept for a later resume', async () => {
    const { cache } = setup();
    mode = { stall: 'always' };
    const t0 = Date.now();
    const err = (await download(cache, { retries: 1, downloadTimeoutMs: 300 }).catch((e: unknown) => e)) as MmsaError;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(err.code).toBe('MSA6802');
    expect(err.message).toMatch(/failed after 2 attempt\(s\): no data for 0\.3 s \(stalled transfer\)/);
    expect(existsSync(path.join(cache, 'models--org--tiny', 'blobs', `${sha256(files.get('model.safetensors')!)}.incomplete`))).toBe(true);
  });
});

/** The tiny BERT spec with `org/tiny` from the hub as its text encoder. */
function writeBertSpec(dir: string, revisionLine: string): string {
  const file = path.join(dir, 'bert.yaml');
  writeFileSync(file, tinyBertSpec(`pretrained: org/tiny, ${revisionLine}`));
  return file;
}

async function withEnv<T>(env: Record<string, string>, f: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await f();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('revision pin', () => {
  it('`revision:` in the spec downloads that revision, and spec.lock.json records the commit it resolved to', async () => {
    const base = tmp('mmsa-hostile-hub-');
    const spec = writeBertSpec(base, 'revision: v1, ');
    const out = path.join(base, 'runs');
    const r = await withEnv({ HF_HOME: path.join(base, 'hf'), HF_ENDPOINT: endpoint }, () => mmsa(['run', spec, '--out', out, '--reporter', 'plain', '--backend', 'wasm'], base));
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(requests.filter((q) => q.host === 'hub').every((q) => q.url.startsWith('/org/tiny/resolve/v1/'))).toBe(true);
    const repo = path.join(base, 'hf', 'hub', 'models--org--tiny');
    expect(readFileSync(path.join(repo, 'refs', 'v1'), 'utf8')).toBe(COMMIT_V1);
    const runDir = path.join(out, 'bert', readdirSync(path.join(out, 'bert')).find((d) => d.endsWith('-7'))!);
    const lock = JSON.parse(readFileSync(path.join(runDir, 'spec.lock.json'), 'utf8'));
    expect(lock.pretrained).toEqual({ 'encoders.text': { model: 'org/tiny', revision: 'v1', source: 'download', commit: COMMIT_V1 } });
    expect(lock.spec.encoders.text.revision).toBe('v1');
    // predict loads the recorded commit offline, even after refs/v1 moved on.
    writeFileSync(path.join(repo, 'refs', 'v1'), COMMIT);
    const p = await withEnv({ HF_HOME: path.join(base, 'hf'), HF_HUB_OFFLINE: '1' }, () => mmsa(['predict', runDir, '--backend', 'wasm'], base));
    expect(p.err).toBe('');
    expect(p.code).toBe(0);
  });

  it('`mmsa check` rejects a revision that is a path, at its place in the spec', async () => {
    const base = tmp('mmsa-hostile-hub-');
    const spec = writeBertSpec(base, 'revision: ../../etc, ');
    const r = await mmsa(['check', spec], base);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bert\.yaml:8:\d+ - error MSA2\d{3}: encoders\.text\.revision must match .*, got '\.\.\/\.\.\/etc'/);
  });
});
