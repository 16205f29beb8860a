// What `mmsa check` loads at start (the cold-start budget, measured by `npm run bench -- check`): YAML specs pull in
// neither the .mmsa parser (chevrotain) nor ajv's schema compiler, the command runs the bundle (and nothing stale),
// and the precompiled validators agree with ajv.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DiagnosticBag } from '../../src/compiler/diagnostics/diagnostic.js';
import { SourceHost } from '../../src/compiler/source/source-file.js';
import { datasetValidator, pipelineValidator, schemaSourceHash } from '../../src/compiler/schema/schemas.js';
import { loadStandaloneValidators, STANDALONE_FILE } from '../../src/compiler/schema/standalone.js';
import { loadWithExtends } from '../../src/compiler/spec/extends.js';
import { interpolateTree } from '../../src/compiler/spec/interpolate.js';
import { toValue } from '../../src/compiler/spec/spec-tree.js';
import { loadDslFrontEnd, parseSpecFile } from '../../src/compiler/syntax/parse-file.js';
import { parseYaml } from '../../src/compiler/syntax/yaml/parse-yaml.js';
import { SourceFile } from '../../src/compiler/source/source-file.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const generated = join(repo, 'dist/compiler/schema', STANDALONE_FILE);
const tmp = mkdtempSync(join(tmpdir(), 'mmsa-startup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs `mmsa check` from dist/ in a fresh node and lists every module it loaded (ESM through a hook, CJS from the cache). */
function loadedBy(args: string[]): { code: number | null; modules: string[] } {
  const list = join(tmp, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  const hooks = join(tmp, 'hooks.mjs');
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs';\nexport async function load(u, c, next) { appendFileSync(${JSON.stringify(list)}, u + '\\n'); return next(u, c); }\n`);
  const driver = join(tmp, 'driver.mjs');
  writeFileSync(
    driver,
    `import { register, createRequire } from 'node:module';\nimport { appendFileSync } from 'node:fs';\n` +
      `register(${JSON.stringify(pathToFileURL(hooks).href)});\n` +
      `const { main } = await import(${JSON.stringify(pathToFileURL(join(repo, 'dist/cli/main.js')).href)});\n` +
      `const io = { out() {}, err() {}, cwd: ${JSON.stringify(repo)}, env: {}, isTTY: false };\n` +
      `const code = await main(JSON.parse(process.argv[2]), io);\n` +
      `appendFileSync(${JSON.stringify(list)}, Object.keys(createRequire(import.meta.url).cache).join('\\n') + '\\n');\n` +
      `const { standaloneStatus } = await import(${JSON.stringify(pathToFileURL(join(repo, 'dist/compiler/schema/standalone.js')).href)});\n` +
      `const st = standaloneStatus();\n` +
      `appendFileSync(${JSON.stringify(list)}, 'standalone:' + st.loaded + ':' + st.codeCache + '\\n');\n` +
      `process.exitCode = code;\n`,
  );
  const r = spawnSync(process.execPath, [driver, JSON.stringify(args)], { cwd: repo, encoding: 'utf8' });
  return { code: r.status, modules: readFileSync(list, 'utf8').split('\n').filter(Boolean) };
}

describe('mmsa check start-up', () => {
  it('checks YAML paper configs without loading the .mmsa parser or compiling a schema', () => {
    const r = loadedBy(['check', 'pipelines/lmf_mosi.yaml', 'pipelines/self_mm_sims.yaml']);
    expect(r.code).toBe(0);
    expect(r.modules.some((m) => m.includes('/dist/compiler/compile.js')), 'the hook sees the compiler').toBe(true);
    expect(r.modules.filter((m) => /chevrotain|lodash-es|\/syntax\/dsl\//.test(m))).toEqual([]);
    expect(r.modules.filter((m) => /ajv\/dist\/(compile|2020|core)/.test(m))).toEqual([]);
    // The precompiled validators answer, from V8's code cache written at build time (same Node here).
    expect(r.modules.filter((m) => m.startsWith('standalone:'))).toEqual(['standalone:true:accepted']);
  });

  it('loads the .mmsa parser when a spec needs it, and ajv when a spec is invalid', () => {
    const dsl = loadedBy(['check', 'pipelines/lmf_mosi.mmsa']);
    expect(dsl.code).toBe(0);
    expect(dsl.modules.some((m) => m.includes('chevrotain'))).toBe(true);
    const bad = loadedBy(['check', 'test/fixtures/broken/key-typo-hidden.yaml']);
    expect(bad.code).toBe(1);
    expect(bad.modules.some((m) => m.includes('ajv/dist/2020'))).toBe(true);
  });
});

/** Runs `node bin/mmsa.js ARGS` (what the `mmsa` command runs) and lists the ES modules it loaded. */
function loadedByBin(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; modules: string[]; stderr: string } {
  const list = join(tmp, `bin-${Math.random().toString(36).slice(2)}.txt`);
  const hooks = join(tmp, 'bin-hooks.mjs');
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs';\nexport async function load(u, c, next) { appendFileSync(process.env.MMSA_TEST_LOADED, u + '\\n'); return next(u, c); }\n`);
  const register = join(tmp, 'bin-register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, join(repo, 'bin/mmsa.js'), ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, ...env, MMSA_TEST_LOADED: list },
  });
  return { code: r.status, modules: readFileSync(list, 'utf8').split('\n').filter(Boolean), stderr: r.stderr };
}

describe('the bundled CLI (scripts/bundle-cli.mjs)', () => {
  it('is what `mmsa` runs after a build: a few chunks instead of one module per source file', () => {
    const r = loadedByBin(['check', 'pipelines/lmf_mosi.yaml', 'pipelines/self_mm_sims.yaml']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('2 of 2 specs passed');
    const ours = r.modules.filter((m) => m.includes('/dist/'));
    expect(ours.some((m) => m.includes('/dist/bundle/main.js'))).toBe(true);
    expect(ours.filter((m) => !m.includes('/dist/bundle/') && !m.endsWith('/dist/node-version.js'))).toEqual([]);
    // yaml and commander are inside the bundle; the .mmsa parser and ajv's compiler stay unloaded as before.
    expect(r.modules.filter((m) => /node_modules\/(yaml|commander)\/|chevrotain|ajv\/dist\/(compile|2020|core)/.test(m))).toEqual([]);
    expect(ours.length, 'chunks loaded').toBeLessThan(40);
  });

  it('reports exactly what the unbundled CLI reports, for a broken spec too', () => {
    for (const args of [['check', 'test/fixtures/broken/key-typo-hidden.yaml'], ['check', 'pipelines/lmf_mosi.mmsa'], ['--version']]) {
      const bundled = spawnSync(process.execPath, [join(repo, 'bin/mmsa.js'), ...args], { cwd: repo, encoding: 'utf8' });
      const plain = spawnSync(process.execPath, [join(repo, 'bin/mmsa.js'), ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, MMSA_BUNDLE: '0' } });
      expect([bundled.status, bundled.stdout, bundled.stderr], args.join(' ')).toEqual([plain.status, plain.stdout, plain.stderr]);
    }
    const plain = loadedByBin(['check', 'pipelines/lmf_mosi.yaml'], { MMSA_BUNDLE: '0' });
    expect(plain.modules.some((m) => m.includes('/dist/cli/main.js'))).toBe(true);
    expect(plain.modules.some((m) => m.includes('/dist/bundle/'))).toBe(false);
  });

  it('is bypassed once dist/cli/main.js is not the file it was made from (a tsc without the bundle step)', () => {
    // bin/mmsa.js in a package of its own whose two entry modules only say which one ran.
    const pkg = mkdtempSync(join(tmp, 'pkg-'));
    for (const d of ['bin', 'dist/cli', 'dist/bundle']) mkdirSync(join(pkg, d), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), readFileSync(join(repo, 'package.json')));
    writeFileSync(join(pkg, 'bin/mmsa.js'), readFileSync(join(repo, 'bin/mmsa.js')));
    writeFileSync(join(pkg, 'dist/node-version.js'), readFileSync(join(repo, 'dist/node-version.js')));
    const entry = (name: string) => `export async function main() { process.stdout.write(${JSON.stringify(name)}); return 0; }\n`;
    writeFileSync(join(pkg, 'dist/cli/main.js'), entry('cli'));
    writeFileSync(join(pkg, 'dist/bundle/main.js'), entry('bundle'));
    const st = statSync(join(pkg, 'dist/cli/main.js'));
    writeFileSync(join(pkg, 'dist/bundle/inputs.json'), JSON.stringify({ entry: { file: 'dist/cli/main.js', size: st.size, mtimeMs: st.mtimeMs } }));
    const run = (env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [join(pkg, 'bin/mmsa.js')], { encoding: 'utf8', env: { ...process.env, ...env } }).stdout;
    expect(run()).toBe('bundle');
    expect(run({ MMSA_BUNDLE: '0' })).toBe('cli');
    utimesSync(join(pkg, 'dist/cli/main.js'), new Date(), new Date(st.mtimeMs + 5000));
    expect(run()).toBe('cli');
    rmSync(join(pkg, 'dist/bundle/inputs.json'));
    expect(run()).toBe('cli');
  });
});

/** The merged, interpolated value that the schema phase validates, for a spec file. */
function schemaInput(file: string): unknown {
  const host = new SourceHost();
  const bag = new DiagnosticBag();
  const loaded = loadWithExtends(file, { host, parseFile: (p) => parseSpecFile(p, host), presetsDir: join(repo, 'pipelines/presets') }, bag);
  return loaded.tree ? toValue(interpolateTree(loaded.tree, {}, bag)) : undefined;
}

function specFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'datasets' ? [] : specFiles(p);
    return /\.(ya?ml|mmsa)$/.test(f) ? [p] : [];
  });
}

describe('precompiled schema validators', () => {
  const quick = loadStandaloneValidators(generated);

  it('are built from the schemas on disk (npm test generates them after tsc)', () => {
    expect(quick).not.toBeNull();
  });

  it('give the verdict of the compiled ajv validators on every shipped spec and every broken spec', async () => {
    await loadDslFrontEnd();
    const files = [...specFiles(join(repo, 'pipelines')), ...specFiles(join(repo, 'test/fixtures/broken'))];
    expect(files.length).toBeGreaterThan(80);
    let rejected = 0;
    for (const f of files) {
      const v = schemaInput(f);
      if (v === undefined) continue;
      const full = pipelineValidator()(v);
      if (!full) rejected++;
      expect(quick!.pipeline!(v), f).toBe(full);
    }
    expect(rejected, 'the broken specs include schema errors').toBeGreaterThan(10);
    for (const f of readdirSync(join(repo, 'pipelines/datasets'))) {
      const v = toValue(parseYaml(new SourceFile(f, readFileSync(join(repo, 'pipelines/datasets', f), 'utf8'))).tree!);
      expect(quick!.dataset!(v), f).toBe(datasetValidator()(v));
      expect(quick!.dataset!({ ...(v as object), task: 'ranking' }), f).toBe(false);
    }
  });

  it('are ignored when they were generated from other schemas', () => {
    const body = `exports.pipeline = () => true;\nexports.dataset = () => true;\n`;
    writeFileSync(join(tmp, 'stale.cjs'), `${body}exports.sourceHash = 'other';\n`);
    expect(loadStandaloneValidators(join(tmp, 'stale.cjs'))).toBeNull();
    writeFileSync(join(tmp, 'fresh.cjs'), `${body}exports.sourceHash = ${JSON.stringify(schemaSourceHash())};\n`);
    expect(loadStandaloneValidators(join(tmp, 'fresh.cjs'))).not.toBeNull();
    expect(loadStandaloneValidators(join(tmp, 'missing.cjs'))).toBeNull();
  });

  it('work with a code cache that V8 rejects (another Node, a damaged file) or that is missing', () => {
    writeFileSync(join(tmp, 'garbage.v8cache'), Buffer.from('not a code cache'));
    for (const cache of [join(tmp, 'garbage.v8cache'), join(tmp, 'absent.v8cache')]) {
      const v = loadStandaloneValidators(generated, cache);
      expect(v, cache).not.toBeNull();
      expect(v!.pipeline!({}), cache).toBe(false);
    }
  });
});
