// Locates the package root (where package.json, schemas/ and pipelines/ live) from any compiled or source file.
// Used by every phase that reads shipped files (schemas, presets, dataset manifests).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`mmsa: cannot find the package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export const schemasDir = (): string => join(packageRoot(), 'schemas');
export const pipelinesDir = (): string => join(packageRoot(), 'pipelines');
export const presetsDir = (): string => join(packageRoot(), 'pipelines', 'presets');
export const datasetsDir = (): string => join(packageRoot(), 'pipelines', 'datasets');
