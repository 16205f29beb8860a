// The `mmsa` command line: parses argv with commander and dispatches to one command module each.
// Exit codes: 0 ok, 1 errors found (or the command failed), 2 usage error.

import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import { checkCommand, compileCommand, planCommand, schemaCommand } from './compiler-commands.js';
import { convertCommand, fmtCommand } from './dsl-commands.js';

export interface Io {
  out(s: string): void;
  err(s: string): void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
  /** Whether stderr is a terminal (progress bars); defaults to isTTY. */
  errIsTTY?: boolean;
}

export const processIo = (): Io => ({
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  cwd: process.cwd(),
  env: process.env,
  isTTY: Boolean(process.stdout.isTTY),
  errIsTTY: Boolean(process.stderr.isTTY),
});

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let code = 0;
  const setCode = (c: number) => {
    code = Math.max(code, c);
  };
  const program = new Command('mmsa')
    .description('Multimodal sentiment analysis pipelines: check, plan, compile and run them.')
    .version(version(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  const format = () => new Option('--format <format>', 'output format').choices(['text', 'json']).default('text');

  program
    .command('check')
    .description('check pipeline specs (parse, schema, rules, shapes) and report every problem at once')
    .argument('<files...>', 'pipeline specs (.yaml or .mmsa)')
    .addOption(format())
    .option('--data-root <dir>', 'directory holding the MMSA dataset folders')
    .action((files: string[], o: { format: 'text' | 'json'; dataRoot?: string }) => setCode(checkCommand(files, o, io)));

  program
    .command('plan')
    .description('print the compiled model and training schedule as stable text')
    .argument('<file>', 'pipeline spec')
    .option('--data-root <dir>', 'directory holding the MMSA dataset folders')
    .option('--verbose', 'list every parameter tensor')
    .addOption(format())
    .action((file: string, o: { dataRoot?: string; verbose?: boolean; format: 'text' | 'json' }) => setCode(planCommand(file, o, io)));

  program
    .command('compile')
    .description('print the normalized spec (all defaults filled) or the IR as JSON')
    .argument('<file>', 'pipeline spec')
    .addOption(new Option('--emit <what>', 'what to print').choices(['spec', 'ir']).default('spec'))
    .option('--data-root <dir>', 'directory holding the MMSA dataset folders')
    .action((file: string, o: { emit: 'spec' | 'ir'; dataRoot?: string }) => setCode(compileCommand(file, o, io)));

  program
    .command('schema')
    .description('print the JSON Schema of pipeline specs (for editor completion)')
    .addOption(new Option('--what <which>', 'which schema').choices(['pipeline', 'dataset']).default('pipeline'))
    .action((o: { what: 'pipeline' | 'dataset' }) => setCode(schemaCommand(o, io)));

  program
    .command('fmt')
    .description('print .mmsa files in canonical formatting (comments kept)')
    .argument('<files...>', '.mmsa files')
    .option('-w, --write', 'rewrite the files in place')
    .option('--check', 'exit 1 if a file is not formatted (for CI)')
    .action((files: string[], o: { write?: boolean; check?: boolean }) => setCode(fmtCommand(files, o, io)));

  program
    .command('convert')
    .description('convert a spec between YAML and the .mmsa language (comments kept)')
    .argument('<file>', 'a .yaml or .mmsa spec')
    .option('-o, --out <file>', 'write to this file instead of stdout')
    .action((file: string, o: { out?: string }) => setCode(convertCommand(file, o, io)));

  program
    .command('run')
    .description('train and test a pipeline (every seed), writing runs/<pipeline>/<hash>-<seed>/')
    .argument('<file>', 'pipeline spec')
    .option('--seeds <list>', 'comma-separated seeds, overriding the spec (e.g. 1111,1112)')
    .option('--max-epochs <n>', 'stop after at most n epochs')
    .addOption(new Option('--backend <name>', 'tensor backend').choices(['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu']).default('wasm'))
    .option('--out <dir>', 'root directory of runs', 'runs')
    .option('--data-root <dir>', 'directory holding the MMSA dataset folders')
    .option('--force', 'train again even when an identical completed run exists')
    .addOption(new Option('--reporter <name>', 'how progress is shown').choices(['plain', 'ndjson']).default('plain'))
    .action(async (file: string, o: Record<string, unknown>) => {
      const { runCommand } = await import('./run-commands.js');
      setCode(await runCommand(file, o, io));
    });

  program
    .command('predict')
    .description("write predictions of a trained run's best checkpoint (id, prediction, label)")
    .argument('<run-dir>', 'a run directory (runs/<pipeline>/<hash>-<seed>)')
    .option('--data <file>', 'a feature file in the same layout (default: the run\'s own dataset)')
    .addOption(new Option('--split <split>', 'which split').choices(['train', 'valid', 'test']).default('test'))
    .option('--out <file>', 'write .csv or .json instead of CSV on stdout')
    .option('--data-root <dir>', 'directory holding the MMSA dataset folders')
    .addOption(new Option('--backend <name>', 'tensor backend').choices(['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu']).default('wasm'))
    .action(async (runDir: string, o: Record<string, unknown>) => {
      const { predictCommand } = await import('./run-commands.js');
      setCode(await predictCommand(runDir, o, io));
    });

  const data = program.command('data').description('inspect and verify MMSA feature files');
  data
    .command('inspect')
    .description('splits, keys, dtypes, shapes, label statistics, lengths and -inf/NaN counts of a feature pickle')
    .argument('<file>', 'an MMSA-layout pickle')
    .addOption(format())
    .action(async (file: string, o: { format: 'text' | 'json' }) => {
      const { dataInspectCommand } = await import('./data-commands.js');
      setCode(await dataInspectCommand(file, o, io));
    });
  data
    .command('verify')
    .description("check feature files' SHA-256 against the dataset manifests")
    .argument('<name-or-file>', 'a dataset name (mosi, sims, ...) or a pickle path')
    .option('--data-root <dir>', 'directory holding the MMSA dataset folders')
    .action(async (nameOrFile: string, o: { dataRoot?: string }) => {
      const { dataVerifyCommand } = await import('./data-commands.js');
      setCode(await dataVerifyCommand(nameOrFile, o, io));
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    throw err;
  }
  return code;
}
