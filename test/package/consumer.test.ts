// The package as a user gets it: `npm pack`, unpacked into an empty project, compiled by tsc in a strict project
// without skipLibCheck, and docs/api.md's example run as written. Also the optional GPU peer dependency.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureIo } from '../cli/io.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Inside the checkout (tmp/ is ignored by git) so the unpacked package finds its dependencies in node_modules above,
// as it would in a user's project, without downloading anything.
mkdirSync(join(repo, 'tmp'), { recursive: true });
const work = mkdtempSync(join(repo, 'tmp', 'consumer-'));
const project = join(work, 'project');
const tsc = join(repo, 'node_modules/.bin/tsc');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The code block of docs/api.md whose info string names example.ts. */
function docExample(): string {
  const md = readFileSync(join(repo, 'docs/api.md'), 'utf8');
  const m = /```ts example\.ts\n([\s\S]*?)```/.exec(md);
  if (!m) throw new Error('docs/api.md has no ```ts example.ts block');
  return m[1]!;
}

beforeAll(() => {
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repo, encoding: 'utf8' });
  expect(pack.status, pack.stderr).toBe(0);
  const tarball = join(work, (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename);
  const pkgDir = join(project, 'node_modules/mmsa');
  mkdirSync(pkgDir, { recursive: true });
  const untar = spawnSync('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1']);
  expect(untar.status).toBe(0);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: false,
        types: ['node'],
        outDir: 'out',
      },
      files: ['example.ts', 'api.ts'],
    }),
  );
  writeFileSync(join(project, 'example.ts'), docExample());
  // Types a user reaches for beyond the example.
  writeFileSync(
    join(project, 'api.ts'),
    [
      "import { compileFileAsync, editorSchema, packageRoot, presetsDir, datasetsDir, readPickle, type RunEvent, type RunOutcome, type PipelineRunOptions, type Diagnostic } from 'mmsa';",
      "import pkg from 'mmsa/package.json' with { type: 'json' };",
      'export const facts = { root: packageRoot(), presets: presetsDir(), datasets: datasetsDir(), version: pkg.version };',
      "export const opts: PipelineRunOptions = { outRoot: 'runs', backend: 'tensorflow-gpu', native: 'off' };",
      "export function label(e: RunEvent): string { return e.kind === 'epoch.end' ? `epoch ${e.epoch}` : e.kind; }",
      'export type Done = RunOutcome["status"];',
      "export const later = async (): Promise<Diagnostic[]> => (await compileFileAsync('x.mmsa')).diagnostics;",
      "export const schema = editorSchema('pipeline');",
      'export const reader = readPickle;',
      '',
    ].join('\n'),
  );
}, 120_000);

describe('the packed package', () => {
  it('compiles in a strict TypeScript project without skipLibCheck', () => {
    const r = spawnSync(tsc, ['-p', project], { cwd: project, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });

  it("runs docs/api.md's example as written", () => {
    const r = spawnSync(process.execPath, ['out/example.js'], { cwd: project, encoding: 'utf8', env: { ...process.env, MMSA_NATIVE: 'off' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^mmsa \d+\.\d+\.\d+, pipeline demo_lmf/);
    expect(lines[1]).toMatch(/^epoch 1: train loss \d+\.\d{4}$/);
    expect(lines[2]).toMatch(/^test MAE \d+\.\d+$/);
    // The run directory is where the example said, with the --set override in its lock file.
    const dirs = readdirSync(join(project, 'runs/demo_lmf')).filter((d) => d.endsWith('-1111'));
    expect(dirs).toHaveLength(1);
    const lock = JSON.parse(readFileSync(join(project, 'runs/demo_lmf', dirs[0]!, 'spec.lock.json'), 'utf8')) as { spec: { train: { batch_size: number } } };
    expect(lock.spec.train.batch_size).toBe(32);
  });
});

describe('GPU backend (optional peer dependency)', () => {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;

  it('declares tfjs-node and tfjs-node-gpu as optional peers at the version of @tensorflow/tfjs', () => {
    const tfjs = pkg['dependencies']!['@tensorflow/tfjs'];
    for (const p of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
      expect(pkg['peerDependencies']![p], p).toBe(tfjs);
      expect(pkg['peerDependenciesMeta']![p], p).toEqual({ optional: true });
    }
  });

  it('mmsa run --backend tensorflow-gpu without the package says what to install, before loading data', async () => {
    const io = captureIo(work);
    const code = await main(['run', 'demo_lmf', '--backend', 'tensorflow-gpu', '--reporter', 'plain', '--out', join(work, 'gpu-runs')], io);
    expect(code).toBe(1);
    const version = (JSON.parse(readFileSync(join(repo, 'node_modules/@tensorflow/tfjs-core/package.json'), 'utf8')) as { version: string }).version;
    expect(io.stderr()).toContain("error MSA6501: backend 'tensorflow-gpu' needs the optional package @tensorflow/tfjs-node-gpu, which is not installed");
    expect(io.stderr()).toContain(`npm i @tensorflow/tfjs-node-gpu@${version}`);
    expect(io.stderr()).toContain('CUDA');
    expect(readdirSync(work)).not.toContain('gpu-runs');
  });
});
