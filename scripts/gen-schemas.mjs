// Build step after tsc (build, prepare, test, bench): writes what is derived from schemas/ into dist/:
// - dist/compiler/schema/validators.generated.cjs: ajv standalone validators, so `mmsa check` compiles no schema;
// - dist/schemas/{pipeline,preset,dataset,resolved}.schema.json: the editor schemas `mmsa schema` prints.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const load = (p) => import(pathToFileURL(join(root, 'dist', p)).href);

const standalone = await load('compiler/schema/standalone.js');
writeFileSync(join(root, 'dist/compiler/schema', standalone.STANDALONE_FILE), standalone.generateStandaloneValidators());

const { EDITOR_SCHEMAS, editorSchema } = await load('compiler/schema/editor-schema.js');
mkdirSync(join(root, 'dist/schemas'), { recursive: true });
for (const name of EDITOR_SCHEMAS) writeFileSync(join(root, 'dist/schemas', `${name}.schema.json`), `${JSON.stringify(editorSchema(name), null, 2)}\n`);
