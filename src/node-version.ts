// The Node.js version check of the `mmsa` command: compares the running Node with package.json's `engines.node` and
// says what to install, before any module that needs a newer Node is loaded. Runs before phase 0 (CLI entry).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Version = [number, number, number];

function parseVersion(v: string): Version | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * True when `version` satisfies `range`: alternatives joined by `||`, each `>=X.Y.Z`, `^X.Y.Z` (same major, at least
 * X.Y.Z) or `X.Y.Z` (exactly). This is the subset of npm's range syntax `engines.node` uses here.
 */
export function satisfiesNodeRange(version: string, range: string): boolean {
  const v = parseVersion(version);
  if (!v) return false;
  return range.split('||').some((alt) => {
    const a = alt.trim();
    const op = a.startsWith('>=') ? '>=' : a.startsWith('^') ? '^' : '=';
    const min = parseVersion(a.slice(op === '=' ? 0 : op.length));
    if (!min) throw new Error(`unsupported engines.node range '${range}'`);
    if (op === '>=') return compare(v, min) >= 0;
    if (op === '^') return v[0] === min[0] && compare(v, min) >= 0;
    return compare(v, min) === 0;
  });
}

/** The `engines.node` range of the installed package. */
export function requiredNodeRange(): string {
  const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8')) as { engines?: { node?: string } };
  return pkg.engines?.node ?? '*';
}

/** A message for the user when this Node is too old (or too new a line we do not support), else undefined. */
export function nodeVersionProblem(version: string = process.versions.node, range: string = requiredNodeRange()): string | undefined {
  if (range === '*' || satisfiesNodeRange(version, range)) return undefined;
  return (
    `mmsa needs Node.js ${range.split('||').map((s) => s.trim()).join(' or ')}; this is Node.js ${version}.\n` +
    'Install a current Node.js LTS (22 or newer) from your package manager or https://nodejs.org (or `nvm install --lts`), then run mmsa again.\n'
  );
}
