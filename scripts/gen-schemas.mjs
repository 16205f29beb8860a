// Build step after tsc (build, prepare, test, bench): writes what is derived from schemas/ into dist/:
// - dist/compiler/schema/validators.generated.cjs: ajv standalone validators, so `mmsa check` compiles no schema;
// - dist/compiler/schema/validators.generated.v8cache: V8's code cache of them after checking every shipped pipeline,
//   so a cold `mmsa check` neither compiles their ~0.5 MB of code nor its functions on first use;
// - dist/schemas/{pipeline,preset,dataset,resolved}.schema.json: the editor schemas `mmsa schema` prints.

import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const load = (p) => import(pathToFileURL(join(root, 'dist', p)).href);

const standalone = await load('compiler/schema/standalone.js');
writeFileSync(join(root, 'dist/compiler/schema', standalone.STANDALONE_FILE), standalone.generateStandaloneValidators());
// Checked in this process through the validators just written (never from an older cache), then cached as run.
const cacheFile = join(root, 'dist/compiler/schema', standalone.STANDALONE_CACHE_FILE);
rmSync(cacheFile, { force: true });
const { compileFile } = await load('compiler/compile.js');
for (const f of readdirSync(join(root, 'pipelines')).filter((n) => n.endsWith('.yaml')).sort()) compileFile(join(root, 'pipelines', f));
standalone.writeStandaloneCodeCache(cacheFile);

const { EDITOR_SCHEMAS, editorSchema } = await load('compiler/schema/editor-schema.js');
mkdirSync(join(root, 'dist/schemas'), { recursive: true });
for (const name of EDITOR_SCHEMAS) writeFileSync(join(root, 'dist/schemas', `${name}.schema.json`), `${JSON.stringify(editorSchema(name), null, 2)}\n`);
