// Hub download from a local HTTP server (127.0.0.1 only) into a temp HF cache: LFS-style redirect, an interrupted
// transfer resumed with Range, 404 fallbacks, cache layout, then cache-only resolution (offline, HF_HOME).
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmsaError } from '../../../src/errors.js';
import { loadBert, tokenize } from '../../../src/runtime/bert/load-bert.js';
import { downloadModel, resolveModelDirSync, type DownloadProgress } from '../../../src/runtime/hub/index.js';
import { writeSafetensors } from '../../../src/runtime/weights/safetensors.js';
import { randomWeights, TINY_CONFIG } from './helpers.js';

const COMMIT = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';
const files = new Map<string, Buffer>();
const requests: { method: string; url: string; range?: string }[] = [];
let server: http.Server;
let endpoint: string;
let tmp: string;
/** Weights GETs without Range are cut after this many bytes (once per `cutsLeft`). */
let cutsLeft = 0;

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mmsa-hub-'));
  files.set('config.json', Buffer.from(JSON.stringify(TINY_CONFIG)));
  files.set('model.safetensors', Buffer.from(writeSafetensors(randomWeights(3))));
  files.set('vocab.txt', Buffer.from(['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'hello'].join('\n')));
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    requests.push({ method: req.method ?? '', url, ...(req.headers.range ? { range: String(req.headers.range) } : {}) });
    const m = /^\/org\/tiny-bert\/resolve\/main\/(.+)$/.exec(url);
    if (m) {
      const body = files.get(m[1]!);
      if (!body) {
        res.writeHead(404, { 'X-Repo-Commit': COMMIT }).end('not found');
        return;
      }
      if (m[1] === 'model.safetensors') {
        // LFS: redirect to the "CDN" with the linked etag/size
        res.writeHead(302, { Location: `${endpoint}/cdn/${sha(body)}`, 'X-Repo-Commit': COMMIT, 'X-Linked-Etag': `"${sha(body)}"`, 'X-Linked-Size': String(body.length) }).end();
        return;
      }
      const etag = createHash('sha1').update(body).digest('hex');
      res.writeHead(200, { 'Content-Length': body.length, 'X-Repo-Commit': COMMIT, ETag: `"${etag}"` });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const cdn = /^\/cdn\/([0-9a-f]+)$/.exec(url);
    const body = files.get('model.safetensors')!;
    if (cdn && cdn[1] === sha(body)) {
      const range = req.headers.range;
      if (range) {
        const start = Number(/^bytes=(\d+)-$/.exec(range)![1]);
        res.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` });
        res.end(body.subarray(start));
        return;
      }
      res.writeHead(200, { 'Content-Length': body.length });
      if (cutsLeft > 0) {
        cutsLeft--;
        res.write(body.subarray(0, 1000), () => setTimeout(() => res.destroy(), 20));
        return;
      }
      res.end(body);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('download into the HF cache', () => {
  it('resumes an interrupted transfer with Range on the next call and writes the cache layout', async () => {
    const hfHome = path.join(tmp, 'hf1');
    const env = { HF_HOME: hfHome, HF_ENDPOINT: endpoint };
    cutsLeft = 1;
    requests.length = 0;
    // no retries: the first call fails and leaves the partial blob
    const err = await downloadModel('org/tiny-bert', undefined, { env, retries: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MmsaError);
    expect((err as MmsaError).code).toBe('MSA6802');
    const blobs = path.join(hfHome, 'hub', 'models--org--tiny-bert', 'blobs');
    const body = files.get('model.safetensors')!;
    const partial = path.join(blobs, `${sha(body)}.incomplete`);
    expect(existsSync(partial)).toBe(true);
    const have = readFileSync(partial).length;
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThan(body.length);

    const progress: DownloadProgress[] = [];
    const m = await loadBert('org/tiny-bert', { env, onProgress: (p) => progress.push(p) });
    expect(m.source).toBe('download');
    expect(requests.some((r) => r.url.startsWith('/cdn/') && r.range === `bytes=${have}-`)).toBe(true);
    const weightsProgress = progress.filter((p) => p.file === 'model.safetensors');
    expect(weightsProgress[0]!.resumedFrom).toBe(have);
    expect(weightsProgress.at(-1)).toMatchObject({ done: true, loaded: body.length, total: body.length });
    // layout: refs/main -> commit, snapshot symlinks into blobs, no .incomplete left
    const repo = path.join(hfHome, 'hub', 'models--org--tiny-bert');
    expect(readFileSync(path.join(repo, 'refs', 'main'), 'utf8')).toBe(COMMIT);
    const snapFile = path.join(repo, 'snapshots', COMMIT, 'model.safetensors');
    expect(lstatSync(snapFile).isSymbolicLink()).toBe(true);
    expect(readlinkSync(snapFile)).toBe(path.join('..', '..', 'blobs', sha(body)));
    expect(readFileSync(snapFile).equals(body)).toBe(true);
    expect(existsSync(partial)).toBe(false);
    // pytorch_model.bin was not needed; tokenizer.json / tokenizer_config.json 404s are remembered
    expect(requests.some((r) => r.url.endsWith('pytorch_model.bin'))).toBe(false);
    expect(existsSync(path.join(repo, '.no_exist', COMMIT, 'tokenizer_config.json'))).toBe(true);
    const out = m.cls([[2, 4, 3]], [[1, 1, 1]]);
    expect(out.shape).toEqual([1, 32]);
    out.dispose();
    m.dispose();

    // tokenizer: tokenizer.json is absent on the hub, vocab.txt is fetched into the same snapshot
    const rows = await tokenize('org/tiny-bert', ['hello world'], 5, { env });
    expect(rows.inputIds).toEqual([[2, 4, 1, 3, 0]]);
    expect(existsSync(path.join(repo, 'snapshots', COMMIT, 'vocab.txt'))).toBe(true);

    // everything is cached now: offline resolution from HF_HOME, no requests
    requests.length = 0;
    const again = await loadBert('org/tiny-bert', { env: { HF_HOME: hfHome, HF_HUB_OFFLINE: '1' } });
    expect(again.source).toBe('cache');
    expect(again.dir).toBe(path.join(repo, 'snapshots', COMMIT));
    expect(requests).toHaveLength(0);
    again.dispose();
  });

  it('retries within one call, resuming from the bytes received', async () => {
    cutsLeft = 1;
    requests.length = 0;
    const r = await downloadModel('org/tiny-bert', undefined, { cacheDir: path.join(tmp, 'hf2'), endpoint });
    expect(r.commit).toBe(COMMIT);
    const ranged = requests.filter((q) => q.url.startsWith('/cdn/') && q.range);
    expect(ranged).toHaveLength(1);
    expect(readFileSync(path.join(r.dir, 'model.safetensors')).equals(files.get('model.safetensors')!)).toBe(true);
  });

  it('names unknown models and unreachable or offline sources', async () => {
    const env = { HF_HOME: path.join(tmp, 'hf3'), HF_ENDPOINT: endpoint };
    await expect(loadBert('org/nope', { env })).rejects.toMatchObject({ code: 'MSA6802', message: expect.stringContaining("'org/nope'") });
    await expect(loadBert('org/tiny-bert', { env: { ...env, HF_HUB_OFFLINE: '1' } })).rejects.toMatchObject({
      code: 'MSA6801',
      message: expect.stringContaining('not in the Hugging Face cache'),
    });
    await expect(loadBert('org/tiny-bert', { env: { HF_HOME: env.HF_HOME, HF_ENDPOINT: 'http://127.0.0.1:1' } })).rejects.toMatchObject({ code: 'MSA6802' });
    await expect(loadBert('./no/such/dir')).rejects.toMatchObject({ code: 'MSA6801', message: expect.stringContaining('does not exist') });
  });
});

describe('HF cache resolution', () => {
  it('finds snapshots through refs, by commit, and the newest one when refs are missing', () => {
    const hub = path.join(tmp, 'hf4', 'hub');
    const repo = path.join(hub, 'models--bert-base-uncased');
    for (const c of ['c1', 'c2']) {
      mkdirSync(path.join(repo, 'snapshots', c), { recursive: true });
      writeFileSync(path.join(repo, 'snapshots', c, 'config.json'), '{}');
      writeFileSync(path.join(repo, 'snapshots', c, 'model.safetensors'), '');
    }
    utimesSync(path.join(repo, 'snapshots', 'c1'), new Date(2020, 0, 1), new Date(2020, 0, 1));
    utimesSync(path.join(repo, 'snapshots', 'c2'), new Date(2021, 0, 1), new Date(2021, 0, 1));
    const env = { HF_HOME: path.join(tmp, 'hf4') };
    // no refs: newest snapshot
    expect(resolveModelDirSync('bert-base-uncased', undefined, { env }).dir).toBe(path.join(repo, 'snapshots', 'c2'));
    mkdirSync(path.join(repo, 'refs'));
    writeFileSync(path.join(repo, 'refs', 'main'), 'c1\n');
    expect(resolveModelDirSync('bert-base-uncased', undefined, { env }).dir).toBe(path.join(repo, 'snapshots', 'c1'));
    expect(resolveModelDirSync('bert-base-uncased', undefined, { env, revision: 'c2' }).dir).toBe(path.join(repo, 'snapshots', 'c2'));
    // HF_HUB_CACHE wins over HF_HOME
    expect(resolveModelDirSync('bert-base-uncased', undefined, { env: { HF_HUB_CACHE: hub, HF_HOME: '/nonexistent' } }).source).toBe('cache');
    // a snapshot without weights is not enough
    rmSync(path.join(repo, 'snapshots', 'c1', 'model.safetensors'));
    expect(() => resolveModelDirSync('bert-base-uncased', undefined, { env })).toThrow(/lacks model\.safetensors or pytorch_model\.bin/);
  });
});
