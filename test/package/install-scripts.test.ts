// No dependency runs its own install script: every locked package with one is denied in package.json's allowScripts
// (recent npm skips it; 11.19 checked), so nothing builds or downloads at install besides mmsa's own native kernels. A new dependency
// with an install script fails here until it is reviewed. The queue's msgpack codec works without the denied script.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(resolve(repo, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean>; scripts: Record<string, string> };
const lock = JSON.parse(readFileSync(resolve(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };

describe('install scripts', () => {
  it('every dependency with an install script is denied in allowScripts, and no allowed entry is left', () => {
    const withScript = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(withScript.sort()).toEqual(Object.keys(pkg.allowScripts ?? {}).sort());
    for (const [name, allowed] of Object.entries(pkg.allowScripts ?? {})) expect(allowed, name).toBe(false);
    // mmsa's own install builds its kernels with the local C compiler and never fetches anything.
    expect(pkg.scripts['install']).toBe('node scripts/build-native.mjs');
  });

  it("msgpackr (BullMQ's codec) packs and unpacks without msgpackr-extract's install step", async () => {
    const { pack, unpack } = await import('msgpackr');
    const job = { key: 'lmf/abc-1111', spec: { train: { lr: 1e-3 } }, seeds: [1111, 1112], text: 'x'.repeat(100) };
    expect(unpack(pack(job))).toEqual(job);
  });
});
