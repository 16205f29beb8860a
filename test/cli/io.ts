// A captured Io for driving `main(argv, io)` in tests.
import type { Io } from '../../src/cli/main.js';

export interface CapturedIo extends Io {
  stdout: () => string;
  stderr: () => string;
}

export function captureIo(cwd: string, env: NodeJS.ProcessEnv = {}): CapturedIo {
  let out = '';
  let err = '';
  return {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    cwd,
    env,
    isTTY: false,
    stdout: () => out,
    stderr: () => err,
  };
}
