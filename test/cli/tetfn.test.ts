// TETFN from the command line: `mmsa init --model tetfn` writes MMSA's paper configs that check clean, the frozen-BERT
// variant (MMSA's use_finetune: false) reads the precomputed features, the demo trains on synthetic data with a small
// local BERT (no downloads), and `mmsa compare` lists its run with MMSA's metrics x100.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bertDemoCli, expectDemoTrainsAndCompares } from './bert-demo-cli.js';

const cli = bertDemoCli('mmsa-tetfn-');
afterAll(cli.cleanup);
const { root, work, run } = cli;

describe('mmsa init --model tetfn', () => {
  it("writes MMSA's config for each of its four datasets, with MMSA's per-dataset values", async () => {
    // conv1d_kernel_size_l and _a (vision reuses _a), v_lstm_hidden_size, learning_rate_bert
    for (const [d, kl, ka, hv, lrBert] of [['mosi', 1, 1, 64, '3e-5'], ['mosei', 1, 1, 32, '3e-5'], ['sims', 3, 5, 64, '3e-5'], ['simsv2', 5, 3, 32, '5e-6']] as const) {
      const r = await run(['init', '--model', 'tetfn', '--dataset', d], work);
      expect(r.code, r.err).toBe(0);
      const text = readFileSync(join(work, `tetfn_${d}.yaml`), 'utf8');
      expect(text).toContain('extends: tetfn');
      expect(text).toContain(`text: {type: conv1d, out: 50, kernel: ${kl}}`);
      expect(text).toContain(`vision: {type: conv1d, out: 50, kernel: ${ka}}`);
      expect(text).toContain(`vision_lstm: {type: lstm, hidden: ${hv},`);
      expect(text).toMatch(new RegExp(`lr: ${lrBert} +# learning_rate_bert`));
      expect((await run(['check', join(work, `tetfn_${d}.yaml`)], work)).code).toBe(0);
    }
  });

  it('frozen BERT (use_finetune: false) reads the precomputed token features: no BERT forward', async () => {
    const r = await run(['plan', join(root, 'pipelines/tetfn_sims.yaml'), '--set', 'encoders.bert.finetune=false']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/encoders\.bert +bert\(bert-base-chinese, frozen\) -> sequence: fast path/);
    const tuned = await run(['plan', join(root, 'pipelines/tetfn_sims.yaml')]);
    expect(tuned.out).toMatch(/encoders\.bert +bert\(bert-base-chinese, 12 layers, hidden 768, finetune\)/);
  });
});

describe('the TETFN demo', () => {
  it('trains with the small local BERT and is listed by mmsa compare', async () => {
    await expectDemoTrainsAndCompares(cli, 'demo_tetfn');
  });
});
