// How readers judge a manifest marked running: the owner's pid and start time on this host (a reused pid is not the
// owner), the heartbeat for an owner on another host (a shared file system), and manifests written before owners.
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { currentOwner, describeRunState, HEARTBEAT_STALE_MS, judgeRun, processStartTime } from '../../src/runtime/run-liveness.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('judgeRun', () => {
  it('finished statuses are what they say', () => {
    for (const s of ['completed', 'failed', 'interrupted'] as const) expect(judgeRun({ status: s }).state).toBe(s);
  });

  it('this host: a live pid with its recorded start time is running; the same pid started at another time is not the owner', async () => {
    const child = spawn('sleep', ['30']);
    try {
      await new Promise((r) => child.once('spawn', r));
      const started = processStartTime(child.pid!);
      expect(started).toEqual(expect.any(Number));
      expect(Math.abs(started! - Date.now())).toBeLessThan(10_000);
      const owner = { pid: child.pid!, host: hostname(), processStartedAt: iso(started!) };
      expect(judgeRun({ status: 'running', owner, heartbeatAt: iso(Date.now()) })).toMatchObject({ state: 'running' });
      const reused = judgeRun({ status: 'running', owner: { ...owner, processStartedAt: iso(started! - 3_600_000) }, heartbeatAt: iso(Date.now()) });
      expect(reused.state).toBe('dead');
      expect(reused.state === 'dead' && reused.why).toMatch(new RegExp(`pid ${child.pid} now belongs to another process`));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('another host: a fresh heartbeat is running, a stale one is dead (pids of other hosts are never checked here)', () => {
    const now = Date.now();
    const owner = { pid: 1, host: `${hostname()}-elsewhere`, processStartedAt: iso(now - 60_000) };
    expect(judgeRun({ status: 'running', owner, heartbeatAt: iso(now - 20_000) }, now).state).toBe('running');
    const stale = judgeRun({ status: 'running', owner, heartbeatAt: iso(now - HEARTBEAT_STALE_MS - 1000) }, now);
    expect(stale.state).toBe('dead');
    expect(describeRunState({ status: 'running', owner, heartbeatAt: iso(now - 3_600_000) }, now)).toBe(
      `died without finishing (its owner (pid 1 on ${hostname()}-elsewhere) has not written a heartbeat for 60 min)`,
    );
  });

  it('this pid recorded by an earlier process (a restarted container reuses small pids) is not this process', () => {
    const now = Date.now();
    const earlier = { ...currentOwner(), processStartedAt: iso(Date.parse(currentOwner().processStartedAt) - 3_600_000) };
    const j = judgeRun({ status: 'running', owner: earlier, heartbeatAt: iso(now - 3_600_000) }, now);
    expect(j.state).toBe('dead');
    expect(j.state === 'dead' && j.why).toMatch(new RegExp(`pid ${process.pid} now belongs to this process`));
  });

  it('this process owns what it runs; manifests without an owner count as dead once old', () => {
    const now = Date.now();
    expect(judgeRun({ status: 'running', owner: currentOwner(), heartbeatAt: iso(now) }).state).toBe('running');
    expect(judgeRun({ status: 'running', startedAt: iso(now - 10_000) }, now).state).toBe('running');
    expect(judgeRun({ status: 'running', startedAt: iso(now - 2 * HEARTBEAT_STALE_MS) }, now).state).toBe('dead');
  });
});
