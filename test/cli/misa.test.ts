// MISA from the command line: `mmsa init --model misa` writes MMSA's paper configs that check clean, the demo trains
// on synthetic data with a small local BERT (no downloads), and `mmsa compare` lists its run with MMSA's metrics x100.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bertDemoCli } from './bert-demo-cli.js';

const { root, work, run, cleanup } = bertDemoCli('mmsa-misa-');
afterAll(cleanup);

describe('mmsa init --model misa', () => {
  it("writes MMSA's config for each of its four datasets, with MMSA's per-dataset values", async () => {
    for (const [d, h, sim] of [['mosi', 128, 0.3], ['mosei', 128, 0.8], ['sims', 128, 1.0], ['simsv2', 64, 1.0]] as const) {
      const r = await run(['init', '--model', 'misa', '--dataset', d], work);
      expect(r.code, r.err).toBe(0);
      const text = readFileSync(join(work, `misa_${d}.yaml`), 'utf8');
      expect(text).toContain('extends: misa');
      expect(text).toContain(`out: ${h}, project: true`);
      expect(text).toMatch(new RegExp(`weight: ${sim.toFixed(1)}\\}\\s+# sim_weight`));
      expect((await run(['check', join(work, `misa_${d}.yaml`)], work)).code).toBe(0);
    }
  });
});

describe('the MISA demo', () => {
  it('trains with the small local BERT and is listed by mmsa compare', async () => {
    const out = join(work, 'runs');
    const r = await run(['run', join(root, 'pipelines/demo_misa.yaml'), '--out', out, '--set', 'train.max_epochs=2'], work);
    expect(r.code, r.err).toBe(0);
    const c = await run(['compare', out, '--format', 'json'], work);
    expect(c.code, c.err).toBe(0);
    const rows = (JSON.parse(c.out) as { rows: { pipeline: string; metrics?: Record<string, unknown> }[] }).rows;
    expect(rows.map((x) => x.pipeline)).toEqual(['demo_misa']);
    const md = await run(['compare', out], work);
    expect(md.out).toContain('demo_misa');
    expect(md.out).toMatch(/Has0_acc_2/);
  });
});
