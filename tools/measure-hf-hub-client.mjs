// Measures whether @huggingface/hub's download-to-cache API is safe against a hostile or broken hub, with the same
// local HTTP server cases as test/hostile/hub-*.test.ts. Tooling (not shipped, not run by the tests).
//
// Usage: install the library in a scratch directory (`npm install @huggingface/hub` there), then
//   node tools/measure-hf-hub-client.mjs /scratch/node_modules/@huggingface/hub
// Prints one line per case: what the library did and whether that is safe. Only 127.0.0.1 / 127.0.0.2 are contacted.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const libDir = process.argv[2];
if (!libDir) {
  console.error('usage: node tools/measure-hf-hub-client.mjs <path to node_modules/@huggingface/hub>');
  process.exit(2);
}
const pkg = JSON.parse(readFileSync(path.join(libDir, 'package.json'), 'utf8'));
const hub = await import(pathToFileURL(path.join(libDir, 'dist', 'index.mjs')).href);
const COMMIT = 'c'.repeat(40);
const body = Buffer.from('{"hidden_size": 32}');
const sha = (b) => createHash('sha256').update(b).digest('hex');

/** One case: how the server answers paths-info and resolve for config.json. */
let mode = 'honest';
let seenAuthOnOtherHost = false;
const other = http.createServer((req, res) => {
  if (req.headers.authorization) seenAuthOnOtherHost = true;
  res.writeHead(200, { 'Content-Length': body.length, 'Content-Type': 'application/octet-stream' }).end(body);
});
const server = http.createServer((req, res) => {
  const url = req.url ?? '';
  if (url.startsWith('/api/models/org/m/paths-info/')) {
    const oid = mode === 'etag-traversal' ? '../../../../escaped-blob' : sha(body);
    const id = mode === 'commit-traversal' ? '../../../../escaped-snapshot' : COMMIT;
    const info = [{ path: 'config.json', type: 'file', oid: 'x'.repeat(40), size: body.length, lfs: { oid, size: body.length, pointerSize: 100 }, lastCommit: { id, title: 't', date: new Date().toISOString() } }];
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(info));
    return;
  }
  if (url.startsWith('/org/m/resolve/')) {
    const headers = { 'X-Repo-Commit': COMMIT, ETag: `"${sha(body)}"` };
    if (mode === 'html') {
      const page = Buffer.from('<!doctype html><title>502</title>');
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html', 'Content-Range': `bytes 0-0/${page.length}`, 'Content-Length': page.length }).end(page);
      return;
    }
    if (mode === 'cross-host') {
      res.writeHead(302, { ...headers, Location: `http://127.0.0.2:${other.address().port}/blob` }).end();
      return;
    }
    const payload = mode === 'corrupt' ? Buffer.from('{"hidden_size": 99}') : body;
    if (mode === 'stall' && !req.headers.range?.startsWith('bytes=0-0')) {
      res.writeHead(200, { ...headers, 'Content-Length': payload.length });
      res.write(payload.subarray(0, 3)); // then nothing, forever
      return;
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const a = Number(range[1]);
      const b = range[2] ? Number(range[2]) : payload.length - 1;
      res.writeHead(206, { ...headers, 'Content-Range': `bytes ${a}-${b}/${payload.length}`, 'Content-Length': b - a + 1 }).end(payload.subarray(a, b + 1));
      if (mode === 'resume') rangeRequests.push(req.headers.range);
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': payload.length }).end(payload);
    return;
  }
  res.writeHead(404).end();
});
const rangeRequests = [];
await new Promise((r) => server.listen(0, '127.0.0.1', r));
await new Promise((r) => other.listen(0, '127.0.0.2', r));
const hubUrl = `http://127.0.0.1:${server.address().port}`;

async function attempt(name, setup, judge) {
  mode = name;
  const root = mkdtempSync(path.join(os.tmpdir(), 'hfhub-measure-'));
  const cacheDir = path.join(root, 'a', 'b', 'c', 'cache');
  mkdirSync(cacheDir, { recursive: true });
  setup?.(cacheDir);
  const t0 = performance.now();
  let outcome;
  try {
    const p = hub.downloadFileToCacheDir({ repo: 'org/m', path: 'config.json', hubUrl, cacheDir, accessToken: 'hf_secret_for_measure' });
    const timeout = new Promise((_, rej) => setTimeout(() => rej(new Error('no answer after 5 s (stalled)')), 5000));
    outcome = { ok: await Promise.race([p, timeout]) };
  } catch (e) {
    outcome = { error: e instanceof Error ? e.message : String(e) };
  }
  const ms = (performance.now() - t0).toFixed(0);
  const verdict = judge(outcome, root, cacheDir);
  console.log(`${name.padEnd(17)} ${verdict.safe ? 'safe  ' : 'UNSAFE'} ${ms.padStart(5)} ms  ${verdict.what}`);
  rmSync(root, { recursive: true, force: true });
}

const outside = (root) => readdirSync(root, { recursive: true }).filter((f) => String(f).includes('escaped'));
console.log(`@huggingface/hub ${pkg.version} on Node ${process.version}, downloadFileToCacheDir against ${hubUrl}`);
await attempt('honest', undefined, (o) => ({ safe: Boolean(o.ok), what: o.ok ? 'downloaded and linked' : `failed: ${o.error}` }));
await attempt('commit-traversal', undefined, (o, root, cache) => {
  const esc = outside(root).filter((f) => !path.join(root, String(f)).startsWith(cache));
  return { safe: esc.length === 0, what: esc.length ? `wrote outside the cache: ${esc.join(', ')}` : `stayed in the cache (${o.error ?? 'ok'})` };
});
await attempt('etag-traversal', undefined, (o, root, cache) => {
  const esc = outside(root).filter((f) => !path.join(root, String(f)).startsWith(cache));
  return { safe: esc.length === 0, what: esc.length ? `wrote outside the cache: ${esc.join(', ')}` : `stayed in the cache (${o.error ?? 'ok'})` };
});
await attempt('corrupt', undefined, (o) => {
  const got = o.ok ? readFileSync(o.ok) : undefined;
  return { safe: !o.ok, what: o.ok ? `cached bytes with sha256 ${sha(got).slice(0, 12)}.. under the announced ${sha(body).slice(0, 12)}..` : `refused: ${o.error}` };
});
await attempt('html', undefined, (o) => ({ safe: !o.ok, what: o.ok ? `cached an HTML page as config.json: ${readFileSync(o.ok, 'utf8').slice(0, 30)}` : `refused: ${o.error}` }));
await attempt('cross-host', undefined, (o) => ({
  safe: !seenAuthOnOtherHost,
  what: `${seenAuthOnOtherHost ? 'sent' : 'did not send'} the token to the redirect's other host (${o.ok ? 'downloaded' : o.error})`,
}));
await attempt('stall', undefined, (o) => ({ safe: !String(o.error ?? '').includes('stalled'), what: o.error ? `error: ${o.error}` : 'ok' }));
await attempt(
  'resume',
  (cache) => {
    const blobs = path.join(cache, 'models--org--m', 'blobs');
    mkdirSync(blobs, { recursive: true });
    writeFileSync(path.join(blobs, `${sha(body)}.incomplete`), body.subarray(0, 5));
  },
  (o) => ({ safe: rangeRequests.some((r) => r.startsWith('bytes=5-')), what: rangeRequests.some((r) => r.startsWith('bytes=5-')) ? 'resumed with Range' : `restarted from byte 0 (Range requests: ${rangeRequests.join(' ') || 'none'})` }),
);
// Keep-alive sockets of the library's fetch would hold the servers open.
process.exit(0);
