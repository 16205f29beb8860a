// The `mmsa` command line: builds commander from the options table (options.ts) and dispatches to one command module
// each. Exit codes (EXIT_CODES_HELP): 0 ok, 1 errors found (or the command failed), 2 usage error, 74 output not
// writable, 130 / 143 stopped by Ctrl-C / SIGTERM.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import { checkCommand, compileCommand, planCommand, schemaCommand } from './compiler-commands.js';
import { COMMANDS, didYouMean, type CommandSpec, type OptionSpec } from './options.js';

export interface Io {
  out(s: string): void;
  err(s: string): void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
  /** Whether stderr is a terminal (progress bars); defaults to isTTY. */
  errIsTTY?: boolean;
  /** The terminal streams, for the Ink TUI (absent in tests and embedding: the TUI is then never chosen). */
  terminal?: { stdout: NodeJS.WriteStream; stderr?: NodeJS.WriteStream };
}

export const processIo = (): Io => ({
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  cwd: process.cwd(),
  env: process.env,
  isTTY: Boolean(process.stdout.isTTY),
  errIsTTY: Boolean(process.stderr.isTTY),
  terminal: { stdout: process.stdout, stderr: process.stderr },
});

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export const EXIT_CODES_HELP = `
Exit codes:
  0    ok
  1    errors found, or the command failed (a run that failed or died)
  2    usage error
  74   an output could not be written (disk full, read-only or not writable: the message names the path)
  130  stopped by Ctrl-C (the run is marked interrupted)
  143  stopped by SIGTERM (the run is marked interrupted)
`;

type Opts = Record<string, unknown>;
/** Receives the positional arguments (in table order) and the parsed options; returns the exit code. */
type Handler = (args: unknown[], o: Opts, io: Io) => number | Promise<number>;

const HANDLERS: Record<string, Handler> = {
  check: (a, o, io) => checkCommand(a[0] as string[], o as { format: 'text' | 'json'; dataRoot?: string }, io),
  plan: (a, o, io) => planCommand(a[0] as string, o as { format: 'text' | 'json' }, io),
  compile: (a, o, io) => compileCommand(a[0] as string, o as { emit: 'spec' | 'ir' }, io),
  schema: (_a, o, io) => schemaCommand(o as { what: 'pipeline' | 'preset' | 'dataset' | 'resolved' }, io),
  // The DSL tools load chevrotain: imported on use, like the runtime commands.
  fmt: async (a, o, io) => (await import('./dsl-commands.js')).fmtCommand(a[0] as string[], o, io),
  convert: async (a, o, io) => (await import('./dsl-commands.js')).convertCommand(a[0] as string, o, io),
  init: async (_a, o, io) => (await import('./report-commands.js')).initCommand(o, io),
  run: async (a, o, io) => (await import('./report-commands.js')).runWithReporter((a[0] as string[] | undefined) ?? [], o, io),
  tune: async (a, o, io) => (await import('./tune-commands.js')).tuneCommand(a[0] as string, o, io),
  worker: async (_a, o, io) => (await import('./queue-commands.js')).workerCommand(o, io),
  status: async (_a, o, io) => (await import('./queue-commands.js')).statusCommand(o, io),
  predict: async (a, o, io) => (await import('./run-commands.js')).predictCommand(a[0] as string, o, io),
  evaluate: async (a, o, io) => (await import('./run-commands.js')).evaluateCommand(a[0] as string, o, io),
  import: async (a, o, io) => (await import('./import-commands.js')).importCommand(a[0] as string, o, io),
  watch: async (a, o, io) => (await import('./report-commands.js')).watchCommand(a[0] as string, o, io),
  report: async (a, o, io) => (await import('./report-commands.js')).reportCommand(a[0] as string[], o, io),
  compare: async (a, o, io) => (await import('./report-commands.js')).compareCommand(a[0] as string[], o, io),
  'data inspect': async (a, o, io) => (await import('./data-commands.js')).dataInspectCommand(a[0] as string, o as { format: 'text' | 'json' }, io),
  'data verify': async (a, o, io) => (await import('./data-commands.js')).dataVerifyCommand(a[0] as string, o, io),
};

/** An option from the table; choices are checked by our parser so a typo gets "did you mean". */
export function buildOption(spec: OptionSpec): Option {
  const desc = spec.defaultDescription && spec.default === undefined ? `${spec.description} (default: ${spec.defaultDescription})` : spec.description;
  const opt = new Option(spec.flags, desc);
  const choices = spec.choices;
  if (choices) {
    opt.argParser((v: string) => {
      if (choices.includes(v)) return v;
      const guess = didYouMean(v, choices);
      throw new InvalidArgumentError(`Allowed choices are ${choices.join(', ')}.${guess ? ` Did you mean '${guess}'?` : ''}`);
    });
    // Listed in help like commander's own .choices().
    opt.argChoices = [...choices];
  }
  if (spec.repeatable) opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
  if (spec.default !== undefined) opt.default(spec.default, spec.defaultDescription);
  return opt;
}

function addCommand(parent: Command, spec: CommandSpec, path: string[], io: Io, setCode: (c: number) => void): void {
  const cmd = parent.command(spec.name).description(spec.description);
  for (const a of spec.args) {
    const name = a.variadic ? `${a.name}...` : a.name;
    cmd.argument(a.optional ? `[${name}]` : `<${name}>`, a.description);
  }
  for (const o of spec.options) cmd.addOption(buildOption(o));
  if (spec.examples?.length) cmd.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}\n`);
  const full = [...path, spec.name];
  if (spec.subcommands?.length) {
    for (const s of spec.subcommands) addCommand(cmd, s, full, io, setCode);
    return;
  }
  const handler = HANDLERS[full.join(' ')];
  if (!handler) throw new Error(`no handler for command '${full.join(' ')}' of the options table`);
  cmd.action(async (...xs: unknown[]) => {
    const args = xs.slice(0, spec.args.length);
    const o = xs[spec.args.length] as Opts;
    setCode(await handler(args, o, io));
  });
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let code = 0;
  const setCode = (c: number) => {
    code = Math.max(code, c);
  };
  const program = new Command('mmsa')
    .description('Multimodal sentiment analysis pipelines: check, plan, compile, run, watch, report and compare them.')
    .version(version(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  program.addHelpText('after', EXIT_CODES_HELP);
  for (const spec of COMMANDS) addCommand(program, spec, [], io, setCode);
  // Subcommands inherit exit and output handling so `mmsa data bogus` is a usage error too.
  const walk = (c: Command) => {
    for (const s of c.commands) {
      s.exitOverride().configureOutput({ writeOut: (x) => io.out(x), writeErr: (x) => io.err(x) }).showSuggestionAfterError(true);
      walk(s);
    }
  };
  walk(program);

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
