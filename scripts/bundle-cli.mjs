// Bundles the compiled CLI (dist/cli/main.js and everything it imports, statically or by literal dynamic import) into
// dist/bundle/, one chunk per lazily loaded part. Build step, after tsc.
//
// Why: Node's ESM loader pays resolve + read + link per module, and `mmsa check` touches about 90 of ours plus the ~70
// CommonJS files of `yaml`, `commander` and `@babel/code-frame`. One linked graph of a few chunks starts in about half
// the time (docs/benchmarks.md, "mmsa check cold start"). Heavy packages (tfjs, ink, ajv, bullmq, ...) stay external:
// they are loaded lazily by the commands that need them and are not on the cold-start path.
//
// The bundler is esbuild's WebAssembly build (`esbuild-wasm`, a dev dependency): no install script and no native
// binary. bin/mmsa.js runs the bundle only while dist/cli/main.js is the very file it was made from (same size and
// mtime, recorded in dist/bundle/inputs.json); tsc rewrites every output on each build, so after a `tsc` without this
// step the CLI runs dist/cli/main.js and is never stale. (One stat, not one per input: hundreds cost ~20 ms.)

import { rmSync, statSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const outdir = join(root, 'dist', 'bundle');
/** Packages small and always loaded on the cold path: inlined with everything they import. */
const INLINE = new Set(['yaml', 'commander', '@babel/code-frame']);

const packageOf = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
const insideNodeModules = (file) => file.split(/[\\/]/).includes('node_modules');

let esbuild;
try {
  esbuild = await import('esbuild-wasm');
} catch {
  // Without the dev dependency (an install with --omit=dev) the CLI runs unbundled: correct, only slower to start.
  rmSync(outdir, { recursive: true, force: true });
  console.log('mmsa bundle: esbuild-wasm is not installed; the CLI runs from dist/cli (slower cold start)');
  process.exit(0);
}

rmSync(outdir, { recursive: true, force: true });
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { main: 'dist/cli/main.js' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  metafile: true,
  logLevel: 'warning',
  // CommonJS packages inlined into ESM chunks call require() for Node built-ins; give each chunk a real one.
  banner: { js: "import { createRequire as mmsaCreateRequire } from 'node:module';\nconst require = mmsaCreateRequire(import.meta.url);" },
  plugins: [
    {
      name: 'mmsa-externals',
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, (args) => {
          if (isBuiltin(args.path)) return { external: true };
          // A package imported from an inlined package is inlined too (its whole closure comes along).
          if (INLINE.has(packageOf(args.path)) || insideNodeModules(args.importer)) return undefined;
          return { external: true };
        });
      },
    },
  ],
});

const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('<'));
const entry = statSync(join(root, 'dist', 'cli', 'main.js'));
// Only what bin/mmsa.js compares: it reads this file on every start.
writeFileSync(join(outdir, 'inputs.json'), JSON.stringify({ entry: { file: 'dist/cli/main.js', size: entry.size, mtimeMs: entry.mtimeMs } }));
console.log(`mmsa bundle: ${Object.keys(result.metafile.outputs).length} chunks from ${inputs.length} modules in dist/bundle`);
