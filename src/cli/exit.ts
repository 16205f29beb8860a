// Exit codes of the CLI commands: a usage error (2), a located MmsaError (1, or EXIT_IO when the output could not be
// written); anything else is a bug and propagates. CLI plumbing shared by the command modules.

import { MmsaError } from '../errors.js';
import { EXIT_IO, isOutputError } from '../runtime/fs-errors.js';
import type { Io } from './main.js';

export function usage(io: Io, msg: string): number {
  io.err(`error: ${msg}\n`);
  return 2;
}

export function failed(io: Io, e: unknown): number {
  if (e instanceof MmsaError) {
    io.err(`${e.format()}\n`);
    return isOutputError(e) ? EXIT_IO : 1;
  }
  throw e;
}
