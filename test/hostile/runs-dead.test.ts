// Runs that die must look dead: a real `mmsa run` child killed with SIGKILL (every reader says it died, `mmsa run`
// trains it again), stopped with SIGTERM (interrupted, exit 143), a live run not overwritten by a second one, two
// runs of one spec and seed started together, a process that exits mid-run, a kill between the two renames of a
// checkpoint swap, and stale temporaries.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeRun } from '../../src/runtime/run-liveness.js';
import { readCheckpoint } from '../../src/runtime/train/checkpoint.js';
import { mmsa, readManifestJson, root, STACK_LINE, startMmsa, tmp, waitForEvent, waitForRunDir, writeSlowSpec } from './runs-helpers.js';

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('a run killed with SIGKILL', () => {
  // Eight commands in a row: slow on a loaded machine.
  it('is called dead by watch, predict, report and compare, and `mmsa run` trains it again', { timeout: 240_000 }, async () => {
    const dir = tmp();
    const spec = writeSlowSpec(dir, 4, 512);
    const out = join(dir, 'runs');
    const child = startMmsa(['run', spec, '--out', out, '--reporter', 'ndjson'], dir);
    const runDir = await waitForRunDir(out, 'slow');
    await waitForEvent(runDir, 'checkpoint.saved');
    const before = readManifestJson(runDir);
    expect(before.status).toBe('running');
    expect(before.owner).toMatchObject({ pid: child.proc.pid, host: hostname() });
    expect(typeof before['heartbeatAt']).toBe('string');
    child.proc.kill('SIGKILL');
    expect((await child.exited).signal).toBe('SIGKILL');

    // The manifest still says running: only the owner check tells.
    const m = readManifestJson(runDir);
    expect(m.status).toBe('running');
    const judged = judgeRun(m as never);
    expect(judged.state).toBe('dead');
    expect(judged.state === 'dead' && judged.why).toContain(`pid ${child.proc.pid}`);

    // watch ends at once instead of following forever.
    const t0 = Date.now();
    const watch = await mmsa(['watch', runDir, '--interval', '20'], dir);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(watch.code).toBe(1);
    expect(watch.err).toMatch(/MSA6742: run .* died without finishing: its process \(pid \d+ on .*\) is gone/);
    expect(watch.err).toMatch(/help: train it again with `mmsa run .*slow\.yaml/);

    // predict refuses the dead run's checkpoint unless asked for it.
    const refused = await mmsa(['predict', runDir], dir);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/MSA6742: run .* died without finishing/);
    expect(refused.err).toMatch(/--unfinished/);
    expect(refused.out).toBe('');
    const forced = await mmsa(['predict', runDir, '--unfinished', '--backend', 'wasm'], dir);
    expect(forced.code).toBe(0);
    expect(forced.err).toMatch(/note: run .* died without finishing.*best checkpoint so far/);
    expect(forced.out.split('\n')[0]).toBe('id,prediction,label');

    // report says so in the page and on stderr; compare skips it and says why.
    const rep = await mmsa(['report', runDir, '-o', join(dir, 'r.html')], dir);
    expect(rep.code).toBe(0);
    expect(rep.err).toMatch(/died without finishing/);
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toMatch(/died without finishing \(its process \(pid \d+/);
    const cmp = await mmsa(['compare', runDir], dir);
    expect(cmp.code).toBe(1);
    expect(cmp.err).toMatch(/skipped .* \(not a completed run: died without finishing/);

    // The same spec and seed: recovered by training again, with a note saying what was found.
    const again = await mmsa(['run', spec, '--out', out, '--reporter', 'plain'], dir);
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/note: the previous run in .* died \(its process \(pid \d+ on [^)]+\) is gone; last heartbeat .* ago\); training it again from the start/);
    const done = readManifestJson(runDir);
    expect(done.status).toBe('completed');
    expect(done.owner!.pid).toBe(process.pid);
    expect(readdirSync(join(out, 'slow')).filter((n) => /\.(tmp|old)-\d+/.test(n))).toEqual([]);
    const start = readFileSync(join(runDir, 'events.ndjson'), 'utf8').split('\n').map((l) => (l ? JSON.parse(l) : null)).find((e) => e?.kind === 'run.start');
    expect(start.recovered).toMatch(/died/);
  });
});

describe('a run stopped with SIGTERM', () => {
  it('stops after the current step, is marked interrupted and exits 143', async () => {
    const dir = tmp();
    const spec = writeSlowSpec(dir);
    const out = join(dir, 'runs');
    const child = startMmsa(['run', spec, '--out', out, '--reporter', 'plain'], dir);
    const runDir = await waitForRunDir(out, 'slow');
    await waitForEvent(runDir, 'step.end');
    child.proc.kill('SIGTERM');
    const { code } = await child.exited;
    expect(code).toBe(143);
    expect(child.stderr()).toMatch(/SIGTERM: stopping after the current step/);
    expect(child.stderr()).not.toMatch(STACK_LINE);
    const m = readManifestJson(runDir);
    expect(m.status).toBe('interrupted');
    expect(m['finishedAt']).toEqual(expect.any(String));
    const events = readFileSync(join(runDir, 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; status?: string });
    expect(events.at(-1)).toMatchObject({ kind: 'run.end', scope: 'seed', status: 'interrupted' });
  });
});

describe('a live run', () => {
  it('is not overwritten by a second `mmsa run` of the same spec and seed, not even with --force', async () => {
    const dir = tmp();
    const spec = writeSlowSpec(dir, 30);
    const out = join(dir, 'runs');
    const child = startMmsa(['run', spec, '--out', out, '--reporter', 'ndjson'], dir);
    try {
      const runDir = await waitForRunDir(out, 'slow');
      await waitForEvent(runDir, 'step.end');
      const second = await mmsa(['run', spec, '--out', out, '--reporter', 'plain', '--force'], dir);
      expect(second.code).toBe(1);
      expect(second.err).toMatch(new RegExp(`MSA6743: .* is being trained right now \\(pid ${child.proc.pid} on ${hostname()}`));
      expect(second.err).toMatch(/help: follow it with `mmsa watch /);
      expect(readManifestJson(runDir).owner!.pid).toBe(child.proc.pid);
      expect(judgeRun(readManifestJson(runDir) as never).state).toBe('running');
    } finally {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  });
});

describe('two `mmsa run`s of the same spec and seed started at the same moment', () => {
  it('one trains, the other stops with MSA6743 (or reuses the finished run): never two trainings in one directory', { timeout: 180_000 }, async () => {
    const dir = tmp();
    const spec = writeSlowSpec(dir, 2, 256);
    const out = join(dir, 'runs');
    const kids = [0, 1].map(() => startMmsa(['run', spec, '--out', out, '--reporter', 'ndjson'], dir));
    const exits = await Promise.all(kids.map((k) => k.exited));
    const events = kids.map((k) => k.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; reused?: boolean; code?: string; message?: string }));
    const trained = events.map((es) => es.some((e) => e.kind === 'run.start'));
    // Without the start lock both passed the check while neither had a run directory yet, and both exited 0.
    expect(trained.filter(Boolean)).toHaveLength(1);
    const loser = trained.indexOf(false);
    const lost = events[loser]!;
    const refused = lost.find((e) => e.kind === 'run.error');
    if (refused) {
      expect(exits[loser]!.code).toBe(1);
      expect(refused.code).toBe('MSA6743');
      expect(refused.message).toMatch(/-1111 is being trained right now \(pid \d+ on /);
    } else {
      expect(exits[loser]!.code).toBe(0);
      expect(lost.some((e) => e.kind === 'run.end' && e.reused)).toBe(true);
    }
    expect(exits[1 - loser]!.code).toBe(0);
    const runDir = await waitForRunDir(out, 'slow');
    expect(readManifestJson(runDir).status).toBe('completed');
    expect(readFileSync(join(runDir, 'events.ndjson'), 'utf8').match(/"kind":"run\.start"/g)).toHaveLength(1);
    expect(readdirSync(join(out, 'slow')).filter((n) => /\.lock|\.tmp-|\.old-/.test(n))).toEqual([]);
  });
});

describe('a process that exits in the middle of a run', () => {
  it('leaves the manifest failed (MSA6744), not running', () => {
    const dir = tmp();
    const script = `
      import { RunDir } from ${JSON.stringify(join(root, 'dist/runtime/run-dir.js'))};
      const d = RunDir.create({ outRoot: ${JSON.stringify(dir)}, pipeline: 'p', hash: 'abcdef012345', seed: 1, lock: {},
        manifest: { mmsaVersion: '0', nodeVersion: process.version, backend: 'cpu', pipeline: 'p', specHash: 'abcdef012345', seed: 1,
          dataset: { name: 'x', source: 'synthetic' }, command: [] } });
      process.exit(3);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    const m = readManifestJson(join(dir, 'p', 'abcdef012345-1'));
    expect(m.status).toBe('failed');
    expect(m.error).toEqual({ code: 'MSA6744', message: 'the process exited (code 3) while the run was in progress' });
  });
});

describe('a kill between the two renames of a checkpoint swap', () => {
  it('leaves complete copies beside a missing checkpoint/, and the next reader puts the newest back', async () => {
    const dir = tmp();
    const ckpt = join(dir, 'run', 'checkpoint');
    mkdirSync(join(dir, 'run'));
    // A real writer, SIGKILLed by itself right after the first rename (checkpoint -> checkpoint.old-<pid>).
    const script = `
      import fs from 'node:fs';
      import { syncBuiltinESMExports } from 'node:module';
      const { writeCheckpoint } = await import(${JSON.stringify(join(root, 'dist/runtime/train/checkpoint.js'))});
      const weights = (v) => new Map([['w', { shape: [2, 3], values: new Float32Array(6).fill(v) }]]);
      writeCheckpoint(${JSON.stringify(ckpt)}, { pipeline: 'p', epoch: 1, weights: weights(1), tasks: {} });
      const rename = fs.renameSync;
      fs.renameSync = (a, b) => {
        rename(a, b);
        if (String(b).includes('checkpoint.old-')) process.kill(process.pid, 'SIGKILL');
      };
      syncBuiltinESMExports();
      writeCheckpoint(${JSON.stringify(ckpt)}, { pipeline: 'p', epoch: 2, weights: weights(2), tasks: {} });`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.signal).toBe('SIGKILL');
    const left = readdirSync(join(dir, 'run')).sort();
    expect(left).toEqual([expect.stringMatching(/^checkpoint\.old-\d+$/), expect.stringMatching(/^checkpoint\.tmp-\d+$/)]);
    expect(existsSync(ckpt)).toBe(false);

    // The next reader or writer of the checkpoint (mmsa predict, writeCheckpoint) recovers the new copy (epoch 2).
    const { recoverCheckpoint } = await import('../../src/runtime/train/checkpoint.js');
    expect(recoverCheckpoint(ckpt)).toMatch(/^checkpoint\.tmp-\d+$/);
    expect(readdirSync(join(dir, 'run'))).toEqual(['checkpoint']);
    const c = readCheckpoint(ckpt);
    expect(c.meta.epoch).toBe(2);
    expect([...c.weights.get('w')!.values]).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('falls back to the previous copy when the new one is incomplete, and never touches a live writer\'s files', async () => {
    const { recoverCheckpoint, writeCheckpoint } = await import('../../src/runtime/train/checkpoint.js');
    const dir = tmp();
    const ckpt = join(dir, 'checkpoint');
    const weights = new Map([['w', { shape: [2], values: new Float32Array([7, 8]) }]]);
    writeCheckpoint(ckpt, { pipeline: 'p', epoch: 5, weights, tasks: {} });
    const dead = deadPid();
    const { renameSync } = await import('node:fs');
    renameSync(ckpt, `${ckpt}.old-${dead}`);
    mkdirSync(`${ckpt}.tmp-${dead}`); // killed before model.json was written: incomplete
    writeFileSync(join(`${ckpt}.tmp-${dead}`, 'weights.bin'), Buffer.alloc(3));
    // A live process's temporary (this test's parent, alive for sure) is left alone.
    const live = process.ppid;
    mkdirSync(`${ckpt}.tmp-${live}`);
    expect(recoverCheckpoint(ckpt)).toBe(`checkpoint.old-${dead}`);
    expect(readCheckpoint(ckpt).meta.epoch).toBe(5);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint', `checkpoint.tmp-${live}`]);
  });
});

describe('stale temporaries', () => {
  it('of dead processes are removed by the next run; those of live processes stay', async () => {
    const dir = tmp();
    const spec = writeSlowSpec(dir, 1, 64);
    const out = join(dir, 'runs');
    const pipeDir = join(out, 'slow');
    mkdirSync(pipeDir, { recursive: true });
    const dead = deadPid();
    const sleeper = spawn('sleep', ['60']);
    try {
      const staleRun = join(pipeDir, `abcdef012345-1111.tmp-${dead}`);
      mkdirSync(staleRun);
      writeFileSync(join(staleRun, 'manifest.json'), '{}');
      writeFileSync(join(pipeDir, `.x-summary.json.tmp-${dead}-0`), 'partial');
      mkdirSync(join(pipeDir, `abcdef012345-1112.old-${dead}`));
      const liveTmp = join(pipeDir, `abcdef012345-1113.tmp-${sleeper.pid}`);
      mkdirSync(liveTmp);
      const r = await mmsa(['run', spec, '--out', out, '--reporter', 'plain'], dir);
      expect(r.code).toBe(0);
      const names = readdirSync(pipeDir);
      expect(names.filter((n) => n.includes(`-${dead}`))).toEqual([]);
      expect(names).toContain(`abcdef012345-1113.tmp-${sleeper.pid}`);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
