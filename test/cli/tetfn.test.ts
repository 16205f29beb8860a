// TETFN from the command line: `mmsa init --model tetfn` writes MMSA's paper configs that check clean, the frozen-BERT
// variant (MMSA's use_finetune: false) reads the precomputed features, the demo trains on synthetic data with a small
// local BERT (no downloads), and `mmsa compare` lists its run with MMSA's metrics x100.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { packageRoot } from '../../src/paths.js';
import { writeRandomBertCheckpoint } from '../../src/runtime/bert/random-checkpoint.js';
import { captureIo } from './io.js';

const root = packageRoot();
const work = mkdtempSync(join(tmpdir(), 'mmsa-tetfn-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const bert = join(work, 'bert');
writeRandomBertCheckpoint(bert, { vocab_size: 30522, hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256, max_position_embeddings: 64 }, 19);
const env = { ...process.env, NO_COLOR: '1', MMSA_DEMO_BERT: bert };

async function run(args: string[], cwd = root) {
  const io = captureIo(cwd, env);
  const code = await main(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

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
    const out = join(work, 'runs');
    const r = await run(['run', join(root, 'pipelines/demo_tetfn.yaml'), '--out', out, '--set', 'train.max_epochs=2'], work);
    expect(r.code, r.err).toBe(0);
    const c = await run(['compare', out, '--format', 'json'], work);
    expect(c.code, c.err).toBe(0);
    const rows = (JSON.parse(c.out) as { rows: { pipeline: string; metrics?: Record<string, unknown> }[] }).rows;
    expect(rows.map((x) => x.pipeline)).toEqual(['demo_tetfn']);
    const md = await run(['compare', out], work);
    expect(md.out).toContain('demo_tetfn');
    expect(md.out).toMatch(/Has0_acc_2/);
  });
});
