#!/usr/bin/env node
// Entry point of the `mmsa` command: runs the compiled CLI from dist/ (built by `npm install` via `prepare`).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.stack : err); process.exitCode = 70; },
);
