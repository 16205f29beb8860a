// The generated spec types (src/compiler/spec/types.generated.ts) are up to date with the JSON Schemas in schemas/.
// Build-time check of phase 2's single source of truth.

import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('generated types', () => {
  it('`node scripts/gen-types.mjs --check` exits 0', () => {
    const r = spawnSync(process.execPath, ['scripts/gen-types.mjs', '--check'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(r.error).toBeUndefined();
    // On failure the script says which file is stale; show it in the assertion message.
    expect(r.status, `${r.stdout}\n${r.stderr}\nrun \`npm run gen:types\` after editing a schema`).toBe(0);
  });
});
