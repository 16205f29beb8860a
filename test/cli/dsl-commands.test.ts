import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIo } from './io.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const twins = readdirSync(join(repo, 'pipelines')).filter((f) => f.endsWith('.mmsa')).map((f) => f.replace(/\.mmsa$/, ''));

describe('mmsa compile --emit spec on .mmsa / .yaml twins', () => {
  it('ships the headline twins', () => {
    for (const name of ['self_mm_sims', 'self_mm_mosi', 'lmf_mosi', 'ef_lstm_mosi', 'demo_self_mm']) expect(twins).toContain(name);
  });
  for (const name of twins) {
    it(`${name}: identical normalized spec`, async () => {
      const a = captureIo(repo);
      const b = captureIo(repo);
      expect(await main(['compile', `pipelines/${name}.yaml`, '--emit', 'spec'], a)).toBe(0);
      expect(await main(['compile', `pipelines/${name}.mmsa`, '--emit', 'spec'], b)).toBe(0);
      expect(a.stdout().length).toBeGreaterThan(100);
      expect(b.stdout()).toBe(a.stdout());
    });
  }
});

describe('mmsa fmt', () => {
  it('--check passes on every shipped .mmsa file', async () => {
    const io = captureIo(repo);
    expect(await main(['fmt', '--check', ...twins.map((t) => `pipelines/${t}.mmsa`)], io)).toBe(0);
  });
  it('--check fails on unformatted input and --write fixes it idempotently', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsa-fmt-'));
    const f = join(dir, 'x.mmsa');
    writeFileSync(f, 'pipeline x {   version 1\n  seeds [1,2]   # two seeds\n}\n');
    const io = captureIo(dir);
    expect(await main(['fmt', '--check', 'x.mmsa'], io)).toBe(1);
    expect(io.stderr()).toContain('not formatted');
    expect(await main(['fmt', '--write', 'x.mmsa'], captureIo(dir))).toBe(0);
    const once = readFileSync(f, 'utf8');
    expect(once).toContain('# two seeds');
    expect(await main(['fmt', '--check', 'x.mmsa'], captureIo(dir))).toBe(0);
  });
  it('reports syntax errors with code frames and exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsa-fmt-'));
    writeFileSync(join(dir, 'bad.mmsa'), 'pipeline x {\n  version 1\n  seeds [1, 2\n}\n');
    const io = captureIo(dir);
    expect(await main(['fmt', 'bad.mmsa'], io)).toBe(1);
    expect(io.stderr()).toMatch(/bad\.mmsa:\d+:\d+ - error MSA10\d\d/);
  });
});

describe('mmsa convert', () => {
  it('YAML -> .mmsa -> YAML keeps the normalized spec', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsa-conv-'));
    const src = join(repo, 'pipelines/tfn_sims.yaml');
    // Convert next to the original so `extends: tfn` still resolves through the presets.
    const io1 = captureIo(dir);
    expect(await main(['convert', src, '--out', join(dir, 'tfn_sims.mmsa')], io1)).toBe(0);
    expect(await main(['convert', join(dir, 'tfn_sims.mmsa'), '--out', join(dir, 'tfn_sims.yaml')], captureIo(dir))).toBe(0);
    const outs: string[] = [];
    for (const f of [src, join(dir, 'tfn_sims.mmsa'), join(dir, 'tfn_sims.yaml')]) {
      const io = captureIo(repo);
      expect(await main(['compile', f, '--emit', 'spec'], io)).toBe(0);
      outs.push(io.stdout());
    }
    expect(outs[1]).toBe(outs[0]);
    expect(outs[2]).toBe(outs[0]);
  });
  it('rejects an --out of the wrong format (usage error)', async () => {
    const io = captureIo(repo);
    expect(await main(['convert', 'pipelines/tfn_sims.yaml', '--out', '/tmp/x.yaml'], io)).toBe(2);
  });
});
