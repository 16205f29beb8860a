// Benchmark of the compiler front end (phases 0-5): the CLI's cold start (`node bin/mmsa.js check` on a paper config,
// median of 20 fresh processes), then `mmsa check` on every paper config in-process (first call, then warm).
// Plain JS over dist/ (`npm run bench -- check` builds it, bundle included). Target: a cold `mmsa check` under 300 ms.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
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

// Cold starts first, before this process warms the page cache any further than the first run does. Bundled (what
// `mmsa` runs after a build: dist/bundle) and unbundled (MMSA_BUNDLE=0: dist/cli, one module per file) alternate, so
// both see the same machine.
const COLD = 20;
const coldFile = 'pipelines/lmf_mosi.yaml';
const bundled = existsSync(join(root, 'dist/bundle/main.js'));
const coldRun = (env) => {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['bin/mmsa.js', 'check', coldFile], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`node bin/mmsa.js check exited ${r.status}: ${r.stderr}`);
  return performance.now() - t;
};
const runs = [];
const unbundledRuns = [];
for (let i = 0; i < COLD + 1; i++) {
  const a = coldRun({});
  const b = coldRun({ MMSA_BUNDLE: '0' });
  // The first round only warms the page cache (a developer's second `mmsa check` finds the files cached too).
  if (i > 0) {
    runs.push(a);
    unbundledRuns.push(b);
  }
}
const cold = median(runs);
const sorted = [...runs].sort((a, b) => a - b);
console.log(`mmsa check cold start: node bin/mmsa.js check ${coldFile}${bundled ? '' : ' (no dist/bundle: esbuild-wasm not installed?)'}`);
console.log(`  median of ${COLD} cold starts: ${ms(cold)} (min ${ms(sorted[0])}, max ${ms(sorted[sorted.length - 1])}; load average ${loadavg()[0].toFixed(1)})`);
console.log(`  unbundled (MMSA_BUNDLE=0), alternating with it: median ${ms(median(unbundledRuns))}; bundled/unbundled ${(cold / median(unbundledRuns)).toFixed(2)}x`);
console.log(`  target under 300 ms -> ${cold < 300 ? 'met' : 'NOT met'}`);

let t0 = performance.now();
const { main } = await import(pathToFileURL(distMain).href);
const importMs = performance.now() - t0;

console.log(`\nin-process (${configs.length} paper configs, node ${process.version})`);
console.log(`  import dist/cli/main.js: ${ms(importMs)}`);
if (bundled) {
  // A child process: this one has already loaded the modules the bundle shares with dist/cli.
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(join(root, 'dist/bundle/main.js')).href)}); console.log(performance.now() - t);`], { encoding: 'utf8' });
  console.log(`  import dist/bundle/main.js (fresh process): ${ms(Number(r.stdout.trim()))}`);
}

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

