// Habits users bring from MMSA and other trainers: `mmsa run -d mosi -m lmf -s 1111 -s 1112`, `mmsa run lmf_mosi`,
// and `--set key=value` overrides (checked like the spec, located on the command line, recorded in the lock file).

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { resolveModelDataset, resolveSpecArg } from '../../src/cli/resolve-spec.js';
import { parseSeeds } from '../../src/cli/run-commands.js';
import { compileFile } from '../../src/compiler/compile.js';
import { formatDiagnostics } from '../../src/compiler/diagnostics/format.js';
import { packageRoot, pipelinesDir } from '../../src/paths.js';
import type { LockFile } from '../../src/runtime/run-dir.js';
import { captureIo } from './io.js';

const root = packageRoot();
const tmp = mkdtempSync(join(tmpdir(), 'mmsa-habits-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('MMSA-style spec selection', () => {
  it('-m/-d and a bare name resolve to the shipped paper config, as python -m MMSA -d mosi -m lmf does', () => {
    const byPair = resolveModelDataset('lmf', 'mosi', tmp);
    const byName = resolveSpecArg('lmf_mosi', tmp);
    expect(byPair).not.toBeInstanceOf(Error);
    expect(byName).not.toBeInstanceOf(Error);
    expect((byPair as { path: string }).path).toBe(join(pipelinesDir(), 'lmf_mosi.yaml'));
    expect((byName as { path: string }).path).toBe(join(pipelinesDir(), 'lmf_mosi.yaml'));
    // MMSA's defaults fill the missing half (lf_dnn, sims), and say so.
    const half = resolveModelDataset(undefined, 'mosei', tmp) as { path: string; note: string };
    expect(half.path).toBe(join(pipelinesDir(), 'lf_dnn_mosei.yaml'));
    expect(half.note).toContain("model lf_dnn as MMSA's default");
    expect((resolveModelDataset('tfn', 'synthetic', tmp) as { path: string }).path).toBe(join(pipelinesDir(), 'demo_tfn.yaml'));
    // A file of that name in the working directory wins over the shipped pipeline.
    expect((resolveSpecArg('pipelines/lmf_mosi.yaml', root) as { path: string }).path).toBe(join(root, 'pipelines/lmf_mosi.yaml'));
    const typo = resolveSpecArg('lmf_mosii', tmp);
    expect((typo as Error).message).toContain("Did you mean 'lmf_mosi'?");
  });

  it('-s repeats like MMSA (each may also be a comma list)', () => {
    expect(parseSeeds(['1111', '1112'])).toEqual([1111, 1112]);
    expect(parseSeeds(['1111,1112', '1113'])).toEqual([1111, 1112, 1113]);
    expect(parseSeeds(['x'])).toBeInstanceOf(Error);
  });

  it('mmsa run -d mosi -m lmf -s 1111 -s 1112 compiles the paper config and asks for its MOSI file', async () => {
    const io = captureIo(tmp);
    const code = await main(['run', '-d', 'mosi', '-m', 'lmf', '-s', '1111', '-s', '1112', '--data-root', tmp, '--reporter', 'plain', '--out', join(tmp, 'runs')], io);
    expect(code).toBe(1);
    expect(io.stderr()).toContain("-m lmf -d mosi: ");
    expect(io.stderr()).toContain("lmf_mosi.yaml (MMSA's paper config)");
    expect(io.stderr()).toContain(`feature file not found: ${join(tmp, 'MOSI/Processed/unaligned_50.pkl')}`);
  });

  it('usage errors: a file and -m together, nothing at all, an unknown name', async () => {
    for (const argv of [['run', 'lmf_mosi', '-m', 'lmf'], ['run'], ['run', 'lmf_mosii'], ['check', 'nope_nope']]) {
      const io = captureIo(tmp);
      expect(await main(argv, io), argv.join(' ')).toBe(2);
      expect(io.stderr()).toMatch(/^error: /);
    }
  });
});

describe('--set', () => {
  it('type-checks overrides in the schema pass and locates errors in the --set argument', async () => {
    const io = captureIo(root);
    const code = await main(['check', 'lmf_mosi', '--set', 'train.batch_size=abc', '--set', 'train.optimizer.lrr=3', '--set', 'fusion.rank=4'], io);
    expect(code).toBe(1);
    const err = io.stderr();
    expect(err).toContain('command line:1:24 - error MSA2003: train.batch_size must be an integer, got string "abc"');
    expect(err).toContain('    1 | --set train.batch_size=abc');
    expect(err).toContain("command line:2:23 - error MSA2001: unknown key 'lrr' in train.optimizer");
    expect(err).toContain("did you mean 'lr'?");
    expect(err).not.toContain('command line:3');
  });

  it('overrides any key: scalars, lists and maps (maps merge as in extends)', () => {
    const file = join(pipelinesDir(), 'lmf_mosi.yaml');
    const r = compileFile(file, { until: 'schema', env: {}, set: ['train.batch_size=32', 'seeds=[7, 8]', 'fusion={rank: 5}', 'encoders.audio.dropout=0.1'] });
    expect(formatDiagnostics(r.diagnostics, r.host)).toBe('');
    const spec = r.spec as unknown as Record<string, any>;
    expect(spec['train'].batch_size).toBe(32);
    expect(spec['seeds']).toEqual([7, 8]);
    expect(spec['fusion']).toMatchObject({ type: 'low_rank', rank: 5, inputs: ['audio', 'vision', 'text'] });
    expect(spec['encoders'].audio).toMatchObject({ type: 'subnet', hidden: 16, dropout: 0.1 });
    // A later --set wins; an override that repeats the spec's value changes nothing.
    const twice = compileFile(file, { until: 'schema', env: {}, set: ['train.batch_size=16', 'train.batch_size=24'] });
    expect((twice.spec as any).train.batch_size).toBe(24);
    const same = compileFile(file, { until: 'schema', env: {}, set: ['train.batch_size=64'] });
    expect(same.spec).toEqual(compileFile(file, { until: 'schema', env: {} }).spec);
  });

  it('rejects a malformed --set before compiling (exit 2)', async () => {
    for (const bad of ['train.batch_size', '=3', 'train..x=1', 'seeds.0=1']) {
      const io = captureIo(root);
      expect(await main(['check', 'lmf_mosi', '--set', bad], io), bad).toBe(2);
      expect(io.stderr()).toContain('--set');
    }
  });

  it('mmsa run -m/-d -s -s --set: trains the named pipeline with the override, recorded in the lock file', async () => {
    const out = join(tmp, 'runs');
    const io = captureIo(tmp);
    const argv = ['run', '-m', 'lmf', '-d', 'synthetic', '-s', '7', '-s', '8', '--max-epochs', '1', '--set', 'train.batch_size=16', '--reporter', 'plain', '--out', out];
    expect(await main(argv, io)).toBe(0);
    const dirs = readdirSync(join(out, 'demo_lmf')).filter((d) => !d.includes('summary')).sort();
    expect(dirs.map((d) => d.replace(/^[0-9a-f]+-/, ''))).toEqual(['7', '8']);
    const lock = JSON.parse(readFileSync(join(out, 'demo_lmf', dirs[0]!, 'spec.lock.json'), 'utf8')) as LockFile;
    expect(lock.overrides).toEqual({ maxEpochs: 1, seeds: [7, 8], set: ['train.batch_size=16'] });
    expect((lock.spec['train'] as Record<string, unknown>)['batch_size']).toBe(16);
    expect(lock.file).toBe(join(pipelinesDir(), 'demo_lmf.yaml'));
    // The override is part of the experiment: without it the spec hash differs.
    const io2 = captureIo(tmp);
    expect(await main(['run', 'demo_lmf', '-s', '7', '--max-epochs', '1', '--reporter', 'plain', '--out', out], io2)).toBe(0);
    const hashes = new Set(readdirSync(join(out, 'demo_lmf')).filter((d) => d.endsWith('-7')).map((d) => d.split('-')[0]));
    expect(hashes.size).toBe(2);
  });
});
