import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dataInspectCommand, dataVerifyCommand, type DataIo } from '../../src/cli/data-commands.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/pickles');
const fx = (n: string) => join(FIXTURES, n);
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

function io(over: Partial<DataIo> = {}): DataIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return { out: (s) => void (out += s), err: (s) => void (err += s), cwd: FIXTURES, env: {}, isTTY: false, stdout: () => out, stderr: () => err, ...over };
}

/** A datasets dir with one manifest 'tiny' whose two files live under `root` (one of them may be absent). */
function manifestDir(root: string, shaA: string, shaB = 'f'.repeat(64)): string {
  const dir = mkdtempSync(join(tmpdir(), 'mmsa-verify-'));
  writeFileSync(
    join(dir, 'tiny.dataset.yaml'),
    [
      'name: tiny',
      'root: ${MMSA_DATA_ROOT:-/nonexistent}',
      'source: Get it from https://example.org/tiny',
      'files:',
      '  a:',
      '    path: TINY/Processed/a.pkl',
      `    sha256: ${shaA}`,
      '  b:',
      '    path: TINY/Processed/b.pkl',
      `    sha256: ${shaB}`,
      '',
    ].join('\n'),
  );
  mkdirSync(join(root, 'TINY/Processed'), { recursive: true });
  return dir;
}

describe('mmsa data inspect', () => {
  it('prints the table for a fixture', async () => {
    const t = io();
    expect(await dataInspectCommand('sims_quirks.p4.pkl', { format: 'text' }, t)).toBe(0);
    expect(t.stdout()).toContain('splits: train 8, valid 4, test 4');
    expect(t.stdout()).toMatch(/train\s+audio\s+<f8\s+\[8, 20, 33\].*\s2\s+0\n/);
  });

  it('--format json gives the report as data', async () => {
    const t = io();
    expect(await dataInspectCommand(fx('sims_tiny.p3.pkl'), { format: 'json' }, t)).toBe(0);
    const r = JSON.parse(t.stdout()) as { splits: { name: string; keys: { key: string; shape: number[] }[] }[] };
    expect(r.splits.map((s) => s.name)).toEqual(['train', 'valid', 'test']);
    expect(r.splits[0]!.keys.find((k) => k.key === 'vision')!.shape).toEqual([8, 9, 709]);
  });

  it('a missing file exits 1 with the path', async () => {
    const t = io();
    expect(await dataInspectCommand('nope.pkl', {}, t)).toBe(1);
    expect(t.stderr()).toContain(fx('nope.pkl'));
    expect(t.stderr()).toMatch(/MSA60\d\d/);
  });
});

describe('mmsa data verify', () => {
  it('NAME: OK for a matching file, MISSING with where to get it for an absent one (exit 1)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mmsa-root-'));
    const dir = manifestDir(root, sha(fx('sims_tiny.p4.pkl')));
    copyFileSync(fx('sims_tiny.p4.pkl'), join(root, 'TINY/Processed/a.pkl'));
    const t = io();
    expect(await dataVerifyCommand('tiny', { dataRoot: root, datasetsDir: dir }, t)).toBe(1);
    expect(t.stdout()).toContain(`OK        a: ${join(root, 'TINY/Processed/a.pkl')}`);
    expect(t.stdout()).toContain(`MISSING   b: ${join(root, 'TINY/Processed/b.pkl')}`);
    expect(t.stdout()).toContain('https://example.org/tiny');
    expect(t.stdout()).toContain('--data-root');
    // Plain percentage lines on a non-TTY stderr.
    expect(t.stderr()).toContain('sha256 a.pkl: 100%');
    expect(t.stderr()).not.toContain('\r');
  });

  it('NAME: MISMATCH shows both hashes and exits 1; all present and matching exits 0; the root comes from MMSA_DATA_ROOT', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mmsa-root-'));
    const dir = manifestDir(root, sha(fx('sims_tiny.p4.pkl')), sha(fx('mosi_aligned_tiny.p4.pkl')));
    copyFileSync(fx('sims_tiny.p4.pkl'), join(root, 'TINY/Processed/a.pkl'));
    copyFileSync(fx('mosi_aligned_tiny.p3.pkl'), join(root, 'TINY/Processed/b.pkl'));
    const t = io({ env: { MMSA_DATA_ROOT: root } });
    expect(await dataVerifyCommand('tiny', { datasetsDir: dir }, t)).toBe(1);
    expect(t.stdout()).toContain(`MISMATCH  b`);
    expect(t.stdout()).toContain(`expected ${sha(fx('mosi_aligned_tiny.p4.pkl'))}`);
    expect(t.stdout()).toContain(`found    ${sha(fx('mosi_aligned_tiny.p3.pkl'))}`);
    copyFileSync(fx('mosi_aligned_tiny.p4.pkl'), join(root, 'TINY/Processed/b.pkl'));
    const ok = io({ env: { MMSA_DATA_ROOT: root }, errIsTTY: true });
    expect(await dataVerifyCommand('tiny', { datasetsDir: dir }, ok)).toBe(0);
    // A redrawn bar on a TTY stderr.
    expect(ok.stderr()).toMatch(/\rsha256 b\.pkl \[#+\] 100%/);
  });

  it('FILE: matched against every manifest by hash, or reported as a mismatch of the entry its path names', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mmsa-root-'));
    const dir = manifestDir(root, sha(fx('sims_tiny.p4.pkl')));
    const t = io();
    expect(await dataVerifyCommand(fx('sims_tiny.p4.pkl'), { datasetsDir: dir }, t)).toBe(0);
    expect(t.stdout()).toContain('is tiny/a (TINY/Processed/a.pkl)');
    const u = io();
    expect(await dataVerifyCommand(fx('sims_tiny.p3.pkl'), { datasetsDir: dir }, u)).toBe(1);
    expect(u.stdout()).toContain('UNKNOWN');
    expect(u.stdout()).toContain(sha(fx('sims_tiny.p3.pkl')));
    copyFileSync(fx('sims_tiny.p3.pkl'), join(root, 'TINY/Processed/a.pkl'));
    const m = io();
    expect(await dataVerifyCommand(join(root, 'TINY/Processed/a.pkl'), { datasetsDir: dir }, m)).toBe(1);
    expect(m.stdout()).toContain(`expected ${sha(fx('sims_tiny.p4.pkl'))} (tiny/a)`);
    expect(m.stdout()).toContain(`found    ${sha(fx('sims_tiny.p3.pkl'))}`);
  });

  it('an unknown name lists the known datasets (the shipped manifests by default)', async () => {
    const t = io();
    expect(await dataVerifyCommand('mosj', {}, t)).toBe(1);
    expect(t.stderr()).toContain("no dataset manifest named 'mosj'");
    expect(t.stderr()).toContain('mosi');
    const m = io({ env: { MMSA_DATA_ROOT: '/nonexistent-root' } });
    expect(await dataVerifyCommand('mosi', {}, m)).toBe(1);
    expect(m.stdout()).toContain('MISSING   unaligned_50: /nonexistent-root/MOSI/Processed/unaligned_50.pkl');
    expect(m.stdout()).toContain('drive.google.com');
  });
});
