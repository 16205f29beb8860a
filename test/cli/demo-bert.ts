// Shared set-up of the CLI tests of BERT models: a scratch directory (removed after the file's tests), a small random
// 2-layer BERT in Hugging Face's layout there that the demos read through MMSA_DEMO_BERT (no downloads), and `run`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { main } from '../../src/cli/main.js';
import { packageRoot } from '../../src/paths.js';
import { writeRandomBertCheckpoint } from '../../src/runtime/bert/random-checkpoint.js';
import { captureIo } from './io.js';

export function demoBertCli(prefix: string) {
  const root = packageRoot();
  const work = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const bert = join(work, 'bert');
  writeRandomBertCheckpoint(bert, { vocab_size: 30522, hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256, max_position_embeddings: 64 }, 19);
  const env = { ...process.env, NO_COLOR: '1', MMSA_DEMO_BERT: bert };
  const run = async (args: string[], cwd = root) => {
    const io = captureIo(cwd, env);
    const code = await main(args, io);
    return { code, out: io.stdout(), err: io.stderr() };
  };
  return { root, work, run };
}
