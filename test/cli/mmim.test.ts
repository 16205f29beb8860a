// MMIM from the command line: `mmsa init --model mmim` writes MMSA's paper configs that check clean (MMSA has no
// SIMSv2 entry), the demo trains both stages on synthetic data with a small local BERT (no downloads), and
// `mmsa compare` lists its run with MMSA's metrics x100.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bertDemoCli, expectDemoTrainsAndCompares } from './bert-demo-cli.js';

const cli = bertDemoCli('mmsa-mmim-');
const { root, work, run, cleanup } = cli;
afterAll(cleanup);

describe('mmsa init --model mmim', () => {
  it("writes MMSA's config for mosi, mosei and sims, and says MMSA has none for simsv2", async () => {
    for (const [d, bertName, half] of [['mosi', 'bert-base-uncased', false], ['mosei', 'bert-base-uncased', true], ['sims', 'bert-base-chinese', false]] as const) {
      const r = await run(['init', '--model', 'mmim', '--dataset', d], work);
      expect(r.code, r.err).toBe(0);
      const text = readFileSync(join(work, `mmim_${d}.yaml`), 'utf8');
      expect(text).toContain('extends: mmim');
      expect(text).toContain(`pretrained: ${bertName}`);
      expect(text.includes('fraction: 0.5')).toBe(half);
      expect((await run(['check', join(work, `mmim_${d}.yaml`)], work)).code).toBe(0);
    }
    const r = await run(['init', '--model', 'mmim', '--dataset', 'simsv2'], work);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('MMSA configures mmim for mosei, mosi, sims');
  });

  it('has frozen-BERT configs on the precomputed-features fast path', async () => {
    const r = await run(['plan', join(root, 'pipelines/mmim_mosi_frozen.yaml')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('bert(bert-base-uncased, frozen) -> cls: fast path');
  });
});

describe('the MMIM demo', () => {
  it('trains both stages with the small local BERT and is listed by mmsa compare', async () => {
    await expectDemoTrainsAndCompares(cli, 'demo_mmim', 1);
  });
});
