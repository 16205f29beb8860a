// `npm run bench [-- NAME...]`: runs the benchmarks one after another, each in its own process so peak RSS and
// timings do not mix. Figures are printed, never asserted. Needs dist/ (the npm script builds it first).
//
//   npm run bench                 all of them (an hour or more: the training bench trains every zoo model's paper config,
//                                 and MMSA's too when MMSA_REFERENCE_RUNNER and MMSA_SRC are set)
//   npm run bench -- check pickle only those
//   npm run bench -- pickle --mosei   extra flags go to every selected bench

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Order: quick ones first, so an interrupted run still reports something.
const ALL = ['check', 'pickle', 'data', 'nn', 'nn-lstm', 'lstm-shapes', 'native', 'depression', 'bert', 'plan-vs-measured', 'tui', 'fuzz', 'train', 'tune'];
const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const unknown = names.filter((n) => !ALL.includes(n));
if (unknown.length) {
  console.error(`unknown bench ${unknown.join(', ')}; available: ${ALL.join(', ')}`);
  process.exit(2);
}
const selected = (names.length ? names : ALL).filter((n) => existsSync(join(root, 'bench', `${n}.mjs`)));
let failed = 0;
for (const name of selected) {
  console.log(`\n=== bench ${name} ===`);
  const r = spawnSync(process.execPath, [join(root, 'bench', `${name}.mjs`), ...flags], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`bench ${name} exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed ? 1 : 0);
