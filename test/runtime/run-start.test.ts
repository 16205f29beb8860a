// `mmsa run` announces itself (pipeline.start: the TUI's header) before the runtime and TensorFlow.js are loaded,
// which takes a second or more; the rest of the run is runPipeline's.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = mkdtempSync(join(tmpdir(), 'mmsa-run-start-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('startPipeline', () => {
  it('yields pipeline.start before loading tfjs, then the run', () => {
    const list = join(tmp, 'loaded.txt');
    writeFileSync(join(tmp, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';\nexport async function load(u, c, next) { appendFileSync(${JSON.stringify(list)}, u + '\\n'); return next(u, c); }\n`);
    const dist = (p: string) => JSON.stringify(pathToFileURL(join(repo, 'dist', p)).href);
    writeFileSync(
      join(tmp, 'driver.mjs'),
      [
        "import { register } from 'node:module';",
        "import { appendFileSync } from 'node:fs';",
        `register(${JSON.stringify(pathToFileURL(join(tmp, 'hooks.mjs')).href)});`,
        `const { compileFile } = await import(${dist('compiler/compile.js')});`,
        `const { startPipeline } = await import(${dist('runtime/run-start.js')});`,
        `const compiled = compileFile(${JSON.stringify(join(repo, 'pipelines/demo_lmf.yaml'))});`,
        `const it = startPipeline(compiled, { outRoot: ${JSON.stringify(join(tmp, 'runs'))}, seeds: [3], maxEpochs: 1 });`,
        'const first = await it.next();',
        `appendFileSync(${JSON.stringify(list)}, 'FIRST ' + first.value.kind + '\\n');`,
        'const kinds = [];',
        'for (let r = await it.next(); !r.done; r = await it.next()) kinds.push(r.value.kind);',
        `appendFileSync(${JSON.stringify(list)}, 'REST ' + [...new Set(kinds)].join(',') + '\\n');`,
      ].join('\n'),
    );
    const r = spawnSync(process.execPath, [join(tmp, 'driver.mjs')], { cwd: repo, encoding: 'utf8', env: { ...process.env, MMSA_NATIVE: 'off' } });
    expect(r.stderr).toBe('');
    const lines = readFileSync(list, 'utf8').split('\n');
    const first = lines.findIndex((l) => l.startsWith('FIRST '));
    expect(lines[first]).toBe('FIRST pipeline.start');
    expect(lines.slice(0, first).filter((l) => l.includes('@tensorflow'))).toEqual([]);
    expect(lines.slice(first).some((l) => l.includes('@tensorflow'))).toBe(true);
    const rest = lines.find((l) => l.startsWith('REST '))!.slice(5).split(',');
    expect(rest).not.toContain('pipeline.start');
    expect(rest).toEqual(expect.arrayContaining(['data.load', 'run.start', 'epoch.end', 'run.end']));
  });
});
