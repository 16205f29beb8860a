// The component layout holds: every list that names components is generated from the folders and fresh; a folder's
// definition is its type and imports no tfjs; generic passes never name a component type; the compiler imports
// nothing from the runtime; every component folder has its tests in the mirror folder under test/components.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listComponents, renderAll, staleFiles } from '../../scripts/gen-catalogs.mjs';
import { CATALOG } from '../../src/components/catalog.js';
import { VIEWS } from '../../src/components/views.generated.js';
import { VIEW_PLOTS } from '../../src/report/views.js';
import { METRIC_SET_NAMES } from '../../src/core/metrics.js';
import { LIKE } from '../../src/compiler/spec/synthetic-layout.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const components = listComponents(root);

function filesUnder(dir: string, ext = /\.tsx?$/): string[] {
  return readdirSync(join(root, dir)).flatMap((f) => {
    const rel = join(dir, f);
    if (statSync(join(root, rel)).isDirectory()) return filesUnder(rel, ext);
    return ext.test(f) ? [rel] : [];
  });
}

/** Static imports (`import ... from 'x'`, `export ... from 'x'`); dynamic `import('x')` is lazy and not listed. */
function staticImports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
}

describe('generated lists', () => {
  it('definitions, lowerings, views and the schema lists are what the folders, synthetic layouts and metric catalog give', () => {
    const stale = staleFiles(root, renderAll(root, { metricSets: METRIC_SET_NAMES, syntheticLikes: Object.keys(LIKE) }));
    expect(stale, 'run `npm run gen`').toEqual([]);
  });

  it('every component folder is in the catalog under its folder name and kind, and nothing else is', () => {
    expect(components.length).toBeGreaterThan(0);
    expect(CATALOG.map((c) => `${c.kind}/${c.type}`)).toEqual(components.map((c) => `${c.kind}/${c.type}`));
    for (const c of components) {
      const def = CATALOG.find((d) => d.kind === c.kind && d.type === c.type)!;
      expect(def.schema, c.type).toBe(c.schema);
    }
  });
});

describe('component folders', () => {
  it('a definition (define.ts and what it imports from its folder) loads no tfjs and nothing of the runtime', () => {
    const defs = filesUnder('src/components').filter((f) => !/\/(lower|nn|view)\.tsx?$/.test(f) && !f.endsWith('.generated.ts'));
    expect(defs.length).toBeGreaterThan(components.length);
    for (const f of defs.filter((x) => !x.endsWith('lowerings.generated.ts'))) {
      for (const spec of staticImports(f)) {
        expect(spec, `${f} imports ${spec}`).not.toMatch(/@tensorflow|\/runtime\/|react|ink/);
        if (spec.startsWith('.')) {
          const target = relative(root, resolve(root, dirname(f), spec));
          expect(target, `${f} imports ${spec}`).not.toMatch(/\/(lower|nn|view)\.js$/);
        }
      }
    }
  });

  it('every component folder has its tests in the mirror folder test/components/<kind>s/<type>/', () => {
    const missing = components.filter((c) => {
      try {
        return !readdirSync(join(root, 'test/components', c.dir, c.type)).some((f) => f.endsWith('.test.ts'));
      } catch {
        return true;
      }
    });
    expect(missing.map((c) => `test/components/${c.dir}/${c.type}/`)).toEqual([]);
  });
});

describe('generic passes ask the components', () => {
  const names = CATALOG.map((c) => c.type).join('|');
  const patterns = [
    // x.type === 'lstm', 'ulgm' !== task.type
    new RegExp(`\\.type\\s*[!=]==?\\s*'(${names})'`),
    new RegExp(`'(${names})'\\s*[!=]==?\\s*[\\w.]*\\.type\\b`),
    // switch (enc.type) { case 'bert': ...
    new RegExp(`case\\s+'(${names})'\\s*:`),
    // ['lstm', 'gru'].includes(...) or a record keyed by component types
    new RegExp(`'(${names})'\\s*,\\s*'(${names})'`),
    new RegExp(`\\b(${names})\\s*:\\s*'(${names})'`),
  ];
  const dirs = ['src/compiler', 'src/runtime/train', 'src/runtime/lower', 'src/runtime/data', 'src/runtime/memory', 'src/report', 'src/cli', 'src/tune', 'src/queue'];
  const files = [...dirs.flatMap((d) => filesUnder(d)), 'src/runtime/run.ts'].filter((f) => !f.endsWith('.generated.ts'));

  it('no file of the compiler, the training loop, run, lowering driver, data, memory plan, reports, tuning, queue or CLI tests a component type', () => {
    const hits: string[] = [];
    for (const f of files) {
      readFileSync(join(root, f), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\/\/|\*)/.test(line)) return;
          if (patterns.some((p) => p.test(line))) hits.push(`${f}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(hits).toEqual([]);
  });

  it('the test itself would catch a type test', () => {
    const line = "    if ((enc.type !== 'lstm' && enc.type !== 'gru') || enc.packed !== true) continue;";
    expect(patterns.some((p) => p.test(line))).toBe(true);
    expect(patterns.some((p) => p.test("const NEEDS = { l1: 'regression', mse: 'regression' };"))).toBe(true);
    expect(patterns.some((p) => p.test("if (ds.task === 'classification') return;"))).toBe(false);
  });

  // A component's views are its own: the reporters (HTML, PNG, TUI, under src/report), the search views and the CLI
  // (`--plot` choices, `--epoch` help) never name a plot of a view nor a type that has views (not even in a title or
  // a help text); they get both from the generated list (src/components/views.generated.ts).
  const viewTypes = Object.keys(VIEWS).map((k) => k.split('/')[1]!);
  const viewPlots = VIEW_PLOTS.map((p) => p.plot.name);
  const viewPatterns = [
    ...(viewPlots.length ? [new RegExp(`['"\`](${viewPlots.join('|')})['"\`]`)] : []),
    ...(viewTypes.length ? [new RegExp(`\\b(${viewTypes.join('|')})\\b`, 'i')] : []),
  ];
  const viewUsers = ['src/report', 'src/tune', 'src/cli'].flatMap((d) => filesUnder(d)).filter((f) => !f.endsWith('.generated.ts'));

  it("no reporter, TUI or CLI plot list names a component view's plot or a type that has views", () => {
    expect(viewPlots).toEqual(expect.arrayContaining(['drift', 'labels']));
    const hits: string[] = [];
    for (const f of viewUsers) {
      readFileSync(join(root, f), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\/\/|\/?\*)/.test(line)) return;
          if (viewPatterns.some((p) => p.test(line))) hits.push(`${f}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(hits).toEqual([]);
  });

  it('the view test itself would catch a hand-kept plot list, a view type in a title, a plot name in a switch', () => {
    const caught = (line: string) => viewPatterns.some((p) => p.test(line));
    expect(caught("export const PLOT_CHOICES = ['loss', 'metrics', 'drift', 'labels', 'scatter'] as const;")).toBe(true);
    expect(caught("    parts.push('<h3>ULGM: generated unimodal labels next to the multimodal labels</h3>');")).toBe(true);
    expect(caught("    case 'labels':")).toBe(true);
    expect(caught("  const withBars = `ULGM drift |y_m - y_M|  ${entries}`;")).toBe(true);
    expect(caught("for (const name of ['loss', 'metrics', ...inline, 'scatter', 'confusion'])")).toBe(false);
  });

  it('the compiler (phases 0-5) imports nothing from the runtime', () => {
    const hits = filesUnder('src/compiler').flatMap((f) => staticImports(f).filter((s) => /\/runtime\//.test(s) || s.startsWith('@tensorflow')).map((s) => `${f}: ${s}`));
    expect(hits).toEqual([]);
    // Nor lazily: `mmsa check` must never reach tfjs.
    const lazy = filesUnder('src/compiler').filter((f) => /import\(['"][^'"]*runtime\//.test(readFileSync(join(root, f), 'utf8')));
    expect(lazy).toEqual([]);
  });
});
