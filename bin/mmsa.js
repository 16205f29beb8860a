#!/usr/bin/env node
// Entry point of the `mmsa` command: checks the Node.js version, then runs the compiled CLI from dist/ (built by
// `npm install` via `prepare`). The CLI is imported only after the check, so an old Node gets a clear message instead
// of a failed import.
import { nodeVersionProblem } from '../dist/node-version.js';

const problem = nodeVersionProblem();
if (problem) {
  process.stderr.write(problem);
  process.exit(1);
}
const { main } = await import('../dist/cli/main.js');
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.stack : err); process.exitCode = 70; },
);
