// Shared helpers of the pickle reader tests: fixture locations, a python3 runner, tiny pickle byte builders.
// Test support for phase 7 (execute) data loading.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NDArray } from '../../../../src/runtime/data/pickle/read-pickle.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root, found from this file's location. */
export const repoRoot = path.resolve(here, '../../../..');
export const fixturesDir = path.resolve(repoRoot, 'test/fixtures/pickles');

let pyOk: boolean | undefined;
/** True when python3 with numpy is available (used to generate extra pickles). */
export function hasPythonNumpy(): boolean {
  if (pyOk === undefined) {
    try {
      execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
      pyOk = true;
    } catch {
      pyOk = false;
    }
  }
  return pyOk;
}

export function runPython(code: string, args: string[] = []): string {
  return execFileSync('python3', ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

export function fixturesAvailable(): boolean {
  return existsSync(path.join(fixturesDir, 'manifest.json'));
}

/** SHA-256 of the little-endian C-order bytes of a numeric NDArray (host is little-endian). */
export function sha256OfData(a: NDArray): string {
  const d = a.data;
  if (Array.isArray(d)) throw new Error('not numeric');
  return createHash('sha256').update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)).digest('hex');
}

/** Element i of an NDArray as a JS number (bigint converted) or string. */
export function elem(a: NDArray, i: number): number | string {
  const v = a.data[i];
  if (typeof v === 'bigint') return Number(v);
  if (v === undefined) throw new Error(`index ${i} out of range`);
  return v;
}

/** Builds pickle bytes from opcode strings / byte arrays. */
export function bytes(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'string') for (const ch of Buffer.from(p, 'latin1')) out.push(ch);
    else for (const b of p) out.push(b);
  }
  return Uint8Array.from(out);
}

/** SHORT_BINUNICODE for an ASCII string. */
export function sbu(s: string): number[] {
  return [0x8c, s.length, ...Buffer.from(s, 'utf8')];
}
