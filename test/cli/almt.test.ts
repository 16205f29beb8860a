// ALMT from the command line: `mmsa init --model almt` writes MMSA's paper configs that check clean, the demo trains on
// synthetic data with a small local BERT (no downloads) and `mmsa compare` lists it, and training the MOSI fixture
// pipeline gives every epoch the learning rate MMSA's own trainer used (its AdamW under its warm-up + cosine schedule,
// recorded step by step by tools/make-mmsa-checkpoints.py).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bertDemoCli, expectDemoTrainsAndCompares } from './bert-demo-cli.js';

const cli = bertDemoCli('mmsa-almt-');
const { root, work, run, cleanup } = cli;
afterAll(cleanup);

describe('mmsa init --model almt', () => {
  it("writes MMSA's config for each of its three datasets, with MMSA's per-dataset values", async () => {
    for (const [d, fusion, lengths] of [['mosi', 2, [50, 375, 500]], ['mosei', 4, [50, 500, 500]], ['sims', 4, [39, 400, 55]]] as const) {
      const r = await run(['init', '--model', 'almt', '--dataset', d], work);
      expect(r.code, r.err).toBe(0);
      const text = readFileSync(join(work, `almt_${d}.yaml`), 'utf8');
      expect(text).toContain('extends: almt');
      expect(text).toMatch(new RegExp(`fusion_layers: ${fusion} +# fusion_layer_depth`));
      expect(text).toContain(`length: ${lengths[0]}}`);
      expect(text).toContain(`audio: {type: vit, length: ${lengths[1]}}`);
      expect(text).toContain(`vision: {type: vit, length: ${lengths[2]}}`);
      expect((await run(['check', join(work, `almt_${d}.yaml`)], work)).code).toBe(0);
    }
  });
});

describe('the ALMT demo', () => {
  it('trains with the small local BERT and is listed by mmsa compare', async () => {
    await expectDemoTrainsAndCompares(cli, 'demo_almt');
  });
});

describe("ALMT's schedule against MMSA's own trainer", () => {
  it('every epoch trains with the learning rate MMSA used in that epoch (warm-up from 0, then the cosine)', async () => {
    const fixtures = join(root, 'test/fixtures/mmsa-checkpoints');
    const e = JSON.parse(readFileSync(join(fixtures, 'almt_mosi', 'expected.json'), 'utf8')) as { step_lrs: number[]; epochs: number; mmsa_config: { batch_size: number } };
    // 48 training samples at batch 16: three optimizer steps an epoch, each at the epoch's rate.
    const perEpoch = e.step_lrs.filter((_, i) => i % 3 === 0);
    expect(perEpoch).toEqual([0, 0.0005, 0.001, 0.001]);
    expect(e.step_lrs).toEqual(perEpoch.flatMap((lr) => [lr, lr, lr]));
    const out = join(work, 'almt-lr');
    const r = await run(['run', join(fixtures, 'almt_mosi', 'pipeline.yaml'), '--out', out, '--set', `train.max_epochs=${e.epochs}`, '--set', 'train.early_stop.patience=100', '--set', 'seeds=[1111]'], work);
    expect(r.code, r.err).toBe(0);
    const [runDir] = readdirSync(join(out, 'almt_mosi'));
    const events = readFileSync(join(out, 'almt_mosi', runDir!, 'events.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; epoch?: number; lr?: Record<string, number> });
    // epoch.end reports the rate of the next epoch; the first epoch's is the warm-up's 0.
    const next = events.filter((x) => x.kind === 'epoch.end').map((x) => Object.values(x.lr ?? {})[0]);
    expect([0, ...next.slice(0, -1)]).toEqual(perEpoch);
  });
});
