// The repository stands on its own: nothing reads outside it, docs and pipelines cite MMSA's own files (not a
// document users do not have), and the published package holds what package.json promises and nothing dangling.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function files(dir: string, exts: RegExp): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const p = join(root, dir, name);
    if (name === 'node_modules' || name === 'fixtures' || name === 'baselines') continue;
    if (statSync(p).isDirectory()) out.push(...files(relative(root, p), exts));
    else if (exts.test(name)) out.push(relative(root, p));
  }
  return out;
}

const grep = (list: string[], re: RegExp) => list.flatMap((f) => readFileSync(join(root, f), 'utf8').split('\n').map((l, i) => [f, i + 1, l] as const)).filter(([, , l]) => re.test(l)).map(([f, n, l]) => `${f}:${n}: ${l.trim()}`);

describe('the repository stands on its own', () => {
  const code = ['src', 'test', 'bench', 'scripts', 'tools'].flatMap((d) => files(d, /\.(ts|tsx|mjs|js)$/));

  it('no code reads outside the repository (no sibling shared folder, no machine paths)', () => {
    expect(code.length).toBeGreaterThan(100);
    // The patterns are split so this file does not match itself.
    expect(grep(code, new RegExp(['\\.\\./', 'shared', '|/wo', 'rk/'].join('')))).toEqual([]);
    expect(grep(['package.json'], /shared|\/work\//)).toEqual([]);
  });

  it('pipelines, docs and code cite MMSA\'s files, not sections of an internal spec', () => {
    const texts = [...code, ...files('pipelines', /\.(yaml|mmsa)$/), ...files('docs', /\.md$/), 'README.md', 'CONTRIBUTING.md'];
    expect(grep(texts, new RegExp(['mmsa', '-spec|\u00a7|spec sec', 'tion'].join('')))).toEqual([]);
  });

  it('has a CONTRIBUTING.md and the LICENSE package.json promises; no internal working notes', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { license: string };
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
    expect(readFileSync(join(root, 'CONTRIBUTING.md'), 'utf8')).toMatch(/## Add a component[\s\S]*npm run gen:types[\s\S]*UPDATE_BASELINES=1/);
    expect(existsSync(join(root, 'docs', 'CONTRIBUTING-helpers.md'))).toBe(false);
  });

  it('the package ships LICENSE and README and no source maps (their sources are not in it)', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const paths = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'bin/mmsa.js', 'dist/cli/main.js', 'dist/node-version.js']));
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    expect(paths.filter((p) => p.startsWith('src/') || p.startsWith('test/'))).toEqual([]);
  });
});
