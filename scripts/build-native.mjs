#!/usr/bin/env node
// Builds mmsa's optional native kernels (native/src/*.c -> native/build/mmsa_native.node) with the machine's C compiler
// and Node's own headers: no download, no node-gyp. Runs at install; never fails the install unless --strict.
//
//   node scripts/build-native.mjs [--strict] [--force] [--out FILE] [--cflags "..."]
//   env: MMSA_NATIVE=0 skips the build; CC picks the compiler (default cc).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const strict = flag('--strict');
const out = resolve(value('--out') ?? join(root, 'native', 'build', 'mmsa_native.node'));
const srcDir = join(root, 'native', 'src');
const say = (msg) => process.stderr.write(`mmsa native: ${msg}\n`);

function giveUp(msg) {
  if (strict) {
    say(`error: ${msg}`);
    process.exit(1);
  }
  say(`${msg}\nmmsa native: skipped; mmsa runs on the wasm backend alone (slower matMuls). Rebuild with \`node scripts/build-native.mjs --strict\`.`);
  process.exit(0);
}

if (process.env.MMSA_NATIVE === '0' && !strict) {
  say('MMSA_NATIVE=0: not building the native kernels');
  process.exit(0);
}

function headerDir() {
  const candidates = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    join(dirname(process.execPath), '..', 'include', 'node'),
    process.config?.variables?.node_prefix && join(process.config.variables.node_prefix, 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  return candidates.find((d) => existsSync(join(d, 'node_api.h')));
}

/** The CPU's feature flags (Linux /proc/cpuinfo), or null where they cannot be read. */
function cpuFlags() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
    return line ? line.split(':')[1].trim().split(/\s+/).sort() : null;
  } catch {
    return null;
  }
}

const include = headerDir();
if (!include) giveUp("Node's headers (node_api.h) were not found; install them (Debian: nodejs-dev) or set npm_config_nodedir");
const sources = existsSync(srcDir) ? readdirSync(srcDir).filter((f) => f.endsWith('.c')).sort().map((f) => join(srcDir, f)) : [];
if (!sources.some((s) => s.endsWith('addon.c'))) giveUp(`no sources in ${srcDir}`);

const cc = process.env.CC || 'cc';
const base = ['-O3', '-fno-math-errno', '-fPIC', '-pthread', '-std=gnu11', '-fvisibility=hidden', '-DNODE_GYP_MODULE_NAME=mmsa_native',
  `-I${include}`, `-I${srcDir}`];
// FMA contraction only where results need not match tfjs bit for bit (the GEMM and the LSTM cell); the fused Adam
// step reproduces the tensor-op path exactly, which needs every multiply and add rounded on its own.
const contract = (src) => (/(sgemm|lstm)\.c$/.test(src) ? '-ffp-contract=fast' : '-ffp-contract=off');
const extra = (value('--cflags') ?? '').split(/\s+/).filter(Boolean);
// -march=native: the library is built on the machine that runs it (AVX-512 / AVX2 kernels picked at compile time).
const attempts = extra.length ? [extra] : process.arch === 'x64' || process.arch === 'arm64' ? [['-march=native'], []] : [[]];

// Headers count too: a change to an inline function in one must rebuild its users.
const headers = readdirSync(srcDir).filter((f) => f.endsWith('.h')).sort().map((f) => join(srcDir, f));
const stamp = JSON.stringify({ sources: [...sources, ...headers].map((s) => [s, readFileSync(s, 'utf8').length, statSync(s).mtimeMs]), base, attempts, node: process.versions.modules });
const stampFile = `${out}.stamp`;
if (!flag('--force') && existsSync(out) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
  say(`up to date: ${out}`);
  process.exit(0);
}

mkdirSync(dirname(out), { recursive: true });
// The name ends in .node: require() picks the loader by extension.
const tmp = join(dirname(out), `.building-${process.pid}.node`);
let last = '';
const objDir = join(dirname(out), `.obj-${process.pid}`);
for (const march of attempts) {
  rmSync(objDir, { recursive: true, force: true });
  mkdirSync(objDir, { recursive: true });
  let failed;
  const objects = [];
  for (const src of sources) {
    const obj = join(objDir, `${src.split('/').pop()}.o`);
    const cmd = [...base, contract(src), ...march, '-c', src, '-o', obj];
    const r = spawnSync(cc, cmd, { encoding: 'utf8' });
    if (r.error) giveUp(`cannot run the C compiler '${cc}' (${r.error.message}); install gcc or clang, or set CC`);
    if (r.status !== 0) {
      failed = `${cc} ${cmd.join(' ')}\n${(r.stderr || '').trim().split('\n').slice(0, 20).join('\n')}`;
      break;
    }
    objects.push(obj);
  }
  if (!failed) {
    const link = ['-shared', '-pthread', ...objects, '-o', tmp, '-lm'];
    const r = spawnSync(cc, link, { encoding: 'utf8' });
    if (r.status !== 0) failed = `${cc} ${link.join(' ')}\n${(r.stderr || '').trim().split('\n').slice(0, 20).join('\n')}`;
  }
  rmSync(objDir, { recursive: true, force: true });
  if (!failed) {
    // Load it once here so a broken library is caught at install, not at the first run.
    const probe = spawnSync(process.execPath, ['-e', `const m = require(${JSON.stringify(tmp)}); console.log(JSON.stringify(m.info()))`], { encoding: 'utf8' });
    if (probe.status !== 0) {
      rmSync(tmp, { force: true });
      last = `built but failed to load: ${probe.stderr.trim().split('\n').slice(-3).join(' ')}`;
      continue;
    }
    renameSync(tmp, out);
    writeFileSync(stampFile, stamp);
    // -march=native code may use any instruction of this CPU: record its feature flags so that a copy of the library
    // on another machine is refused at load time (src/runtime/native.ts) instead of dying of SIGILL.
    writeFileSync(`${out}.cpu.json`, `${JSON.stringify({ march: march.join(' '), flags: cpuFlags() })}\n`);
    say(`built ${out} (${JSON.parse(probe.stdout).isa}, ${cc} ${march.join(' ') || 'no -march'})`);
    process.exit(0);
  }
  rmSync(tmp, { force: true });
  last = failed;
}
giveUp(`compiling the native kernels failed:\n${last}`);
