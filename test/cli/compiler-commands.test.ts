// `mmsa check | plan | compile | schema` through main(argv, io): exit codes, output formats, and that the built
// CLI checks a spec without ever loading tfjs. Phases 0-5 behind the command line.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { main, type Io } from '../../src/cli/main.js';
import { compileFile } from '../../src/compiler/compile.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => (out += s), err: (s) => (err += s), cwd: repoRoot, env, isTTY: false };
  const code = await main(argv, io);
  return { code, out, err };
}

const BROKEN = 'test/fixtures/broken/many-semantic-mistakes.yaml';
const CLEAN = 'pipelines/lf_dnn_mosi.yaml';

describe('mmsa check: exit codes', () => {
  it('0 for clean specs', async () => {
    const r = await run(['check', CLEAN, 'pipelines/self_mm_sims.yaml']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('ok: 2 of 2 specs passed\n');
  });

  it('0 when there are only warnings', async () => {
    const r = await run(['check', 'test/fixtures/broken/unused-modality-and-head.yaml']);
    expect(r.code).toBe(0);
    expect(r.err).toContain('warning MSA3016');
  });

  it('1 when a spec has errors, with every error in the text output', async () => {
    const r = await run(['check', CLEAN, BROKEN]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${BROKEN}:11:46 - error MSA3001: encoder 'txt' is not declared`);
    expect(r.err).toContain('6 errors, 1 warning');
    expect(r.err).toMatch(/failed: 1 of 2 specs passed\n$/);
    expect(r.out).toBe('');
  });

  it('1 for a file that does not exist', async () => {
    const r = await run(['check', 'pipelines/nope.yaml']);
    expect(r.code).toBe(1);
    expect(r.err).toContain("error MSA1004: cannot read");
  });

  it.each([
    ['an unknown command', ['chek', CLEAN]],
    ['an unknown option', ['check', '--fromat', 'json', CLEAN]],
    ['a missing argument', ['check']],
    ['a bad --format choice', ['check', '--format', 'xml', CLEAN]],
    ['a bad --emit choice', ['compile', CLEAN, '--emit', 'tfjs']],
  ])('2 for %s', async (_what, argv) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/error:/);
    expect(r.out).toBe('');
  });

  it('0 for --help and --version', async () => {
    expect((await run(['--help'])).code).toBe(0);
    const v = await run(['--version']);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('mmsa check --format json', () => {
  it('prints parseable diagnostics with every field', async () => {
    const r = await run(['check', '--format', 'json', BROKEN, CLEAN]);
    expect(r.code).toBe(1);
    expect(r.err).toBe('');
    const ds = JSON.parse(r.out) as Record<string, unknown>[];
    expect(ds.length).toBe(7);
    for (const d of ds) {
      expect(Object.keys(d).sort()).toEqual(['code', 'column', 'endColumn', 'endLine', 'file', 'hint', 'line', 'message', 'related', 'severity'].sort());
      expect(d['code']).toMatch(/^MSA\d{4}$/);
      expect(['error', 'warning', 'info']).toContain(d['severity']);
      expect(typeof d['line']).toBe('number');
      expect(d['hint'] === null || typeof d['hint'] === 'string').toBe(true);
      expect(Array.isArray(d['related'])).toBe(true);
      expect(String(d['file'])).not.toMatch(/^\//); // relative to cwd
    }
    expect(ds[1]).toMatchObject({ code: 'MSA3001', file: BROKEN, line: 11, column: 46, endLine: 11, endColumn: 49, hint: "did you mean 'text'?" });
    expect((ds[1]!['related'] as unknown[])[0]).toMatchObject({ message: 'encoders are declared here', file: BROKEN, line: 7, column: 1 });
  });

  it('prints [] for clean specs', async () => {
    const r = await run(['check', '--format', 'json', CLEAN]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([]);
  });
});

describe('mmsa schema, plan, compile', () => {
  it('schema prints JSON Schema that ajv compiles and that accepts a compiled spec', async () => {
    const r = await run(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.out) as Record<string, unknown>;
    const ajv = new Ajv2020({ discriminator: true, allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const spec = compileFile(join(repoRoot, 'pipelines/self_mm_mosi.yaml'), { env: {} }).spec;
    expect(validate(spec), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ version: 1, dataset: 'mosi' })).toBe(false);

    const ds = await run(['schema', '--what', 'dataset']);
    expect(ds.code).toBe(0);
    expect(() => new Ajv2020({ strict: false }).compile(JSON.parse(ds.out) as object)).not.toThrow();
  });

  it('plan prints the plan text, and JSON with --format json', async () => {
    const r = await run(['plan', 'pipelines/lmf_mosi.yaml']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^pipeline lmf_mosi {2}\(pipelines\/lmf_mosi\.yaml\)\n/);
    expect(r.out).toContain('parameter groups');
    expect(r.out).toContain('frozen: frozen (never updated)');
    const j = await run(['plan', '--format', 'json', 'pipelines/lmf_mosi.yaml']);
    expect(j.code).toBe(0);
    const ir = JSON.parse(j.out) as { pipeline: string; nodes: { id: string }[] };
    expect(ir.pipeline).toBe('lmf_mosi');
    expect(ir.nodes.map((n) => n.id)).toContain('fusion');
  });

  it('plan --verbose lists every parameter with the MMSA state_dict name its mmsa_modules give it', async () => {
    const r = await run(['plan', '--verbose', 'pipelines/lmf_mosi.yaml']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('param  linear_1.weight [16, 5]  (MMSA Model.audio_subnet.linear_1.weight)\n');
    expect(r.out).toMatch(/param {2}audio_factor \[\d+, \d+, \d+\]  \(MMSA Model\.audio_factor\)\n/);
    // Without --verbose no parameter lines (and no MMSA names).
    expect((await run(['plan', 'pipelines/lmf_mosi.yaml'])).out).not.toContain('(MMSA ');
  });

  it('plan of a broken spec fails with its diagnostics', async () => {
    const r = await run(['plan', BROKEN]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('MSA3001');
  });

  it('compile --emit spec and --emit ir print JSON', async () => {
    const s = await run(['compile', 'pipelines/tfn_mosi.yaml', '--emit', 'spec']);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.out)).toMatchObject({ name: 'tfn_mosi', version: 1, fusion: { type: 'tensor' } });
    const i = await run(['compile', 'pipelines/tfn_mosi.yaml', '--emit', 'ir']);
    expect(i.code).toBe(0);
    const ir = JSON.parse(i.out) as { file: string; nodes: { span: { file: string } }[] };
    expect(ir.file).toBe('pipelines/tfn_mosi.yaml');
    expect(ir.nodes.every((n) => !n.span.file.startsWith('/'))).toBe(true);
    const bad = await run(['compile', BROKEN]);
    expect(bad.code).toBe(1);
    expect(bad.out).toBe('');
  });
});

// ---- the built CLI never loads tfjs -----------------------------------------------------------------

const distMain = join(repoRoot, 'dist/cli/main.js');
const haveDist = existsSync(distMain);
if (!haveDist) console.warn(`skipping the tfjs-free CLI tests: ${distMain} is missing (run \`npx tsc -p tsconfig.build.json\`)`);

describe.skipIf(!haveDist)('the built CLI (dist/)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mmsa-cli-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  // An ESM resolve hook logs every module URL the process resolves (ESM imports, and `import` of CJS packages);
  // `require.cache` lists CommonJS modules loaded by require (tfjs' `main` is CommonJS).
  const hooks = join(tmp, 'hooks.mjs');
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.MMSA_LOAD_LOG, r.url + '\\n');
  return r;
}
`);
  const register = join(tmp, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)});\n`);

  /** Runs `body` (ESM, top-level await) in a child node; returns whether any loaded module path names @tensorflow. */
  function loadsTfjs(body: string): { tfjs: boolean; status: number | null; stderr: string } {
    const log = join(tmp, `load-${Math.random().toString(36).slice(2)}.log`);
    writeFileSync(log, '');
    const script = `
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
${body}
const require = createRequire(import.meta.url);
const cjs = Object.keys(require.cache);
const esm = readFileSync(process.env.MMSA_LOAD_LOG, 'utf8').split('\\n');
process.stdout.write(JSON.stringify({ tfjs: [...cjs, ...esm].some((p) => p.includes('@tensorflow')), cjs: cjs.length, esm: esm.length }));
`;
    const r = spawnSync(process.execPath, ['--import', `file://${register}`, '--input-type=module', '-e', script], {
      cwd: repoRoot,
      env: { ...process.env, MMSA_LOAD_LOG: log, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const parsed = JSON.parse(r.stdout || '{"tfjs": null}') as { tfjs: boolean; esm: number };
    return { tfjs: parsed.tfjs, status: r.status, stderr: r.stderr };
  }

  it('the detector sees tfjs when it is loaded (positive control)', () => {
    const r = loadsTfjs(`await import('@tensorflow/tfjs');`);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.tfjs).toBe(true);
  });

  it('`mmsa check` loads no tfjs', () => {
    const r = loadsTfjs(`
const { main } = await import(${JSON.stringify(`file://${distMain}`)});
const io = { out: () => {}, err: () => {}, cwd: process.cwd(), env: {}, isTTY: false };
const code = await main(['check', 'pipelines/self_mm_sims.yaml', 'pipelines/demo_lmf.yaml'], io);
if (code !== 0) throw new Error('check failed with ' + code);
`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.tfjs).toBe(false);
  });

  it('importing the package (and compiling through it) loads no tfjs', () => {
    const r = loadsTfjs(`
const m = await import(${JSON.stringify(`file://${join(repoRoot, 'dist/index.js')}`)});
const c = m.compileFile('pipelines/demo_self_mm.yaml');
if (!c.ir || typeof m.pipelinesDir !== 'function' || typeof m.runPipeline !== 'function') throw new Error('bad package');
`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.tfjs).toBe(false);
  });

  it('`node bin/mmsa.js check` exits 0 on a shipped pipeline', () => {
    const r = spawnSync(process.execPath, ['bin/mmsa.js', 'check', 'pipelines/self_mm_sims.yaml'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('ok: 1 of 1 spec passed\n');
    expect(r.status).toBe(0);
  });
});
