// The Node.js minimum: engines.node is checked by `mmsa` before the CLI loads, with a message saying what to install.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nodeVersionProblem, requiredNodeRange, satisfiesNodeRange } from '../src/node-version.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'mmsa.js');

/** Runs bin/mmsa.js in a Node whose process.versions.node claims `fake`. */
function runAs(fake: string, args: string[]) {
  const preload = `data:text/javascript,Object.defineProperty(process.versions,"node",{value:${JSON.stringify(fake)}});`;
  return spawnSync(process.execPath, ['--import', preload, bin, ...args], { encoding: 'utf8', cwd: root });
}

describe('Node.js version check', () => {
  it('engines.node excludes the Node versions whose APIs mmsa or its dependencies need and lack', () => {
    const range = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(requiredNodeRange()).toBe(range);
    // zlib.crc32 came in 20.15; vega-lite's dependencies declare ^20.19 || ^22.12.
    for (const old of ['18.20.4', '20.0.0', '20.10.0', '20.15.1', '20.18.3', '21.7.3', '22.11.0']) expect(satisfiesNodeRange(old, range), old).toBe(false);
    for (const ok of ['20.19.0', '20.20.2', '22.12.0', '24.1.0']) expect(satisfiesNodeRange(ok, range), ok).toBe(true);
  });

  it('understands >=, ^ and exact alternatives', () => {
    expect(satisfiesNodeRange('v20.19.1', '^20.19.0')).toBe(true);
    expect(satisfiesNodeRange('21.0.0', '^20.19.0')).toBe(false);
    expect(satisfiesNodeRange('22.1.0', '22.1.0 || >=23.0.0')).toBe(true);
    expect(satisfiesNodeRange('not-a-version', '>=1.0.0')).toBe(false);
    expect(nodeVersionProblem('20.10.0', '^20.19.0 || >=22.12.0')).toMatch(/needs Node\.js \^20\.19\.0 or >=22\.12\.0; this is Node\.js 20\.10\.0/);
    expect(nodeVersionProblem('22.12.0', '^20.19.0 || >=22.12.0')).toBeUndefined();
  });

  it('mmsa on an older Node says which Node it needs and exits 1, before loading the CLI', () => {
    const r = runAs('20.10.0', ['--version']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('mmsa needs Node.js ^20.19.0 or >=22.12.0; this is Node.js 20.10.0');
    expect(r.stderr).toContain('Install a current Node.js LTS');
  });

  it('mmsa on a supported Node runs', () => {
    const r = runAs(process.versions.node, ['--version']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
