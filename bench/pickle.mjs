// Benchmark of the streaming pickle reader vs Python's pickle.load on an MMSA-sized feature file (MOSI by default,
// MOSEI with --mosei). Needs `npx tsc -p tsconfig.build.json` first (imports dist/). Prints wall time, MB/s, peak RSS.
//
// usage: node bench/pickle.mjs [--mosei] [--aligned] [--file some.pkl] [--native]

import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { synthFile } from './synth-cache.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const args = process.argv.slice(2);

async function child(file, native) {
  const mod = await import(pathToFileURL(path.join(repoRoot, 'dist/runtime/data/pickle/read-pickle.js')).href);
  const t0 = performance.now();
  const opts = native ? { floatAs: 'native', intAs: 'native' } : {};
  const root = await mod.readPickle(file, opts);
  const ms = performance.now() - t0;
  let kept = 0;
  let arrays = 0;
  const todo = [root];
  while (todo.length) {
    const v = todo.pop();
    if (v instanceof mod.NDArray) {
      arrays++;
      if (!Array.isArray(v.data)) kept += v.data.byteLength;
    } else if (v instanceof Map) for (const x of v.values()) todo.push(x);
    else if (Array.isArray(v)) for (const x of v) if (typeof x === 'object' && x !== null) todo.push(x);
  }
  const maxRssKiB = process.resourceUsage().maxRSS;
  process.stdout.write(JSON.stringify({ ms, kept, arrays, maxRss: maxRssKiB * 1024 }));
}

const PY = String.raw`
import sys, time, pickle, resource, json
t0 = time.perf_counter()
import numpy
t1 = time.perf_counter()
with open(sys.argv[1], 'rb') as f:
    d = pickle.load(f)
t2 = time.perf_counter()
kept = 0
todo = [d]
while todo:
    v = todo.pop()
    if isinstance(v, numpy.ndarray):
        if v.dtype != object: kept += v.nbytes
    elif isinstance(v, dict): todo.extend(v.values())
    elif isinstance(v, (list, tuple)): todo.extend(x for x in v if isinstance(x, (dict, list, tuple, numpy.ndarray)))
print(json.dumps({'ms': (t2 - t1) * 1000, 'import_ms': (t1 - t0) * 1000, 'kept': kept,
                  'maxRss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
`;

function mb(n) {
  return (n / 1e6).toFixed(1);
}

async function main() {
  if (args[0] === '--child') return child(args[1], args[2] === 'native');
  const dist = path.join(repoRoot, 'dist/runtime/data/pickle/read-pickle.js');
  if (!existsSync(dist)) {
    console.error(`missing ${dist}: run "npx tsc -p tsconfig.build.json" first`);
    process.exit(2);
  }
  const mosei = args.includes('--mosei');
  const aligned = args.includes('--aligned');
  const native = args.includes('--native');
  let file;
  const fi = args.indexOf('--file');
  if (fi >= 0 && args[fi + 1]) file = path.resolve(args[fi + 1]);
  else {
    file = synthFile(mosei ? 'mosei' : 'mosi', { aligned });
  }
  const size = statSync(file).size;
  console.log(`file: ${file} (${mb(size)} MB)`);
  // Warm the page cache so both readers see the same conditions.
  spawnSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] });

  const runNode = () => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', file, native ? 'native' : 'default'], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    const wall = performance.now() - t0;
    if (r.status !== 0) throw new Error(`node child failed: ${r.stderr}`);
    return { ...JSON.parse(r.stdout), wall };
  };
  const runPy = () => {
    const t0 = performance.now();
    const r = spawnSync('python3', ['-c', PY, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const wall = performance.now() - t0;
    if (r.status !== 0) throw new Error(`python child failed: ${r.stderr}`);
    return { ...JSON.parse(r.stdout), wall };
  };
  // Interleaved runs (the machine may be noisy); the best parse time of each reader is shown, all runs listed.
  const RUNS = 3;
  const oursRuns = [];
  const pyRuns = [];
  for (let i = 0; i < RUNS; i++) {
    oursRuns.push(runNode());
    pyRuns.push(runPy());
  }
  const best = (rs) => rs.reduce((a, b) => (a.ms <= b.ms ? a : b));
  const o = best(oursRuns);
  const p = best(pyRuns);
  const rows = [
    ['reader', 'parse ms', 'process wall ms', 'MB/s (parse)', 'peak RSS MB', 'kept arrays MB', 'RSS / kept'],
    [
      `mmsa readPickle (${native ? 'native' : 'float32/number'})`,
      o.ms.toFixed(0),
      o.wall.toFixed(0),
      (size / 1e6 / (o.ms / 1000)).toFixed(0),
      mb(o.maxRss),
      mb(o.kept),
      (o.maxRss / o.kept).toFixed(2),
    ],
    ['python pickle.load', p.ms.toFixed(0), p.wall.toFixed(0), (size / 1e6 / (p.ms / 1000)).toFixed(0), mb(p.maxRss), mb(p.kept), (p.maxRss / p.kept).toFixed(2)],
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const r of rows) console.log(r.map((x, c) => String(x).padStart(widths[c])).join('  '));
  console.log(
    `ratios: parse time python/ours = ${(p.ms / o.ms).toFixed(2)}x, wall python/ours = ${(p.wall / o.wall).toFixed(2)}x, ` +
      `peak RSS ours/python = ${(o.maxRss / p.maxRss).toFixed(2)}, ours RSS/kept = ${(o.maxRss / o.kept).toFixed(2)} (target <= 1.3)`,
  );
  const list = (rs) => rs.map((r) => `${r.ms.toFixed(0)}`).join(' / ');
  console.log(`parse ms per run: ours ${list(oursRuns)}; python ${list(pyRuns)} (best shown; python import numpy ${p.import_ms.toFixed(0)} ms not in parse)`);
}

await main();
