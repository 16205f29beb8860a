// Fuzzes mmsa's readers of untrusted input: thousands of mutated pickles, YAML specs and .mmsa files, each read by
// the built package (dist/) in worker processes capped in address space, with a time limit per input. Prints inputs
// tried, crashes, hangs, peak RSS and unlocated errors per kind, and keeps every failing input for replay.
//
// usage: node bench/fuzz.mjs [--n 6000] [--seed 1] [--timeout-ms 10000] [--kinds pickle,yaml,mmsa] [--keep DIR]

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};

/** Address space of one worker (Node reserves ~0.9 GiB of it; a bomb that escapes the budgets dies here). */
const WORKER_AS = 2 * 1024 ** 3;
/** Largest mutated input. */
const MAX_INPUT = 2 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------- worker

async function worker(listFile) {
  const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
  const { readPickle, NDArray } = await dist('runtime/data/pickle/read-pickle.js');
  const { toNumeric } = await dist('runtime/data/load-dataset.js');
  const { compileFile } = await dist('compiler/compile.js');
  const { loadDslFrontEnd } = await dist('compiler/syntax/parse-file.js');
  await loadDslFrontEnd();
  const { MmsaError } = await dist('errors.js');
  const items = JSON.parse(readFileSync(listFile, 'utf8'));
  const send = (m) => new Promise((res) => process.send(m, res));
  for (const { i, file, kind } of items) {
    await send({ type: 'start', i });
    const t0 = performance.now();
    const out = { type: 'done', i, outcome: 'ok' };
    try {
      if (kind === 'pickle') {
        const v = await readPickle(file);
        // What `mmsa run` does next with each value: turn it into numbers.
        const todo = [v];
        let seen = 0;
        while (todo.length > 0 && seen < 10_000) {
          const x = todo.pop();
          seen++;
          if (x instanceof Map) for (const y of x.values()) todo.push(y);
          else if (Array.isArray(x) || x instanceof NDArray) toNumeric(x);
        }
      } else {
        const r = compileFile(file, { env: {} });
        const errors = r.diagnostics.filter((d) => d.severity === 'error');
        if (errors.length > 0) out.outcome = 'error';
        const text = (f) => r.host.get(f)?.text;
        for (const d of r.diagnostics) {
          const t = text(d.span.file);
          const bad = t === undefined || d.span.start < 0 || d.span.end > t.length || d.span.start > d.span.end || d.message.trim() === '';
          // A span at the very start of a non-empty file that is not about the whole file says nothing about where.
          const nowhere = d.span.start === 0 && d.span.end === 0 && t !== undefined && t.length > 0 && !['MSA1004', 'MSA1005'].includes(d.code);
          if (bad || nowhere) {
            out.outcome = 'unlocated';
            out.code = d.code;
            out.message = d.message.slice(0, 300);
            break;
          }
        }
      }
    } catch (e) {
      if (e instanceof MmsaError) {
        out.code = e.code;
        out.message = e.message.slice(0, 300);
        if (e.details?.internal) out.outcome = 'internal';
        else if (kind === 'pickle' && typeof e.details?.offset !== 'number' && e.code !== 'MSA6022') out.outcome = 'unlocated';
        else out.outcome = 'error';
      } else {
        out.outcome = 'internal';
        out.message = String(e?.stack ?? e).slice(0, 600);
      }
    }
    out.ms = performance.now() - t0;
    out.rssMiB = process.resourceUsage().maxRSS / 1024;
    await send(out);
  }
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------- corpus

const PY_SEEDS = String.raw`
import pickle, sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(7)
def split(n):
    return {
        'id': [f'clip_{i}$_$0' for i in range(n)],
        'raw_text': np.array([f'text number {i}' for i in range(n)]),
        'audio': rng.standard_normal((n, 6, 5)).astype(np.float32),
        'audio_lengths': np.arange(1, n + 1) % 6 + 1,
        'vision': rng.standard_normal((n, 4, 3)).astype(np.float64),
        'vision_lengths': [int(x) for x in (np.arange(n) % 4 + 1)],
        'text_bert': np.ones((n, 3, 5), dtype=np.int64),
        'regression_labels': rng.uniform(-3, 3, n).astype(np.float32),
        'flags': np.arange(n) % 2 == 0,
        'nested': [[float(i), float(i + 1)] for i in range(n)],
        'meta': {'name': 'seed', 'tuple': (1, 2.5, 'x'), 'set': {1, 2}, 'big': 2 ** 70},
    }
d = {'train': split(6), 'valid': split(3), 'test': split(3)}
for p in (2, 3, 4, 5):
    with open(f'{out}/seed-p{p}.pkl', 'wb') as f:
        pickle.dump(d, f, protocol=p)
shared = [0.5] * 8
with open(f'{out}/seed-shared.pkl', 'wb') as f:
    pickle.dump({'train': {'audio': [shared] * 6, 'ids': ['a'] * 6}}, f, protocol=4)
`;

function pickleSeeds(dir) {
  const r = spawnSync('python3', ['-c', PY_SEEDS, dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`(python3 with numpy unavailable: ${r.stderr.trim().split('\n').pop()}; using one built-in seed)`);
    // {'train': {'audio': [0.5, 1.5], 'id': ['a', 'b']}} in protocol 4, written by hand.
    const b = [0x80, 4, 0x7d, 0x94, 0x8c, 5, ...Buffer.from('train'), 0x94, 0x7d, 0x94, 0x28, 0x8c, 5, ...Buffer.from('audio'), 0x5d, 0x28];
    const f = (x) => { const z = Buffer.alloc(8); z.writeDoubleBE(x); return [0x47, ...z]; };
    b.push(...f(0.5), ...f(1.5), 0x65, 0x8c, 2, ...Buffer.from('id'), 0x5d, 0x28, 0x8c, 1, 0x61, 0x8c, 1, 0x62, 0x65, 0x75, 0x73, 0x2e);
    writeFileSync(join(dir, 'seed-builtin.pkl'), Buffer.from(b));
  }
  return readdirSync(dir).filter((f) => f.endsWith('.pkl')).map((f) => readFileSync(join(dir, f)));
}

function specSeeds(ext) {
  const dirs = ['pipelines', 'pipelines/presets', 'pipelines/datasets'];
  const out = [];
  for (const d of dirs) for (const f of readdirSync(join(root, d))) if (f.endsWith(ext)) out.push(readFileSync(join(root, d, f)));
  return out;
}

// Fragments that reach the interesting paths of each reader.
const PICKLE_FRAGS = [
  [0x68, 0], [0x68, 1], [0x6a, 0, 0, 0, 0], [0x28], [0x28, 0x28, 0x28], [0x5d], [0x7d], [0x65], [0x75], [0x73], [0x61], [0x94], [0x71, 0],
  [0x30], [0x31], [0x32], [0x74], [0x29], [0x85], [0x86], [0x87], [0x52], [0x62], [0x81], [0x93], [0x8f], [0x90], [0x91], [0x97], [0x98],
  [0x8c, 3, 0x6f, 0x73, 0x0a], [0x63, ...Buffer.from('os\nsystem\n')], [0x63, ...Buffer.from('builtins\nlist\n')], [0x8a, 9, 1, 2, 3, 4, 5, 6, 7, 8, 0x80],
  [0x42, 0xff, 0xff, 0xff, 0x7f], [0x8e, 0, 0, 0, 0, 0, 0, 0, 0x10], [0x58, 0xff, 0xff, 0xff, 0xff], [0x95, 0, 0, 0, 0, 0, 0, 0, 0x10], [0x4b, 0x1b],
];
const TEXT_FRAGS = [
  '&a ', '*a', '*b ', '&b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', '[', ']', '{', '}', '(', ')', '<<: ', 'extends: ', 'extends ', '\u001b[2J', '"', "'",
  '\n  ', '\n', ': ', ', ', '- ', '${HOME}', '${X:-', '#', '//', '\\u12', '1e309', '.nan', '-.inf', 'dataset: {name: ../../etc/x}', 'manifest: /etc/passwd',
  'pipeline p {', 'encoder text: bert {', '!!python/object ', '%YAML 1.1\n', '---\n', '...\n', '\t', '\u202e', '@',
];

function mutate(seed, kind, rnd) {
  let b = Buffer.from(seed);
  const rounds = 1 + Math.floor(rnd() * 4);
  const pick = (n) => Math.floor(rnd() * n);
  for (let r = 0; r < rounds; r++) {
    const at = pick(b.length + 1);
    switch (pick(8)) {
      case 0: {
        // flip bytes
        const n = 1 + pick(8);
        for (let k = 0; k < n && b.length > 0; k++) b[pick(b.length)] = pick(256);
        break;
      }
      case 1: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + pick(64)))]);
        break;
      case 2: // truncate
        b = b.subarray(0, at);
        break;
      case 3: {
        // copy a chunk elsewhere
        const s = pick(b.length + 1);
        const chunk = b.subarray(s, Math.min(b.length, s + 1 + pick(256)));
        b = Buffer.concat([b.subarray(0, at), chunk, b.subarray(at)]);
        break;
      }
      case 4: {
        // repeat a small chunk many times (amplification)
        const s = pick(b.length + 1);
        const chunk = b.subarray(s, Math.min(b.length, s + 1 + pick(16)));
        const times = 10 + pick(kind === 'pickle' ? 20000 : 5000);
        b = Buffer.concat([b.subarray(0, at), Buffer.concat(Array(times).fill(chunk)), b.subarray(at)]);
        break;
      }
      case 5: {
        // insert reader-specific fragments, sometimes many
        const times = rnd() < 0.2 ? 1 + pick(2000) : 1;
        const frags = [];
        for (let k = 0; k < times; k++) {
          const f = kind === 'pickle' ? PICKLE_FRAGS[pick(PICKLE_FRAGS.length)] : TEXT_FRAGS[pick(TEXT_FRAGS.length)];
          frags.push(Buffer.from(f));
        }
        b = Buffer.concat([b.subarray(0, at), ...frags, b.subarray(at)]);
        break;
      }
      case 6: {
        // random bytes
        const n = 1 + pick(32);
        b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: n }, () => pick(256))), b.subarray(at)]);
        break;
      }
      default: {
        // swap two ranges
        const s = pick(b.length + 1);
        const len = pick(128);
        if (s + len <= b.length && at + len <= b.length) {
          const x = Buffer.from(b.subarray(s, s + len));
          b.copy(b, s, at, at + len);
          x.copy(b, at);
        }
      }
    }
    if (b.length > MAX_INPUT) b = b.subarray(0, MAX_INPUT);
  }
  return b;
}

// ---------------------------------------------------------------------------------------------------- driver

function runWorker(items, work, timeoutMs, results) {
  return new Promise((resolve) => {
    const listFile = join(work, `list-${items[0].i}.json`);
    writeFileSync(listFile, JSON.stringify(items));
    const child = spawn('prlimit', [`--as=${WORKER_AS}`, '--', process.execPath, fileURLToPath(import.meta.url), '--worker', listFile], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let running;
    let timer;
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-4000);
    });
    child.on('message', (m) => {
      if (m.type === 'start') {
        running = m.i;
        timer = setTimeout(() => {
          results.set(running, { outcome: 'hang', message: `no result after ${timeoutMs} ms` });
          child.kill('SIGKILL');
        }, timeoutMs);
      } else {
        clearTimeout(timer);
        results.set(m.i, m);
        running = undefined;
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (running !== undefined && !results.has(running)) {
        results.set(running, { outcome: 'crash', message: `worker died (${code ?? signal}): ${stderr.trim().split('\n').slice(-3).join(' | ')}` });
      }
      resolve();
    });
  });
}

async function main() {
  if (args[0] === '--worker') return worker(args[1]);
  const total = Number(arg('n', '6000'));
  const seed = Number(arg('seed', '1'));
  const timeoutMs = Number(arg('timeout-ms', '10000'));
  const kinds = arg('kinds', 'pickle,yaml,mmsa').split(',');
  const keep = arg('keep', join(tmpdir(), 'mmsa-fuzz-failures'));
  const work = mkdtempSync(join(tmpdir(), 'mmsa-fuzz-'));
  // The runtime's own seeded PRNG: a failing input replays from its --seed.
  const { Rng } = await import(pathToFileURL(join(root, 'dist/runtime/random.js')).href);
  const rng = new Rng(seed);
  const rnd = () => rng.nextFloat();
  const seeds = {
    pickle: kinds.includes('pickle') ? pickleSeeds(mkdtempSync(join(work, 'seeds-'))) : [],
    yaml: kinds.includes('yaml') ? specSeeds('.yaml') : [],
    mmsa: kinds.includes('mmsa') ? specSeeds('.mmsa') : [],
  };
  // Half the inputs are pickles: the reader of the largest and most hostile files.
  const share = { pickle: 0.5, yaml: 0.3, mmsa: 0.2 };
  const norm = kinds.reduce((a, k) => a + share[k], 0);
  const items = [];
  for (const kind of kinds) {
    const n = Math.round((total * share[kind]) / norm);
    const ext = kind === 'pickle' ? 'pkl' : kind;
    const dir = join(work, kind);
    mkdirSync(dir, { recursive: true });
    for (let k = 0; k < n; k++) {
      const s = seeds[kind][Math.floor(rnd() * seeds[kind].length)];
      const file = join(dir, `${k}.${ext}`);
      writeFileSync(file, mutate(s, kind, rnd));
      items.push({ i: items.length, file, kind });
    }
  }
  console.log(`fuzz: ${items.length} inputs (${kinds.map((k) => `${items.filter((x) => x.kind === k).length} ${k}`).join(', ')}), seed ${seed}, ${timeoutMs} ms per input, workers capped at ${WORKER_AS / 1024 ** 3} GiB of address space`);
  const results = new Map();
  const t0 = performance.now();
  let next = 0;
  // Two workers (the machine has two cores); a worker that hangs or dies is replaced from the next input on.
  const lanes = [0, 1].map(async () => {
    while (next < items.length) {
      const batch = items.slice(next, next + 200);
      next += batch.length;
      let rest = batch;
      while (rest.length > 0) {
        await runWorker(rest, work, timeoutMs, results);
        rest = rest.filter((x) => !results.has(x.i));
      }
    }
  });
  await Promise.all(lanes);
  const seconds = (performance.now() - t0) / 1000;

  const rows = [['kind', 'inputs', 'read', 'located errors', 'unlocated', 'internal', 'crashes', 'hangs', 'peak RSS MiB', 'slowest ms']];
  const bad = [];
  for (const kind of kinds) {
    const rs = items.filter((x) => x.kind === kind).map((x) => ({ ...results.get(x.i), item: x }));
    const count = (o) => rs.filter((r) => r.outcome === o).length;
    rows.push([
      kind,
      rs.length,
      count('ok'),
      count('error'),
      count('unlocated'),
      count('internal'),
      count('crash'),
      count('hang'),
      Math.max(0, ...rs.map((r) => r.rssMiB ?? 0)).toFixed(0),
      Math.max(0, ...rs.map((r) => r.ms ?? 0)).toFixed(0),
    ]);
    for (const r of rs) if (['unlocated', 'internal', 'crash', 'hang'].includes(r.outcome)) bad.push(r);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const r of rows) console.log(r.map((x, c) => String(x).padStart(widths[c])).join('  '));
  console.log(`${items.length} inputs in ${seconds.toFixed(0)} s`);
  if (bad.length > 0) {
    mkdirSync(keep, { recursive: true });
    for (const r of bad) writeFileSync(join(keep, `${r.outcome}-${basename(r.item.file)}`), readFileSync(r.item.file));
    console.log(`${bad.length} problem input(s) kept in ${keep}; first ones:`);
    for (const r of bad.slice(0, 10)) console.log(`  ${r.outcome} ${r.item.kind} ${basename(r.item.file)}: ${r.code ?? ''} ${(r.message ?? '').split('\n')[0]}`);
  } else {
    console.log('no crashes, hangs, internal or unlocated errors');
  }
  rmSync(work, { recursive: true, force: true });
}

await main();
