// Writes dist/compiler/schema/validators.generated.cjs: ajv's standalone code for the pipeline and dataset schemas,
// so `mmsa check` starts without compiling them. Runs after tsc in build, prepare, test and bench (needs dist/).

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mod = await import(pathToFileURL(join(root, 'dist/compiler/schema/standalone.js')).href);
const out = join(root, 'dist/compiler/schema', mod.STANDALONE_FILE);
writeFileSync(out, mod.generateStandaloneValidators());
