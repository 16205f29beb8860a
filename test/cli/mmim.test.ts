// MMIM from the command line: `mmsa init --model mmim` writes MMSA's paper configs that check clean (MMSA has no
// SIMSv2 entry), the demo trains both stages on synthetic data with a small local BERT (no downloads), and
// `mmsa compare` lists its run with MMSA's metrics x100.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { packageRoot } from '../../src/paths.js';
import { writeRandomBertCheckpoint } from '../../src/runtime/bert/random-checkpoint.js';
import { captureIo } from './io.js';

const root = packageRoot();
const work = mkdtempSync(join(tmpdir(), 'mmsa-mmim-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const bert = join(work, 'bert');
writeRandomBertCheckpoint(bert, { vocab_size: 30522, hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256, max_position_embeddings: 64 }, 19);
const env = { ...process.env, NO_COLOR: '1', MMSA_DEMO_BERT: bert };

async function run(args: string[], cwd = root) {
  const io = captureIo(cwd, env);
  const code = await main(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

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
    const out = join(work, 'runs');
    const r = await run(['run', join(root, 'pipelines/demo_mmim.yaml'), '--out', out, '--set', 'train.max_epochs=1'], work);
    expect(r.code, r.err).toBe(0);
    const c = await run(['compare', out, '--format', 'json'], work);
    expect(c.code, c.err).toBe(0);
    const rows = (JSON.parse(c.out) as { rows: { pipeline: string }[] }).rows;
    expect(rows.map((x) => x.pipeline)).toEqual(['demo_mmim']);
    const md = await run(['compare', out], work);
    expect(md.out).toMatch(/Has0_acc_2/);
  });
});
