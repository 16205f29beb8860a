// CLI tests of the BERT models' demos: a scratch directory with a small random Hugging Face BERT that MMSA_DEMO_BERT
// names (no downloads), `main` run with it, and the check that a demo trains and `mmsa compare` lists its run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { main } from '../../src/cli/main.js';
import { packageRoot } from '../../src/paths.js';
import { writeRandomBertCheckpoint } from '../../src/runtime/bert/random-checkpoint.js';
import { captureIo } from './io.js';

export interface DemoBertCli {
  root: string;
  work: string;
  run(args: string[], cwd?: string): Promise<{ code: number; out: string; err: string }>;
}

/** A scratch directory (removed after the file's tests) with a 2-layer, hidden-128 BERT; `run` calls the CLI with it. */
export function demoBertCli(prefix: string): DemoBertCli {
  const root = packageRoot();
  const work = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
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
  };
}

/** Trains `pipelines/<demo>.yaml` for two epochs; `mmsa compare` lists its one run with MMSA's metrics. */
export async function expectDemoTrainsAndCompares(cli: DemoBertCli, demo: string): Promise<void> {
  const out = join(cli.work, 'runs');
  const r = await cli.run(['run', join(cli.root, `pipelines/${demo}.yaml`), '--out', out, '--set', 'train.max_epochs=2'], cli.work);
  expect(r.code, r.err).toBe(0);
  const c = await cli.run(['compare', out, '--format', 'json'], cli.work);
  expect(c.code, c.err).toBe(0);
  const rows = (JSON.parse(c.out) as { rows: { pipeline: string }[] }).rows;
  expect(rows.map((x) => x.pipeline)).toEqual([demo]);
  const md = await cli.run(['compare', out], cli.work);
  expect(md.out).toContain(demo);
  expect(md.out).toMatch(/Has0_acc_2/);
}
