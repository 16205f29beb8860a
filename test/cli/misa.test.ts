// MISA from the command line: `mmsa init --model misa` writes MMSA's paper configs that check clean, the demo trains
// on synthetic data with a small local BERT (no downloads), and `mmsa compare` lists its run with MMSA's metrics x100.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bertDemoCli, expectDemoTrainsAndCompares } from './bert-demo-cli.js';

const cli = bertDemoCli('mmsa-misa-');
const { work, run } = cli;
afterAll(cli.cleanup);

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
    await expectDemoTrainsAndCompares(cli, 'demo_misa');
  });
});
