// The BullMQ queue against a real Redis (Debian's redis-server) and real `mmsa worker` processes: two workers share a
// search, a worker SIGKILLed mid-trial leaves the trial to another (one result), a Redis restart mid-search is ridden
// out, a job of another mmsa version is refused with the reason. Trials are the tiny LMF demo (seconds each).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Job, Queue } from 'bullmq';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { tuneCommand } from '../../src/cli/tune-commands.js';
import { compileFile } from '../../src/compiler/compile.js';
import type { JsonValue } from '../../src/compiler/spec/spec-tree.js';
import { connectionOptions, jobIdOf, parseRedisUrl, QUEUE_NAME, QUEUE_PREFIX } from '../../src/queue/connection.js';
import { createQueueRunner } from '../../src/queue/queue-runner.js';
import { effectiveSpec, hashOf } from '../../src/runtime/run.js';
import { jobKey, localCompat, type RunJob } from '../../src/tune/run-job.js';
import { readTrials, type TuneEvent } from '../../src/tune/search.js';
import { startRedis, type TestRedis } from './redis.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SPEC = resolve(import.meta.dirname, '../fixtures/tune/tiny_tune.yaml');
const SPEC_B = resolve(import.meta.dirname, '../fixtures/tune/tiny_run_b.yaml');
const dir = mkdtempSync(join(tmpdir(), 'mmsa-queue-'));
const env = { ...process.env, MMSA_NATIVE: process.env['MMSA_NATIVE'] ?? 'auto', MMSA_THREADS: '1' };

interface TestWorker {
  proc: ChildProcess;
  log(): string;
  waitFor(re: RegExp, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

const live: TestWorker[] = [];
const redises: TestRedis[] = [];

/** A real `mmsa worker` process (the built CLI) with its own run cache. */
function startWorker(url: string, name: string, lockMs = 4000): TestWorker {
  const cache = join(dir, `cache-${name}`);
  const proc = spawn(process.execPath, [join(ROOT, 'bin/mmsa.js'), 'worker', '--queue', url, '--concurrency', '1', '--cache', cache], {
    cwd: dir,
    env: { ...env, MMSA_QUEUE_LOCK_MS: String(lockMs) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  proc.stdout!.on('data', (b: Buffer) => (text += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (text += b.toString()));
  const w: TestWorker = {
    proc,
    log: () => text,
    async waitFor(re, ms = 30_000) {
      const until = Date.now() + ms;
      while (!re.test(text)) {
        if (Date.now() > until) throw new Error(`worker ${name} did not log ${re} in ${ms} ms:\n${text}`);
        if (proc.exitCode !== null) throw new Error(`worker ${name} exited (${proc.exitCode}):\n${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      await new Promise<void>((r) => {
        proc.once('exit', () => r());
        proc.kill('SIGTERM');
      });
    },
  };
  live.push(w);
  return w;
}

async function redis(): Promise<TestRedis> {
  const r = await startRedis();
  redises.push(r);
  return r;
}

/** A fresh Redis with two workers connected to it. */
async function redisWithWorkers(nameA: string, nameB: string) {
  const r = await redis();
  const a = startWorker(r.url, nameA);
  const b = startWorker(r.url, nameB);
  await Promise.all([a.waitFor(/^worker .* on redis:/m), b.waitFor(/^worker .* on redis:/m)]);
  return { r, a, b };
}

function io(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), cwd, env, isTTY: false } };
}

/** Job keys a worker's log says it finished (`done <key> in ...`). */
const doneKeys = (log: string) => [...log.matchAll(/^done (\S+) in /gm)].map((m) => m[1]!);

afterEach(async () => {
  await Promise.all(live.splice(0).map((w) => w.stop()));
  await Promise.all(redises.splice(0).map((r) => r.dispose()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mmsa tune --queue with mmsa worker processes on a real Redis', () => {
  it('two workers share a search: every trial and the test run once, both workers take trials', async () => {
    const { r, a, b } = await redisWithWorkers('a', 'b');
    const cwd = mkdtempSync(join(dir, 'share-'));
    const s = io(cwd);
    const events: TuneEvent[] = [];
    const code = await tuneCommand(SPEC, { queue: r.url, reporter: 'plain', out: 'runs', signal: new AbortController().signal, onEvent: (e) => events.push(e) }, s.io);
    expect(code, s.err.join('') + a.log() + b.log()).toBe(0);
    const end = events.find((e) => e.kind === 'tune.end') as Extract<TuneEvent, { kind: 'tune.end' }>;
    expect(end.status).toBe('completed');
    const tuneDir = (events.find((e) => e.kind === 'tune.start') as Extract<TuneEvent, { kind: 'tune.start' }>).tuneDir;
    const trials = readTrials(tuneDir);
    expect(trials.map((t) => t.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    // Every trial's run reported its start and its end through the queue's event stream, the first trials in flight
    // (taken by a worker at once) and the last events before each job's completion included.
    for (const t of trials) {
      const seen = events.flatMap((e) => (e.kind === 'trial.event' && e.trial === t.trial ? [e.event] : []));
      expect(seen.some((e) => e.kind === 'run.start'), `trial ${t.trial}`).toBe(true);
      expect(seen.some((e) => e.kind === 'run.end' && e.scope === 'seed'), `trial ${t.trial}`).toBe(true);
    }
    // Both workers trained; no run was trained twice (4 trials + the test of best.yaml = 5 runs).
    const da = doneKeys(a.log());
    const db = doneKeys(b.log());
    expect(da.length, a.log()).toBeGreaterThan(0);
    expect(db.length, b.log()).toBeGreaterThan(0);
    expect(new Set([...da, ...db]).size).toBe(da.length + db.length);
    expect(da.length + db.length).toBe(5);
    // The run directories came back to the submitter's runs/ as complete runs.
    for (const t of trials) {
      const run = join(cwd, 'runs', t.seeds![0]!.runDir);
      expect(existsSync(join(run, 'manifest.json')), run).toBe(true);
      expect(JSON.parse(readFileSync(join(run, 'results.json'), 'utf8')).test).toEqual({});
    }
    expect(existsSync(join(tuneDir, 'best.yaml'))).toBe(true);
    expect(Object.keys(end.test!.aggregate)).toContain('MAE');
    // `mmsa status` sees the finished queue and both workers.
    const st = io(cwd);
    expect(await main(['status', '--queue', r.url], st.io)).toBe(0);
    expect(st.out.join('')).toMatch(/0 waiting, 0 running, 5 done, 0 failed/);
    expect(st.out.join('')).toMatch(/workers: .*-c1, .*-c1/);
    // It lists the finished jobs (here all five), each with the worker that ran it and when it finished.
    for (const [w, keys] of [[a, da], [b, db]] as const) {
      const name = new RegExp(`-${w.proc.pid}-c1`);
      for (const k of keys) {
        const line = st.out.join('').split('\n').find((l) => l.startsWith(`  done ${k} by `));
        expect(line, st.out.join('')).toMatch(name);
        expect(line).toMatch(/ at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      }
    }
    // The same as NDJSON: the counts, the workers and the finished jobs, newest first.
    const nd = io(cwd);
    expect(await main(['status', '--queue', r.url, '--reporter', 'ndjson'], nd.io)).toBe(0);
    const status = JSON.parse(nd.out.join('')) as { kind: string; counts: Record<string, number>; done: { key: string; worker: string; finishedOn: number }[] };
    expect(status.kind).toBe('queue.status');
    expect(status.counts['completed']).toBe(5);
    expect(status.done.map((d) => d.key).sort()).toEqual([...da, ...db].sort());
    expect(status.done.map((d) => d.finishedOn)).toEqual(status.done.map((d) => d.finishedOn).sort((x, y) => y - x));
  }, 120_000);

  it('a worker SIGKILLed mid-trial: the trial completes on another worker, with exactly one result', async () => {
    const r = await redis();
    const a = startWorker(r.url, 'killed', 3000);
    await a.waitFor(/^worker .* on redis:/m);
    const cwd = mkdtempSync(join(dir, 'kill-'));
    const s = io(cwd);
    let b: TestWorker | undefined;
    const events: TuneEvent[] = [];
    const code = await tuneCommand(SPEC, {
      queue: r.url, trials: 1, reporter: 'plain', out: 'runs', signal: new AbortController().signal,
      onEvent: (e) => {
        events.push(e);
        // The first training step of the trial: the worker is mid-trial. Kill it (and only then start another).
        if (!b && e.kind === 'trial.event' && e.event.kind === 'step.end') {
          a.proc.kill('SIGKILL');
          b = startWorker(r.url, 'rescuer', 3000);
        }
      },
    }, s.io);
    expect(code, s.err.join('') + a.log() + (b?.log() ?? '')).toBe(0);
    expect(a.proc.signalCode).toBe('SIGKILL');
    const trials = readTrials(events.length ? (events[0] as Extract<TuneEvent, { kind: 'tune.start' }>).tuneDir : '');
    expect(trials).toHaveLength(1);
    expect(trials[0]!.status).toBe('completed');
    // The trial's run directory is its job key (`<pipeline>/<hash>-<seed>`).
    const key = trials[0]!.seeds![0]!.runDir;
    // The killed worker never finished it; the other one did, once.
    expect(doneKeys(a.log())).toEqual([]);
    expect(doneKeys(b!.log()).filter((k) => k === key), a.log() + b!.log()).toHaveLength(1);
    // Exactly one result on the queue for the trial's job, and one completed trial line in trials.jsonl.
    const q = new Queue(QUEUE_NAME, { connection: connectionOptions(parseRedisUrl(r.url)), prefix: QUEUE_PREFIX });
    try {
      const job = await Job.fromId(q, jobIdOf(key));
      expect(await job!.getState()).toBe('completed');
      expect(job!.returnvalue.worker).toMatch(/-c1$/);
      expect(job!.returnvalue.worker).not.toContain(`-${a.proc.pid}-`);
      expect(await q.getJobCounts('completed', 'failed', 'active', 'waiting')).toEqual({ completed: 2, failed: 0, active: 0, waiting: 0 });
    } finally {
      await q.close();
    }
    const lines = readFileSync(join((events[0] as Extract<TuneEvent, { kind: 'tune.start' }>).tuneDir, 'trials.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { status: string });
    expect(lines.filter((l) => l.status === 'completed')).toHaveLength(1);
  }, 120_000);

  it('the submitter detaches (Ctrl-C), mmsa status --follow re-attaches, rerunning collects without training again', async () => {
    const { r, a, b } = await redisWithWorkers('d1', 'd2');
    const cwd = mkdtempSync(join(dir, 'detach-'));
    const ac = new AbortController();
    const events: TuneEvent[] = [];
    const s = io(cwd);
    const code = await tuneCommand(SPEC, {
      queue: r.url, jobs: 2, reporter: 'plain', out: 'runs', signal: ac.signal,
      onEvent: (e) => {
        events.push(e);
        // Detach mid-trial (its first training step), so the job is still running when status re-attaches.
        if (!ac.signal.aborted && e.kind === 'trial.event' && e.event.kind === 'step.end') ac.abort();
      },
    }, s.io);
    expect(code, s.err.join('')).toBe(130);
    const tuneDir = (events.find((e) => e.kind === 'tune.start') as Extract<TuneEvent, { kind: 'tune.start' }>).tuneDir;
    const left = readTrials(tuneDir).filter((t) => t.status === 'running');
    expect(left.length, 'a trial was in flight at the detach').toBeGreaterThanOrEqual(1);
    // The workers go on with the jobs left on the queue; status --follow prints them until the queue is idle.
    const st = io(cwd);
    expect(await main(['status', '--queue', r.url, '--follow'], st.io)).toBe(0);
    const followed = st.out.join('');
    expect(followed).toMatch(/^queue redis:.* 0 failed/m);
    expect(followed).toMatch(/^queue idle$/m);
    const before = [...doneKeys(a.log()), ...doneKeys(b.log())];
    // The trials in flight at the detach were finished by the workers meanwhile, and status saw each of them: still
    // running when it looked, completing while it followed, or (a fast worker) already among the jobs done.
    for (const t of left) {
      expect(before.some((k) => k.includes(`/${t.specHash}-`)), `${t.specHash} in ${before.join(', ')}`).toBe(true);
      expect(followed, followed).toMatch(new RegExp(`(running \\S+/${t.specHash}-\\d+: |\\S+/${t.specHash}-\\d+: completed$|^  done \\S+/${t.specHash}-\\d+ by )`, 'm'));
    }
    // Rerunning the command collects what the workers finished while detached and runs the rest: nothing twice.
    const s2 = io(cwd);
    expect(await tuneCommand(SPEC, { queue: r.url, reporter: 'plain', out: 'runs', signal: new AbortController().signal }, s2.io), s2.err.join('')).toBe(0);
    expect(readTrials(tuneDir).map((t) => t.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    const all = [...doneKeys(a.log()), ...doneKeys(b.log())];
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(5);
    for (const t of readTrials(tuneDir)) expect(existsSync(join(cwd, 'runs', t.seeds![0]!.runDir, 'results.json'))).toBe(true);
  }, 180_000);

  it('Redis restarted mid-search: workers and the submitter reconnect and the search finishes', async () => {
    const { r, a, b } = await redisWithWorkers('ra', 'rb');
    const cwd = mkdtempSync(join(dir, 'restart-'));
    const s = io(cwd);
    let restarted: Promise<void> | undefined;
    const ended: number[] = [];
    let endedBeforeUp = -1;
    const events: TuneEvent[] = [];
    const code = await tuneCommand(SPEC, {
      queue: r.url, reporter: 'plain', out: 'runs', signal: new AbortController().signal,
      onEvent: (e) => {
        events.push(e);
        if (e.kind === 'trial.end') ended.push(e.record.trial);
        if (!restarted && e.kind === 'trial.end') restarted = r.restart(1500).then(() => void (endedBeforeUp = ended.length));
      },
    }, s.io);
    await restarted;
    // Redis went away with trials still to run, and trials finished after it came back.
    expect(endedBeforeUp).toBeLessThan(4);
    expect(ended).toHaveLength(4);
    expect(a.log() + b.log()).toMatch(/queue connection: .*(ECONNREFUSED|Connection is closed)/);
    expect(code, s.err.join('') + a.log() + b.log()).toBe(0);
    const tuneDir = (events[0] as Extract<TuneEvent, { kind: 'tune.start' }>).tuneDir;
    expect(readTrials(tuneDir).map((t) => t.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(existsSync(join(tuneDir, 'best.yaml'))).toBe(true);
    // Both workers are still serving after the restart.
    expect(a.proc.exitCode).toBeNull();
    expect(b.proc.exitCode).toBeNull();
  }, 120_000);

  it('mmsa run FILE FILE --queue: every seed of both specs on the queue at once, a summary per spec', async () => {
    const r = await redis();
    const w = startWorker(r.url, 'runner');
    await w.waitFor(/^worker .* on redis:/m);
    const cwd = mkdtempSync(join(dir, 'run-'));
    const s = io(cwd);
    const code = await main(['run', SPEC, SPEC_B, '--queue', r.url, '--max-epochs', '1', '--reporter', 'ndjson', '--out', 'runs'], s.io);
    expect(code, s.err.join('') + w.log()).toBe(0);
    const ends = s.out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; scope?: string; pipeline?: string; seeds?: number[]; summaryPath?: string });
    const summaries = ends.filter((e) => e.kind === 'run.end' && e.scope === 'summary');
    expect(summaries.map((e) => [e.pipeline, e.seeds]).sort()).toEqual([['tiny_run_b', [1111, 1112]], ['tiny_tune', [1111]]]);
    for (const e of summaries) expect(existsSync(e.summaryPath!)).toBe(true);
    // --max-epochs went into the jobs' specs: the runs that came back trained one epoch.
    expect(doneKeys(w.log())).toHaveLength(3);
    for (const key of doneKeys(w.log())) {
      expect(JSON.parse(readFileSync(join(cwd, 'runs', key, 'spec.lock.json'), 'utf8')).spec.train.max_epochs).toBe(1);
    }
    // --force means "train again here", which a queue of stored results cannot honour: a usage error, nothing sent.
    const f = io(cwd);
    expect(await main(['run', SPEC, '--queue', r.url, '--force'], f.io)).toBe(2);
    expect(f.err.join('')).toMatch(/--force does not go with --queue/);
  }, 120_000);

  it('a job of another mmsa version is refused by the worker, saying why, and not retried', async () => {
    const r = await redis();
    const w = startWorker(r.url, 'strict');
    await w.waitFor(/^worker .* on redis:/m);
    const c = compileFile(SPEC, { env });
    const spec = effectiveSpec(c.spec!, {});
    const hash = hashOf(spec, c.ir!);
    const here = await localCompat(undefined);
    const job: RunJob = {
      key: jobKey(c.ir!.pipeline, hash, 1111),
      pipeline: c.ir!.pipeline,
      specHash: hash,
      seed: 1111,
      spec: spec as JsonValue,
      file: SPEC,
      outRoot: join(dir, 'refused-runs'),
      compat: { ...here, mmsaVersion: '0.0.0-elsewhere' },
      command: ['mmsa', 'run', SPEC],
    };
    const runner = await createQueueRunner({ url: r.url, outRoot: join(dir, 'refused-runs') });
    try {
      const res = await runner.run(job, () => {});
      expect(res.status).toBe('failed');
      expect(res.error!.code).toBe('MSA6761');
      expect(res.error!.message).toMatch(/refused by worker .*the job needs mmsa 0\.0\.0-elsewhere, this worker runs \d+\.\d+\.\d+/);
      const j = await Job.fromId(runner.queue, jobIdOf(job.key));
      expect(j!.attemptsMade).toBe(1);
      expect(w.log()).toMatch(/refused .*: the job needs mmsa 0\.0\.0-elsewhere/);
      expect(existsSync(join(dir, 'refused-runs'))).toBe(false);
    } finally {
      await runner.close();
    }
    expect(w.proc.exitCode).toBeNull();
  }, 60_000);
});
