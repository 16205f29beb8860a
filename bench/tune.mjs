// Benchmark: a search of 16 trials of LMF (MMSA's tuning space, `--preset mmsa`, random, one seed) on MOSI-sized
// synthetic data (bench/synth-cache.mjs), run three ways one after another in one session, each from scratch (its own
// runs/ and worker caches, so nothing is reused): `mmsa tune --jobs 1`, `--jobs 2`, and two `mmsa worker` processes
// (--concurrency 1 --threads 1) on a BullMQ queue in a local redis-server. Prints the wall time of each command and,
// per trial, the overhead around the run: the trial's wall time on the submitter minus its run's own time (run.start
// to run.end of its seed: compiling the job, loading the data, process and queue hand-offs are the overhead).
// Run: npm run bench -- tune      Env: BENCH_TUNE_TRIALS (16), BENCH_TUNE_EPOCHS (2 per trial), BENCH_TUNE_ONLY
// ('jobs1|jobs2|redis'). Needs Debian's redis-server for the queue part (skipped with the reason without it).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../dist/paths.js';
import { synthFile, synthRoot } from './synth-cache.mjs';

const TRIALS = Number(process.env.BENCH_TUNE_TRIALS ?? 16);
const EPOCHS = Number(process.env.BENCH_TUNE_EPOCHS ?? 2);
const only = process.env.BENCH_TUNE_ONLY?.split('|');
const root = packageRoot();
const bin = join(root, 'bin', 'mmsa.js');
const work = mkdtempSync(join(tmpdir(), 'mmsa-bench-tune-'));

synthFile('mosi');
const spec = join(work, 'lmf_tune_bench.yaml');
writeFileSync(
  spec,
  [
    '# LMF on MOSI-sized synthetic data, few epochs per trial: the search, not the model, is measured.',
    'version: 1',
    `extends: ${JSON.stringify(join(root, 'pipelines', 'lmf_mosi.yaml'))}`,
    'name: bench_lmf_tune',
    `dataset: {name: mosi, file: unaligned_50, root: ${JSON.stringify(synthRoot)}}`,
    `train: {max_epochs: ${EPOCHS}}`,
    'seeds: [1111]',
    '',
  ].join('\n'),
);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

/** Runs `mmsa tune` with NDJSON events; returns the wall seconds and the events. */
function tune(out, extra) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [bin, 'tune', spec, '--preset', 'mmsa', '--trials', String(TRIALS), '--out', out, '--reporter', 'ndjson', ...extra], {
    cwd: work,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const wall = (Date.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`mmsa tune ${extra.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return { wall, events: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

/** Per trial: its wall time on the submitter, its run's own time (run.start to run.end), and the difference. */
function analyse(events) {
  const trials = new Map();
  for (const e of events) {
    if (e.kind === 'trial.start') trials.set(e.trial, { start: e.t });
    else if (e.kind === 'trial.end' && trials.has(e.record.trial)) trials.get(e.record.trial).end = e.t;
    else if (e.kind === 'trial.event' && trials.has(e.trial)) {
      const x = trials.get(e.trial);
      if (e.event.kind === 'run.start') x.runStart = e.event.t;
      if (e.event.kind === 'run.end' && e.event.scope === 'seed') x.runEnd = e.event.t;
    }
  }
  const rows = [...trials.values()].filter((x) => x.end && x.runStart && x.runEnd);
  const first = Math.min(...rows.map((x) => x.start));
  const last = Math.max(...rows.map((x) => x.end));
  return {
    trials: rows.length,
    searchSeconds: (last - first) / 1000,
    runMs: median(rows.map((x) => x.runEnd - x.runStart)),
    overheadMs: median(rows.map((x) => x.end - x.start - (x.runEnd - x.runStart))),
  };
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(test, what, ms = 30_000) {
  const until = Date.now() + ms;
  while (!test()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Two workers on a throwaway redis-server (AOF, noeviction, as the README says), the search submitted to them. */
async function viaRedis(out) {
  const port = await freePort();
  const dir = join(work, 'redis');
  mkdirSync(dir, { recursive: true });
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  await waitFor(() => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG', 'redis-server');
  const url = `redis://127.0.0.1:${port}/0`;
  const workers = [0, 1].map((i) => {
    const w = spawn(process.execPath, [bin, 'worker', '--queue', url, '--concurrency', '1', '--threads', '1', '--cache', join(work, `worker-${i}`)], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
    w.log = '';
    w.stderr.on('data', (b) => (w.log += b));
    return w;
  });
  try {
    await waitFor(() => workers.every((w) => /^worker .* on redis:/m.test(w.log)), 'the workers');
    return tune(out, ['--queue', url]);
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r() : w.once('exit', r)))));
    redis.kill('SIGTERM');
    await new Promise((r) => (redis.exitCode !== null ? r() : redis.once('exit', r)));
  }
}

const hasRedis = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).status === 0;
const modes = [
  { name: 'jobs1', label: 'local --jobs 1 (2 threads)', run: (out) => tune(out, ['--jobs', '1']) },
  { name: 'jobs2', label: 'local --jobs 2 (1 thread each)', run: (out) => tune(out, ['--jobs', '2']) },
  { name: 'redis', label: '2 workers via Redis (1 thread each)', run: viaRedis, skip: hasRedis ? undefined : 'redis-server is not installed' },
].filter((m) => !only || only.includes(m.name));

console.log(`search: ${TRIALS} trials of LMF (--preset mmsa: random over MMSA's space), ${EPOCHS} epochs each, MOSI-sized synthetic data; ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(2)} at start`);
const results = [];
try {
  for (const m of modes) {
    if (m.skip) {
      console.log(`${m.label}: skipped (${m.skip})`);
      continue;
    }
    const { wall, events } = await m.run(join(work, m.name));
    const a = analyse(events);
    results.push({ ...m, wall, ...a });
    console.log(`${m.label}: wall ${wall.toFixed(1)} s (search ${a.searchSeconds.toFixed(1)} s, ${a.trials} trials); per trial: run ${(a.runMs / 1000).toFixed(2)} s, overhead ${a.overheadMs.toFixed(0)} ms (medians); load average now ${loadavg()[0].toFixed(2)}`);
  }
  const base = results.find((r) => r.name === 'jobs1');
  if (base) for (const r of results) console.log(`  ${r.label}: ${(r.wall / base.wall).toFixed(2)}x the wall time of --jobs 1; overhead ${((100 * r.overheadMs) / r.runMs).toFixed(0)}% of a trial's run`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
