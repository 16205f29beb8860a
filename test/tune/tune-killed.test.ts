// `mmsa tune` as a real process, stopped from outside: Ctrl-C (SIGINT) stops the trials in flight and exits 130, a
// SIGKILL (a crash) loses only the trials in flight, and rerunning the same command resumes each time without training
// a finished trial again. The built CLI (bin/mmsa.js) with two worker processes, on the tiny LMF search.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTrials } from '../../src/tune/search.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SPEC = resolve(import.meta.dirname, '../fixtures/tune/tiny_tune.yaml');
const dir = mkdtempSync(join(tmpdir(), 'mmsa-tune-killed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Session {
  code: number | null;
  signal: NodeJS.Signals | null;
  events: { kind: string; trial?: number; record?: { trial: number; status: string }; tuneDir?: string }[];
  stderr: string;
}

/** Runs `mmsa tune --jobs 2 --reporter ndjson`; `stop` sends a signal once the first trial of the session has ended. */
function session(stop?: NodeJS.Signals): Promise<Session> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin/mmsa.js'), 'tune', SPEC, '--jobs', '2', '--threads', '1', '--reporter', 'ndjson', '--out', 'runs'], {
    cwd: dir,
    env: { ...process.env, MMSA_NATIVE: process.env['MMSA_NATIVE'] ?? 'auto' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const s: Session = { code: null, signal: null, events: [], stderr: '' };
  let pending = '';
  let sent = false;
  proc.stdout!.on('data', (b: Buffer) => {
    pending += b.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const l of lines.filter(Boolean)) {
      const e = JSON.parse(l) as Session['events'][number];
      s.events.push(e);
      if (stop && !sent && e.kind === 'trial.end' && e.record?.status === 'completed') {
        sent = true;
        proc.kill(stop);
      }
    }
  });
  proc.stderr!.on('data', (b: Buffer) => (s.stderr += b.toString()));
  return new Promise((r) => proc.on('exit', (code, signal) => r({ ...s, code, signal })));
}

const started = (s: Session) => s.events.filter((e) => e.kind === 'trial.start').map((e) => e.trial!);
const ended = (s: Session) => s.events.filter((e) => e.kind === 'trial.end' && e.record!.status === 'completed').map((e) => e.record!.trial);

describe('mmsa tune stopped from outside (a real process)', () => {
  it('Ctrl-C exits 130 keeping finished trials; SIGKILL loses only the trials in flight; each rerun resumes', async () => {
    // 1. Ctrl-C after the first finished trial: the trials in flight stop, the process exits 130.
    const a = await session('SIGINT');
    expect(a.code, a.stderr).toBe(130);
    expect(a.stderr).toMatch(/Ctrl-C: stopping the trials in flight \(rerun the command to resume\)/);
    const tuneDir = a.events.find((e) => e.kind === 'tune.start')!.tuneDir!;
    const afterA = readTrials(tuneDir);
    const doneA = afterA.filter((t) => t.status === 'completed').map((t) => t.trial);
    // Trials finish in any order when several run at once: the record is sorted by trial, the events by finishing time.
    expect([...doneA].sort((x, y) => x - y)).toEqual([...ended(a)].sort((x, y) => x - y));
    expect(doneA.length).toBeGreaterThanOrEqual(1);
    expect(doneA.length).toBeLessThan(4);

    // 2. Rerun, then SIGKILL it (a crash) after its first finished trial: nothing is written on the way out.
    const b = await session('SIGKILL');
    expect(b.signal).toBe('SIGKILL');
    expect(b.events.find((e) => e.kind === 'tune.start')!.tuneDir).toBe(tuneDir);
    // Finished trials are kept, not trained again.
    for (const t of doneA) expect(started(b)).not.toContain(t);
    const afterB = readTrials(tuneDir);
    const doneB = afterB.filter((t) => t.status === 'completed').map((t) => t.trial);
    expect(doneB).toEqual(expect.arrayContaining([...doneA, ...ended(b)]));
    // The trials in flight at the kill (started in this session, not ended) are left as started (a line with their
    // setting), to run again. Under load the first session may already have finished 3 of the 4 trials, or both of
    // this session's trials may end together, so there may be none in flight: the set is compared, not its size.
    const lost = afterB.filter((t) => t.status === 'running');
    const inFlight = started(b).filter((t) => !ended(b).includes(t));
    expect(lost.map((t) => t.trial).sort((x, y) => x - y)).toEqual(inFlight.sort((x, y) => x - y));

    // 3. Rerun to the end: every trial completes, the lost ones with the setting they were proposed with.
    const c = await session();
    expect(c.code, c.stderr).toBe(0);
    for (const t of doneB) expect(started(c)).not.toContain(t);
    const final = readTrials(tuneDir);
    expect(final.map((t) => t.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    for (const t of lost) expect(final.find((x) => x.trial === t.trial)!.setting).toEqual(t.setting);
    // Over the three sessions each setting is one run directory, complete, with validation metrics only.
    const runDirs = final.map((t) => join(dir, 'runs', t.seeds![0]!.runDir));
    expect(new Set(runDirs).size).toBe(4);
    for (const d of runDirs) {
      expect(JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')).status).toBe('completed');
      expect(JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')).test).toEqual({});
    }
    expect(existsSync(join(tuneDir, 'best.yaml'))).toBe(true);
    expect(c.events.at(-1)).toMatchObject({ kind: 'tune.end', status: 'completed', trials: 4 });
  }, 300_000);
});
