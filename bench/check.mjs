// Benchmark of the compiler front end (phases 0-5): `mmsa check` on every paper config in-process (cold first call,
// then warm), and the CLI's start-up in a child process. Plain JS over dist/: run `npx tsc -p tsconfig.build.json` first.
// Target: well under a second for a CLI `check`.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const distMain = join(root, 'dist/cli/main.js');
if (!existsSync(distMain)) {
  console.error(`bench/check.mjs: ${distMain} is missing; run \`npx tsc -p tsconfig.build.json\` first`);
  process.exit(1);
}

const silentIo = { out: () => {}, err: () => {}, cwd: root, env: {}, isTTY: false };
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (x) => `${x.toFixed(1)} ms`;

// Paper configs: <model>_<dataset>.yaml (the demos run on synthetic data and are not paper configs).
const configs = readdirSync(join(root, 'pipelines'))
  .filter((f) => f.endsWith('.yaml') && !f.startsWith('demo_'))
  .sort()
  .map((f) => `pipelines/${f}`);

let t0 = performance.now();
const { main } = await import(pathToFileURL(distMain).href);
const importMs = performance.now() - t0;

console.log(`mmsa check benchmark (${configs.length} paper configs, node ${process.version})`);
console.log(`  import dist/cli/main.js: ${ms(importMs)}`);

const perFile = [];
for (const f of configs) {
  const times = [];
  for (let i = 0; i < 6; i++) {
    t0 = performance.now();
    const code = await main(['check', f], silentIo);
    times.push(performance.now() - t0);
    if (code !== 0) throw new Error(`mmsa check ${f} exited ${code}`);
  }
  perFile.push({ f, cold: times[0], warm: median(times.slice(1)) });
}
const w = Math.max(...configs.map((f) => f.length));
console.log(`  ${'config'.padEnd(w)}  ${'first'.padStart(10)}  ${'warm (median of 5)'.padStart(18)}`);
for (const p of perFile) console.log(`  ${p.f.padEnd(w)}  ${ms(p.cold).padStart(10)}  ${ms(p.warm).padStart(18)}`);
console.log(`  first call of the process (${perFile[0].f}): ${ms(perFile[0].cold)}`);
console.log(`  warm median over all configs: ${ms(median(perFile.map((p) => p.warm)))}`);

t0 = performance.now();
const all = await main(['check', ...configs], silentIo);
console.log(`  check of all ${configs.length} configs in one call: ${ms(performance.now() - t0)} (exit ${all})`);

const runs = [];
for (let i = 0; i < 5; i++) {
  t0 = performance.now();
  const r = spawnSync(process.execPath, ['bin/mmsa.js', 'check', 'pipelines/self_mm_sims.yaml'], { cwd: root, encoding: 'utf8' });
  runs.push(performance.now() - t0);
  if (r.status !== 0) throw new Error(`node bin/mmsa.js check exited ${r.status}: ${r.stderr}`);
}
const cli = median(runs);
console.log(`  CLI: node bin/mmsa.js check pipelines/self_mm_sims.yaml: median ${ms(cli)} of 5 (${runs.map((x) => x.toFixed(0)).join(', ')} ms)`);
console.log(`  target: well under a second -> ${cli < 1000 ? 'met' : 'NOT met'}`);
