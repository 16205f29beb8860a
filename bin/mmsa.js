#!/usr/bin/env node
// Entry point of the `mmsa` command: checks the Node.js version, then runs the compiled CLI. The CLI is imported only
// after the check, so an old Node gets a clear message instead of a failed import. It runs the bundle in dist/bundle
// (scripts/bundle-cli.mjs: a few chunks start faster than ~90 modules) while dist/cli/main.js is the file it was made
// from, and dist/cli/main.js otherwise (tsc rewrites every output, so after a `tsc` without the bundle step), so it
// never runs stale code. MMSA_BUNDLE=0 runs dist/cli/main.js regardless (stack traces then name the dist/ modules).
import { readFileSync, statSync } from 'node:fs';
import { nodeVersionProblem } from '../dist/node-version.js';

const problem = nodeVersionProblem();
if (problem) {
  process.stderr.write(problem);
  process.exit(1);
}

function bundleIsFresh() {
  if (process.env.MMSA_BUNDLE === '0') return false;
  const root = new URL('../', import.meta.url);
  try {
    const { entry } = JSON.parse(readFileSync(new URL('dist/bundle/inputs.json', root), 'utf8'));
    const st = statSync(new URL(entry.file, root));
    return st.size === entry.size && st.mtimeMs === entry.mtimeMs;
  } catch {
    return false;
  }
}

const { main } = await import(bundleIsFresh() ? '../dist/bundle/main.js' : '../dist/cli/main.js');
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.stack : err); process.exitCode = 70; },
);
