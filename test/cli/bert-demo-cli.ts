// The command line of the BERT demos' tests: a scratch directory holding a small random Hugging Face BERT (2 layers,
// hidden 128, bert-base-uncased's vocabulary), named by MMSA_DEMO_BERT, and `main` run with that environment.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
