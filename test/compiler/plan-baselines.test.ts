// `mmsa plan` text of every shipped pipeline against committed baselines (test/baselines/plan), and `mmsa check`
// on every shipped pipeline: no errors, no warnings. Phases 0-5 (plan printing).

import { readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main, type Io } from '../../src/cli/main.js';
import { compileFile } from '../../src/compiler/compile.js';
import { formatDiagnostics } from '../../src/compiler/diagnostics/format.js';
import { printPlanText } from '../../src/cli/compiler-commands.js';
import { expectBaseline } from '../helpers/baseline.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pipelinesDir = join(repoRoot, 'pipelines');
const baselineDir = join(repoRoot, 'test/baselines/plan');

const pipelines = readdirSync(pipelinesDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/**
 * MTFN's sims config is MMSA's own: its tensor fusion has (32+1)(256+1)(256+1) = 2.18M features (a 141M-parameter
 * Linear), which MSA4005 rightly points out.
 */
const WARNED = new Map([['mtfn_sims.yaml', 'MSA4005']]);

describe('plan baselines of the shipped pipelines', () => {
  it('ships the paper configs and demos', () => {
    expect(pipelines.length).toBeGreaterThanOrEqual(25);
  });

  for (const file of pipelines) {
    it(file, () => {
      const r = compileFile(join(pipelinesDir, file), { env: {} });
      const diagnostics = WARNED.has(file) ? r.diagnostics.filter((d) => d.code !== WARNED.get(file)) : r.diagnostics;
      expect(formatDiagnostics(diagnostics, r.host, { cwd: repoRoot })).toBe('');
      expect(r.ir).toBeDefined();
      // As `mmsa plan` prints it: a spec with a tune: section gets the search after the plan.
      const text = printPlanText(r, { cwd: repoRoot });
      expect(text).toContain(`pipeline ${basename(file, '.yaml')}`);
      expectBaseline(join(baselineDir, `${basename(file, '.yaml')}.txt`), text);
    });
  }
});

describe('mmsa check on the shipped pipelines', () => {
  it('passes every pipeline with no errors and no warnings', async () => {
    let out = '';
    let err = '';
    const io: Io = { out: (s) => (out += s), err: (s) => (err += s), cwd: repoRoot, env: {}, isTTY: false };
    const clean = pipelines.filter((f) => !WARNED.has(f));
    const code = await main(['check', ...clean.map((f) => `pipelines/${f}`)], io);
    expect(err).toBe(`ok: ${clean.length} of ${clean.length} specs passed\n`);
    expect(out).toBe('');
    expect(code).toBe(0);
  });

  it('warns only where MMSA\'s own config deserves it', async () => {
    for (const [f, code] of WARNED) {
      let err = '';
      const io: Io = { out: () => undefined, err: (s) => (err += s), cwd: repoRoot, env: {}, isTTY: false };
      expect(await main(['check', `pipelines/${f}`], io)).toBe(0);
      expect(err.match(/warning MSA\d{4}/g)).toEqual([`warning ${code}`]);
    }
  });
});
