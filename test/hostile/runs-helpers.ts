// Shared pieces of the hostile run tests: a small spec that trains for a few seconds, `mmsa` as a real child process,
// waiting for events in its run directory, and a private mount namespace (unshare) for full and read-only disks.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureIo } from '../cli/io.js';
import { main } from '../../src/cli/main.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MMSA = join(root, 'bin', 'mmsa.js');

export function tmp(prefix = 'mmsa-hostile-runs-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * LF-DNN on synthetic SIMS-like data: 32 steps per epoch, `epochs` epochs, no early stop, so a run lasts long enough
 * (seconds) to be killed in the middle, and every epoch improves often enough to write checkpoints.
 */
export function writeSlowSpec(dir: string, epochs = 6, nTrain = 1024): string {
  const file = join(dir, 'slow.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'extends: lf_dnn',
      `dataset: {type: synthetic, like: sims, n_train: ${nTrain}, n_valid: 64, n_test: 64, seed: 4}`,
      'encoders:',
      '  audio: {type: subnet, hidden: 8, dropout: 0.2}',
      '  vision: {type: subnet, hidden: 16, dropout: 0.2}',
      '  text: {type: text_lstm, hidden: 32, out: 16, dropout: 0.0}',
      'heads:',
      '  M: {type: regression, input: fusion, hidden: [32, 32], dropout: 0.2}',
      'train:',
      '  batch_size: 32',
      `  max_epochs: ${epochs}`,
      '  early_stop: {patience: 100}',
      'eval: {metrics: sims, head: M}',
      'seeds: [1111]',
      '',
    ].join('\n'),
  );
  return file;
}

export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startMmsa(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, [MMSA, ...args], { cwd, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** The single seed directory under runs/<pipeline>/ (polls until it exists). */
export async function waitForRunDir(outRoot: string, pipeline: string, timeoutMs = 120_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const p = join(outRoot, pipeline);
    const dirs = existsSync(p) ? readdirSync(p).filter((d) => /^[0-9a-f]{12}-\d+$/.test(d)) : [];
    if (dirs.length > 0) return join(p, dirs[0]!);
    if (Date.now() - t0 > timeoutMs) throw new Error(`no run directory under ${p} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Polls events.ndjson until an event of `kind` is there. */
export async function waitForEvent(runDir: string, kind: string, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const f = join(runDir, 'events.ndjson');
    if (existsSync(f) && readFileSync(f, 'utf8').includes(`"kind":"${kind}"`)) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`no ${kind} event in ${f} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function readManifestJson(runDir: string): Record<string, unknown> & { status: string; owner?: { pid: number; host: string }; error?: { code: string; message: string } } {
  return JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8'));
}

/** `mmsa ...` in this process, with captured output. */
export async function mmsa(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(cwd, { ...process.env, NO_COLOR: '1' });
  const code = await main(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** Every path under `dir`, relative. */
export function listTree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
}

/** A stack trace in CLI output: lines like "    at foo (file.js:1:2)". */
export const STACK_LINE = /^\s+at .+[:(]/m;

/**
 * Whether this machine lets a process get a private mount namespace (`unshare -rm`, no root needed where user
 * namespaces are enabled): the full-disk and read-only tests mount a small tmpfs there, which vanishes with it.
 */
export function canMountPrivately(): { ok: boolean; why: string } {
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d" && rmdir "$d"'], { encoding: 'utf8' });
  if (r.error) return { ok: false, why: `unshare: ${r.error.message}` };
  return r.status === 0 ? { ok: true, why: '' } : { ok: false, why: `unshare -rm cannot mount a tmpfs here: ${r.stderr.trim()}` };
}

/**
 * Runs a shell script in a private mount namespace; `$MMSA` is the CLI, `$D` the directory `dir`, `$SPEC` the slow
 * spec in it. The script mounts what it needs and prints what the test asserts (the namespace and its mounts are gone
 * when it exits).
 */
export function inMountNamespace(script: string, dir: string, timeoutMs = 180_000, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', script], {
    cwd: dir,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, NO_COLOR: '1', MMSA: `${process.execPath} ${MMSA}`, D: dir, SPEC: join(dir, 'slow.yaml'), ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
