// A relative path is relative to the spec file that wrote it, also when a spec in another directory extends that file:
// the custom dataset's path and manifest and BERT's `pretrained`, when the spec compiles and again when `mmsa predict`
// recompiles the run's lock file beside the run's own spec. Phase 3 (resolve) and the run directory, from the CLI.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compileFile } from '../../src/compiler/compile.js';
import { packageRoot } from '../../src/paths.js';
import type { LockFile } from '../../src/runtime/run-dir.js';
import { captureIo } from './io.js';
import { lockSpecOf } from '../../src/runtime/run-start.js';

const root = packageRoot();
const fixtures = join(root, 'test/fixtures/mmsa-checkpoints');
const work = mkdtempSync(join(tmpdir(), 'mmsa-extends-paths-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// ALMT's checkpoint case writes `dataset: {path: ../data/mosi.pkl, manifest: ../data/mosi.dataset.yaml}` and
// `pretrained: ../../hf-bert/small-bert`, relative to itself; this spec sits elsewhere and extends it unchanged.
const child = join(work, 'experiments', 'almt', 'child.yaml');
mkdirSync(dirname(child), { recursive: true });
writeFileSync(child, `version: 1\nextends: ${join(fixtures, 'almt_mosi/pipeline.yaml')}\n`);
const dataFile = join(fixtures, 'data/mosi.pkl');
const manifest = join(fixtures, 'data/mosi.dataset.yaml');
const bert = join(root, 'test/fixtures/hf-bert/small-bert');

describe('relative paths through extends', () => {
  it('resolve against the file that wrote them, not the extending spec', () => {
    const r = compileFile(child);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.ir!.dataset.path).toBe(dataFile);
    expect(r.ir!.dataset.manifestPath).toBe(manifest);
    const text = r.ir!.nodes.find((n) => n.id === 'encoders.text')!;
    expect((text.config as { pretrained: string }).pretrained).toBe(bert);
  });

  it('the run\'s lock keeps them as resolved, so mmsa predict finds the data and the BERT again', { timeout: 180_000 }, async () => {
    const env = { ...process.env, NO_COLOR: '1' };
    const dir = join(work, 'run');
    let io = captureIo(root, env);
    expect(await main(['import', join(fixtures, 'almt_mosi/checkpoint.pth'), '--pipeline', child, '--out', dir], io), io.stderr()).toBe(0);
    const lock = JSON.parse(readFileSync(join(dir, 'spec.lock.json'), 'utf8')) as LockFile;
    const spec = lock.spec as { dataset: { path: string; manifest: string }; encoders: { text: { pretrained: string } } };
    // Relative to the run's spec (the lock is compiled beside it), pointing at the same files.
    expect(spec.dataset.path.startsWith('.')).toBe(true);
    expect(resolve(dirname(child), spec.dataset.path)).toBe(dataFile);
    expect(resolve(dirname(child), spec.dataset.manifest)).toBe(manifest);
    expect(resolve(dirname(child), spec.encoders.text.pretrained)).toBe(bert);
    const out = join(work, 'predictions.json');
    io = captureIo(root, env);
    expect(await main(['predict', dir, '--out', out], io), io.stderr()).toBe(0);
    const expected = JSON.parse(readFileSync(join(fixtures, 'almt_mosi/expected.json'), 'utf8')) as { ids: string[]; preds: number[] };
    const got = new Map((JSON.parse(readFileSync(out, 'utf8')) as { id: string; prediction: number }[]).map((x) => [x.id, x.prediction]));
    expect(Math.max(...expected.ids.map((id, i) => Math.abs(got.get(id)! - expected.preds[i]!)))).toBeLessThan(1e-4);
  });
});

describe('a named dataset\'s relative root', () => {
  // A parent spec in one directory names MOSI with `root: ./data`; a child in another directory extends it. The root is
  // the parent's ./data whatever the working directory, and the run's lock keeps it relative to the run's spec.
  const parentDir = join(work, 'team-configs');
  const parent = join(parentDir, 'parent.yaml');
  const childDir = join(work, 'elsewhere', 'deeper');
  const rootChild = join(childDir, 'child.yaml');
  mkdirSync(parentDir, { recursive: true });
  mkdirSync(childDir, { recursive: true });
  writeFileSync(parent, `version: 1\nextends: ${join(root, 'pipelines/lf_dnn_mosi.yaml')}\ndataset: {name: mosi, file: unaligned_50, root: ./data}\n`);
  writeFileSync(rootChild, `version: 1\nextends: ../../team-configs/parent.yaml\n`);

  it('resolves against the file that wrote it, not the working directory or the extending spec', () => {
    const cwd = process.cwd();
    try {
      process.chdir(childDir);
      const r = compileFile(rootChild);
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(r.ir!.dataset.root).toBe(join(parentDir, 'data'));
    } finally {
      process.chdir(cwd);
    }
  });

  it('is written where it says and through the CLI flag relative to the working directory', () => {
    writeFileSync(join(parentDir, 'own.yaml'), `version: 1\nextends: ${join(root, 'pipelines/lf_dnn_mosi.yaml')}\ndataset: {name: mosi, file: unaligned_50, root: ../mmsa-data}\n`);
    expect(compileFile(join(parentDir, 'own.yaml')).ir!.dataset.root).toBe(join(work, 'mmsa-data'));
    // No root in the spec: --data-root (here the compile option) stays relative to the working directory.
    const plain = join(parentDir, 'plain.yaml');
    writeFileSync(plain, `version: 1\nextends: ${join(root, 'pipelines/lf_dnn_mosi.yaml')}\n`);
    expect(compileFile(plain, { dataRoot: 'cli-data', env: {} }).ir!.dataset.root).toBe(resolve('cli-data'));
  });

  it('is kept in the run\'s lock relative to the run\'s spec', () => {
    const r = compileFile(rootChild);
    const lock = lockSpecOf(r.spec as unknown as Record<string, unknown>, r.ir!, rootChild) as { dataset: { root: string } };
    expect(lock.dataset.root).toBe('../../team-configs/data');
    expect(resolve(childDir, lock.dataset.root)).toBe(join(parentDir, 'data'));
    // An absolute root is kept as written.
    const abs = join(work, 'abs.yaml');
    writeFileSync(abs, `version: 1\nextends: ${join(root, 'pipelines/lf_dnn_mosi.yaml')}\ndataset: {name: mosi, file: unaligned_50, root: ${join(work, 'x')}}\n`);
    const ra = compileFile(abs);
    expect((lockSpecOf(ra.spec as unknown as Record<string, unknown>, ra.ir!, abs) as { dataset: { root: string } }).dataset.root).toBe(join(work, 'x'));
  });
});
