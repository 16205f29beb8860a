// Who owns a running run directory and whether that process still lives: the owner (pid, host, process start time)
// and heartbeat recorded in manifest.json, judged by every reader (watch, predict, report, compare, reuse). Phases 7-8.

import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The process that writes a run directory. */
export interface RunOwner {
  pid: number;
  host: string;
  /** When the owning process started (ISO); tells a reused pid from the owner. */
  processStartedAt: string;
}

/** How often a live run rewrites its heartbeat. */
export const HEARTBEAT_MS = 10_000;
/**
 * A run owned by another host (a shared file system) counts as dead when its heartbeat is older than this. Long:
 * a heartbeat can only be written between training steps, and one step of a large model can take a while.
 */
export const HEARTBEAT_STALE_MS = 5 * 60_000;

export interface ManifestLiveness {
  status: string;
  owner?: RunOwner;
  heartbeatAt?: string;
  startedAt?: string;
}

/** What a reader makes of a run directory's manifest. */
export type RunState =
  | { state: 'completed' | 'failed' | 'interrupted' }
  | { state: 'running'; owner?: RunOwner; why: string }
  | { state: 'dead'; owner?: RunOwner; why: string };

let selfOwner: RunOwner | undefined;

export function currentOwner(): RunOwner {
  selfOwner ??= { pid: process.pid, host: os.hostname(), processStartedAt: new Date(Date.now() - process.uptime() * 1000).toISOString() };
  return selfOwner;
}

/** True/false when the kernel can tell; signal 0 checks existence without touching the process. */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let bootTimeMs: number | null | undefined;

/** Start time of a process from /proc (Linux), or undefined where there is no /proc. */
export function processStartTime(pid: number): number | undefined {
  try {
    if (bootTimeMs === undefined) {
      const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
      bootTimeMs = m ? Number(m[1]) * 1000 : null;
    }
    if (bootTimeMs === null) return undefined;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses); starttime is field 22, in clock ticks
    // (USER_HZ, 100 on Linux) since boot.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[19]);
    return Number.isFinite(ticks) ? bootTimeMs + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the recorded owner still runs: same host -> the pid and its start time decide; another host -> heartbeat. */
export function ownerAlive(owner: RunOwner, heartbeatAt: string | undefined, now = Date.now()): { alive: boolean; why: string } {
  const beat = heartbeatAt ? Date.parse(heartbeatAt) : NaN;
  const beatText = Number.isFinite(beat) ? `last heartbeat ${ago(now - beat)} ago` : 'no heartbeat recorded';
  const who = `pid ${owner.pid} on ${owner.host}`;
  if (owner.host === os.hostname()) {
    const recorded = Date.parse(owner.processStartedAt);
    if (owner.pid === process.pid) {
      // A container restarts its processes with the same small pids: only this very process is this process.
      const mine = Date.parse(currentOwner().processStartedAt);
      if (!Number.isFinite(recorded) || Math.abs(mine - recorded) <= 5_000) return { alive: true, why: `this process (${who})` };
      return { alive: false, why: `its process (${who}) is gone (pid ${owner.pid} now belongs to this process); ${beatText}` };
    }
    if (!isPidAlive(owner.pid)) return { alive: false, why: `its process (${who}) is gone; ${beatText}` };
    const started = processStartTime(owner.pid);
    // /proc's start time is rounded to clock ticks and boot time to seconds: allow a few seconds.
    if (started !== undefined && Number.isFinite(recorded) && Math.abs(started - recorded) > 5_000) {
      return { alive: false, why: `its process (${who}) is gone (pid ${owner.pid} now belongs to another process); ${beatText}` };
    }
    return { alive: true, why: `${who}, ${beatText}` };
  }
  if (Number.isFinite(beat) && now - beat <= HEARTBEAT_STALE_MS) return { alive: true, why: `${who}, ${beatText}` };
  return { alive: false, why: `its owner (${who}) has not written a heartbeat for ${Number.isFinite(beat) ? ago(now - beat) : 'ever'}` };
}

/**
 * Judges a manifest: a 'running' status holds only while its owner lives. Manifests written before owners were
 * recorded fall back to the age of their heartbeat or start.
 */
export function judgeRun(m: ManifestLiveness, now = Date.now()): RunState {
  if (m.status === 'completed' || m.status === 'failed' || m.status === 'interrupted') return { state: m.status };
  if (m.owner) {
    const r = ownerAlive(m.owner, m.heartbeatAt, now);
    return r.alive ? { state: 'running', owner: m.owner, why: r.why } : { state: 'dead', owner: m.owner, why: r.why };
  }
  const last = Date.parse(m.heartbeatAt ?? m.startedAt ?? '');
  if (Number.isFinite(last) && now - last <= HEARTBEAT_STALE_MS) return { state: 'running', why: `no owner recorded; started ${ago(now - last)} ago` };
  return { state: 'dead', why: `no owner recorded and no sign of life for ${Number.isFinite(last) ? ago(now - last) : 'ever'}` };
}

/** One phrase for readers: "completed", "running (pid 12 on h, last heartbeat 3 s ago)", "died (its process ...)". */
export function describeRunState(m: ManifestLiveness, now = Date.now()): string {
  const j = judgeRun(m, now);
  if (j.state === 'running') return `running (${j.why})`;
  if (j.state === 'dead') return `died without finishing (${j.why})`;
  return j.state;
}

/** "3 s", "4 min", "2 h". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** The pid in a temporary name made by this package (`x.tmp-<pid>`, `x.old-<pid>`, `.x.tmp-<pid>-<n>`). */
export function tempOwnerPid(name: string): number | undefined {
  const m = /\.(?:tmp|old)-(\d+)(?:-\d+)?$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** A temporary left by a process of this host that no longer runs (never one of a live process, nor ours). */
export function isStaleTemp(name: string): boolean {
  const pid = tempOwnerPid(name);
  return pid !== undefined && pid !== process.pid && !isPidAlive(pid);
}
