// A run directory as a queue artefact: its files (manifest, lock, results, events, checkpoint) packed into the job's
// return value by the worker and written back under the submitter's runs/ (manifest last, so a half-written copy is
// never taken for a completed run). Phase 7.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureDir, writeFileAtomic } from '../runtime/run-dir.js';

export type PackedRunDir = Record<string, string>;

function walk(dir: string, root: string, out: PackedRunDir): void {
  for (const name of readdirSync(dir)) {
    // Temporaries of a writer (`.x.tmp-<pid>`, `x.old-<pid>`) are not part of the run.
    if (/\.(tmp|old)-\d+/.test(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, root, out);
    else out[relative(root, p)] = readFileSync(p).toString('base64');
  }
}

export function packRunDir(dir: string): PackedRunDir {
  const out: PackedRunDir = {};
  walk(dir, dir, out);
  return out;
}

export function unpackRunDir(files: PackedRunDir, dir: string): void {
  const names = Object.keys(files).sort((a, b) => Number(a === 'manifest.json') - Number(b === 'manifest.json'));
  for (const rel of names) {
    if (rel.startsWith('..') || rel.startsWith('/')) continue;
    const p = join(dir, rel);
    ensureDir(join(p, '..'), { what: 'a run directory from the queue' });
    writeFileAtomic(p, Buffer.from(files[rel]!, 'base64'), { what: 'a run directory from the queue', elsewhere: 'pass another --out' });
  }
}
