// Full disks and read-only places, for real: a 256 KiB tmpfs and a read-only tmpfs mounted in a private mount
// namespace (unshare -rm), and directories without write permission (EACCES) for a user who is not their owner, with
// `mmsa run`, `report -o` and `predict --out` as child processes. Each must end with a located error (which path, how
// much space), exit 74, a run marked failed, nothing partial left, no stack trace.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { canMountPrivately, inMountNamespace, MMSA, mmsa, STACK_LINE, tmp, writeSlowSpec } from './runs-helpers.js';

const can = canMountPrivately();
if (!can.ok) console.warn(`skipping the full-disk and read-only tests: ${can.why}`);

/** Splits the namespace script's output into its `--- name` sections. */
function sections(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let cur = '';
  for (const line of text.split('\n')) {
    const m = /^--- (\S+)$/.exec(line);
    if (m) {
      cur = m[1]!;
      out[cur] = '';
    } else if (cur) out[cur] += `${line}\n`;
  }
  return out;
}

const MOUNTS = `set -u
mkdir -p "$D/full" "$D/ro"
mount -t tmpfs -o size=256k tmpfs "$D/full" || exit 97
mount -t tmpfs -o ro,size=64k tmpfs "$D/ro" || exit 98
`;

describe.skipIf(!can.ok)('a full disk during `mmsa run`', () => {
  it('fails with MSA6740 naming the path and the space, marks the run failed and leaves no temporary', () => {
    const dir = tmp();
    writeSlowSpec(dir, 2, 256);
    // 256 KiB holds the run directory and the events, not the ~470 KiB checkpoint of the first epoch.
    const r = inMountNamespace(
      `${MOUNTS}
$MMSA run "$SPEC" --out "$D/full/runs" --reporter plain >"$D/out.txt" 2>"$D/err.txt"; rc=$?; echo "--- exit"; echo $rc
echo "--- tree"; find "$D/full" -mindepth 1 -printf '%P\\n' | sort
echo "--- manifest"; cat "$D"/full/runs/slow/*-1111/manifest.json
echo "--- stderr"; cat "$D/err.txt"`,
      dir,
    );
    const s = sections(`${r.stdout}`);
    expect(r.status, r.stderr).toBe(0);
    expect(s['exit']!.trim()).toBe('74');
    expect(s['stderr']).toMatch(/error MSA6740: no space left writing the checkpoint .*\/full\/runs\/slow\/[0-9a-f]{12}-1111\/checkpoint\/weights\.bin \(needed 4\d\d KiB, \d+ KiB free\)/);
    expect(s['stderr']).toMatch(/help: free space on that file system, or write the runs elsewhere with --out DIR/);
    expect(s['stderr']).not.toMatch(STACK_LINE);
    const manifest = JSON.parse(s['manifest']!) as { status: string; error: { code: string; message: string } };
    expect(manifest.status).toBe('failed');
    expect(manifest.error.code).toBe('MSA6740');
    const tree = s['tree']!.trim().split('\n');
    expect(tree.filter((p) => /\.tmp-\d+|\.old-\d+/.test(p))).toEqual([]);
    expect(tree.filter((p) => /results\.(json|csv)$|summary/.test(p))).toEqual([]);
  });
});

describe.skipIf(!can.ok)('read-only and full output places', () => {
  let dir: string;
  let runDir: string;
  beforeAll(async () => {
    dir = tmp();
    const spec = writeSlowSpec(dir, 1, 64);
    const r = await mmsa(['run', spec, '--out', join(dir, 'runs'), '--reporter', 'plain'], dir);
    expect(r.code).toBe(0);
    runDir = /\n {2}(\/\S+-1111)\n/.exec(r.out)![1]!;
  }, 120_000);

  it('`mmsa run --out` on a read-only file system: MSA6741 naming the read-only place, exit 74', () => {
    const r = inMountNamespace(
      `${MOUNTS}
$MMSA run "$SPEC" --out "$D/ro/a/b/runs" --reporter plain >"$D/out.txt" 2>"$D/err.txt"; rc=$?; echo "--- exit"; echo $rc
echo "--- stderr"; cat "$D/err.txt"
echo "--- tree"; find "$D/ro" -mindepth 1 | sort`,
      dir,
      180_000,
      { SPEC: join(dir, 'slow.yaml') },
    );
    const s = sections(r.stdout);
    expect(s['exit']!.trim()).toBe('74');
    expect(s['stderr']).toMatch(/error MSA6741: cannot write the run directory .*\/ro\/a\/b\/runs\/slow: .*\/ro is on a read-only file system, so .*\/ro\/a\/b\/runs cannot be created/);
    expect(s['stderr']).toMatch(/help: choose a writable place, or write the runs elsewhere with --out DIR/);
    expect(s['stderr']).not.toMatch(/ENOENT|STACK/);
    expect(s['stderr']).not.toMatch(STACK_LINE);
    expect(s['tree']!.trim()).toBe('');
  });

  it('`mmsa report -o` and `mmsa predict --out` on a full and on a read-only place: located errors, exit 74, no partial file', () => {
    const r = inMountNamespace(
      `${MOUNTS}
dd if=/dev/zero of="$D/full/filler" bs=4k 2>/dev/null
mount --bind "$RUN" "$RUN" && mount -o remount,bind,ro "$RUN" || exit 96
i=0
for c in "report $RUN -o $D/full/r.html" "report $RUN -o $D/ro/r.html" "report $RUN" "predict $RUN --out $D/full/p.csv" "predict $RUN --out $D/ro/sub/p.json"; do
  i=$((i+1)); name=$i
  $MMSA $c >"$D/$name.out" 2>"$D/$name.err"; rc=$?; echo "--- exit:$name"; echo $rc
  echo "--- err:$name"; cat "$D/$name.err"
done
echo "--- full"; ls -A "$D/full"
echo "--- ro"; ls -A "$D/ro"
echo "--- rundir"; ls -A "$RUN"`,
      dir,
      180_000,
      { RUN: runDir },
    );
    const s = sections(r.stdout);
    expect(r.status, r.stderr).toBe(0);
    const errs = Object.entries(s).filter(([k]) => k.startsWith('err:')).map(([, v]) => v);
    const exits = Object.entries(s).filter(([k]) => k.startsWith('exit:')).map(([, v]) => v.trim());
    expect(exits).toEqual(['74', '74', '74', '74', '74']);
    for (const e of errs) expect(e).not.toMatch(STACK_LINE);
    expect(errs[0]).toMatch(/error MSA6740: no space left writing the report .*\/full\/r\.html \(needed \d+(\.\d)? KiB, 0 B free\)/);
    expect(errs[0]).toMatch(/help: free space on that file system, or pass another -o/);
    expect(errs[1]).toMatch(/error MSA6741: cannot write the report .*\/ro\/r\.html: its directory .*\/ro is on a read-only file system/);
    // The default place of the report is inside the run directory, read-only here.
    expect(errs[2]).toMatch(/error MSA6741: cannot write the report .*-1111\/report\.html: its directory .*-1111 is on a read-only file system/);
    expect(errs[2]).toMatch(/help: choose a writable place, or pass another -o/);
    expect(errs[3]).toMatch(/error MSA6740: no space left writing the predictions .*\/full\/p\.csv \(needed \d+(\.\d)? KiB, 0 B free\)/);
    expect(errs[4]).toMatch(/error MSA6741: cannot write the predictions .*\/ro\/sub\/p\.json: .*\/ro is on a read-only file system, so .*\/ro\/sub cannot be created/);
    // Nothing partial: only the filler on the full disk, nothing on the read-only one, the run directory untouched.
    expect(s['full']!.trim()).toBe('filler');
    expect(s['ro']!.trim()).toBe('');
    expect(s['rundir']!).not.toMatch(/report\.html|\.tmp-/);
  });
});

/**
 * How to run mmsa as a user for whom a 0555 directory is not writable: this user, unless it is root (whom permission
 * bits do not stop); then `nobody`, when this process may switch to it.
 */
function unprivileged(): { ok: boolean; why: string; opts: SpawnSyncOptions } {
  const uid = process.getuid?.();
  if (uid === undefined) return { ok: false, why: 'no POSIX user ids on this platform', opts: {} };
  if (uid !== 0) return { ok: true, why: '', opts: {} };
  const opts: SpawnSyncOptions = { uid: 65534, gid: 65534 };
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.getuid()))'], { ...opts, encoding: 'utf8' });
  return r.status === 0 && r.stdout === '65534' ? { ok: true, why: '', opts } : { ok: false, why: `cannot run a process as nobody: ${r.error?.message ?? r.stderr}`, opts: {} };
}

const user = unprivileged();
if (!user.ok) console.warn(`skipping the permission tests: ${user.why}`);

describe.skipIf(!user.ok)('directories without write permission (EACCES)', () => {
  it('`run --out`, `report -o`, `report` and `predict --out`: MSA6741 naming the directory that refuses, exit 74, nothing written', async () => {
    const dir = tmp();
    // The child (possibly nobody) must read the spec and the finished run, not write them.
    chmodSync(dir, 0o755);
    const spec = writeSlowSpec(dir, 1, 64);
    const done = await mmsa(['run', spec, '--out', join(dir, 'runs'), '--reporter', 'plain'], dir);
    expect(done.code).toBe(0);
    const runDir = /\n {2}(\/\S+-1111)\n/.exec(done.out)![1]!;
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    chmodSync(runDir, 0o555);
    const as = (args: string[]) => spawnSync(process.execPath, [MMSA, ...args], { ...user.opts, cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', HOME: dir } });
    try {
      const cases: [string[], RegExp, RegExp][] = [
        [['run', spec, '--out', join(ro, 'runs'), '--reporter', 'plain'], /error MSA6741: cannot write the run directory .*\/ro\/runs\/slow: .*\/ro is not writable \(permission denied\), so .*\/ro\/runs cannot be created/, /help: choose a writable place, or write the runs elsewhere with --out DIR/],
        [['run', spec, '--out', ro, '--reporter', 'plain'], /error MSA6741: cannot write the run directory .*\/ro\/slow: its directory .*\/ro is not writable \(permission denied\)/, /help: choose a writable place, or write the runs elsewhere with --out DIR/],
        [['report', runDir, '-o', join(ro, 'r.html')], /error MSA6741: cannot write the report .*\/ro\/r\.html: its directory .*\/ro is not writable \(permission denied\)/, /help: choose a writable place, or pass another -o/],
        [['report', runDir], /error MSA6741: cannot write the report .*-1111\/report\.html: its directory .*-1111 is not writable \(permission denied\)/, /help: choose a writable place, or pass another -o/],
        [['predict', runDir, '--out', join(ro, 'p.csv')], /error MSA6741: cannot write the predictions .*\/ro\/p\.csv: its directory .*\/ro is not writable \(permission denied\)/, /help: choose a writable place, or pass another --out/],
      ];
      for (const [args, message, help] of cases) {
        const r = as(args);
        expect(r.status, `${args.join(' ')}\n${r.stderr}`).toBe(74);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toMatch(help);
        expect(r.stderr).not.toMatch(STACK_LINE);
        expect(r.stderr).not.toMatch(/EACCES/);
      }
      expect(readdirSync(ro)).toEqual([]);
      expect(readdirSync(runDir).filter((n) => /report\.html|\.tmp-/.test(n))).toEqual([]);

      // A pipeline folder that does not let this user in: a new seed stops at its start lock, named as the run directory.
      const pipe = join(dir, 'runs', 'slow');
      chmodSync(pipe, 0o555);
      const seed2 = as(['run', spec, '--out', join(dir, 'runs'), '--reporter', 'plain', '-s', '1112']);
      expect(seed2.status).toBe(74);
      expect(seed2.stderr).toMatch(/error MSA6741: cannot write the run directory .*\/runs\/slow\/[0-9a-f]{12}-1112: its directory .*\/runs\/slow is not writable \(permission denied\)/);
      expect(readdirSync(pipe).filter((n) => n.includes('1112'))).toEqual([]);
    } finally {
      chmodSync(ro, 0o755);
      chmodSync(runDir, 0o755);
      chmodSync(join(dir, 'runs', 'slow'), 0o755);
    }
  }, 240_000);
});
