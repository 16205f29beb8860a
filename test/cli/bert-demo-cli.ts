// The command line of the BERT demos' tests: a scratch directory holding a small random Hugging Face BERT (2 layers,
// hidden 128, bert-base-uncased's vocabulary), named by MMSA_DEMO_BERT, `main` run with that environment, and the check
// that a demo trains and `mmsa compare` lists its run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { main } from '../../src/cli/main.js';
import { packageRoot } from '../../src/paths.js';
import { writeRandomBertCheckpoint } from '../../src/runtime/bert/random-checkpoint.js';
import { captureIo } from './io.js';

export interface BertDemoCli {
  root: string;
  work: string;
  run(args: string[], cwd?: string): Promise<{ code: number; out: string; err: string }>;
  cleanup(): void;
}

export function bertDemoCli(prefix: string): BertDemoCli {
  const root = packageRoot();
  const work = mkdtempSync(join(tmpdir(), prefix));
  const bert = join(work, 'bert');
  writeRandomBertCheckpoint(bert, { vocab_size: 30522, hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256, max_position_embeddings: 64 }, 19);
  const env = { ...process.env, NO_COLOR: '1', MMSA_DEMO_BERT: bert };
  return {
    root,
    work,
    async run(args, cwd = root) {
      const io = captureIo(cwd, env);
      const code = await main(args, io);
      return { code, out: io.stdout(), err: io.stderr() };
    },
    cleanup: () => rmSync(work, { recursive: true, force: true }),
  };
}

/** Trains `pipelines/<demo>.yaml` for `epochs` epochs; `mmsa compare` lists its one run with MMSA's metrics. */
export async function expectDemoTrainsAndCompares(cli: BertDemoCli, demo: string, epochs = 2): Promise<void> {
  const out = join(cli.work, 'runs');
  const r = await cli.run(['run', join(cli.root, `pipelines/${demo}.yaml`), '--out', out, '--set', `train.max_epochs=${epochs}`], cli.work);
  expect(r.code, r.err).toBe(0);
  const c = await cli.run(['compare', out, '--format', 'json'], cli.work);
  expect(c.code, c.err).toBe(0);
  const rows = (JSON.parse(c.out) as { rows: { pipeline: string }[] }).rows;
  expect(rows.map((x) => x.pipeline)).toEqual([demo]);
  const md = await cli.run(['compare', out], cli.work);
  expect(md.out).toContain(demo);
  expect(md.out).toMatch(/Has0_acc_2/);
}
