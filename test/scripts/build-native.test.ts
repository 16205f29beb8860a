import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { NATIVE_VERSION } from '../../src/runtime/native.js';
import { nativeDisabled } from '../helpers/native.js';

const root = packageRoot();
const build = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['scripts/build-native.mjs', ...args], { cwd: root, encoding: 'utf8', timeout: 180_000, env: { ...process.env, MMSA_NATIVE: '', ...env } });

describe('scripts/build-native.mjs (runs at npm install)', () => {
  it('never fails the install when there is no compiler, but says why and how to retry; --strict fails', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mmsa-native-')), 'x.node');
    const soft = build(['--out', out, '--force'], { CC: '/nonexistent/cc' });
    expect(soft.status).toBe(0);
    expect(soft.stderr).toMatch(/cannot run the C compiler '\/nonexistent\/cc'/);
    expect(soft.stderr).toMatch(/runs on the wasm backend alone/);
    expect(existsSync(out)).toBe(false);
    const strict = build(['--out', out, '--force', '--strict'], { CC: '/nonexistent/cc' });
    expect(strict.status).toBe(1);
    // a compiler that fails: the command line and its output are shown
    const failing = build(['--out', out, '--force'], { CC: 'false' });
    expect(failing.status).toBe(0);
    expect(failing.stderr).toMatch(/compiling the native kernels failed:\nfalse .*addon\.c/);
    expect(build(['--out', out], { MMSA_NATIVE: '0' }).stderr).toMatch(/MMSA_NATIVE=0: not building/);
  });

  it.skipIf(nativeDisabled)('builds a loadable library, and a second run with unchanged sources does nothing', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mmsa-native-')), 'lib.node');
    const first = build(['--out', out, '--strict']);
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/built .*lib\.node \((avx512|avx2|generic), /);
    const again = build(['--out', out, '--strict']);
    expect(again.stderr).toMatch(/up to date/);
    const probe = spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(out)}).info().version)`], { encoding: 'utf8' });
    expect(probe.stdout.trim()).toBe(NATIVE_VERSION);
  });
});
