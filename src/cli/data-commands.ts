// `mmsa data inspect FILE` and `mmsa data verify NAME|FILE`: look inside a feature pickle, and check feature files
// against the SHA-256 sums of the dataset manifests. CLI over the data layer (phase 7 tooling).

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { parse as parseYamlText } from 'yaml';
import { MmsaError } from '../errors.js';
import { datasetsDir as defaultDatasetsDir } from '../paths.js';
import { interpolateString } from '../compiler/spec/interpolate.js';
import { expandHome, isDatasetName } from '../compiler/spec/resolve-dataset.js';
import { sha256File } from '../runtime/data/hash.js';
import { formatInspect, inspectPickle } from '../runtime/data/inspect.js';
import type { Io } from './main.js';

/** `Io` plus whether stderr is a terminal (progress bars go to stderr); falls back to `isTTY`. */
export type DataIo = Io;

interface ManifestFile {
  key: string;
  path: string;
  sha256: string | null;
}

interface ManifestInfo {
  name: string;
  manifestPath: string;
  root: string | undefined;
  source: string | undefined;
  files: ManifestFile[];
}

function fail(io: Io, e: unknown): number {
  if (e instanceof MmsaError) io.err(`${e.format()}\n`);
  else io.err(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  return 1;
}

function fmtSize(b: number): string {
  if (b < 1024 ** 2) return `${(b / 1024).toFixed(1)} KiB`;
  if (b < 1024 ** 3) return `${(b / 1024 ** 2).toFixed(1)} MiB`;
  return `${(b / 1024 ** 3).toFixed(2)} GiB`;
}

/** A progress reporter on stderr: a redrawn bar on a terminal, a line per 10% otherwise. */
export function progressReporter(io: DataIo, label: string): { update(done: number, total: number): void; finish(): void } {
  const tty = io.errIsTTY ?? io.isTTY;
  let lastStep = -1;
  let drawn = false;
  return {
    update(done, total) {
      const frac = total > 0 ? Math.min(1, done / total) : 1;
      if (tty) {
        const width = 30;
        const fill = Math.round(frac * width);
        io.err(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(Math.floor(frac * 100)).padStart(3)}% ${fmtSize(done)}/${fmtSize(total)}`);
        drawn = true;
      } else {
        const step = Math.floor(frac * 10);
        if (step > lastStep && (step > 0 || total === 0)) {
          lastStep = step;
          io.err(`${label}: ${step * 10}%\n`);
        }
      }
    },
    finish() {
      if (tty && drawn) io.err('\n');
    },
  };
}

/** `mmsa data inspect FILE [--format json]`. */
export async function dataInspectCommand(file: string, opts: { format?: 'text' | 'json' }, io: DataIo): Promise<number> {
  const path = resolve(io.cwd, expandHome(file));
  if (!existsSync(path)) return fail(io, new MmsaError('MSA6031', `no such file: ${path}`, { hint: 'give the path of a feature pickle (e.g. <data root>/MOSI/Processed/unaligned_50.pkl)', details: { file: path } }));
  const bar = (io.errIsTTY ?? io.isTTY) ? progressReporter(io, `reading ${basename(path)}`) : undefined;
  try {
    const report = await inspectPickle(path, bar ? { onProgress: (d, t) => bar.update(d, t) } : {});
    bar?.finish();
    if (opts.format === 'json') io.out(`${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
    else io.out(formatInspect(report));
    return 0;
  } catch (e) {
    bar?.finish();
    return fail(io, e);
  }
}

function readManifests(dir: string): ManifestInfo[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.dataset.yaml'));
  } catch {
    return [];
  }
  return names.sort().flatMap((f) => {
    const m = readManifest(join(dir, f));
    return m ? [m] : [];
  });
}

function readManifest(path: string): ManifestInfo | undefined {
  let doc: unknown;
  try {
    doc = parseYamlText(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object') return undefined;
  const d = doc as { name?: unknown; root?: unknown; source?: unknown; files?: Record<string, { path?: unknown; sha256?: unknown }> };
  const files: ManifestFile[] = [];
  for (const [key, f] of Object.entries(d.files ?? {})) {
    if (f && typeof f.path === 'string') files.push({ key, path: f.path, sha256: typeof f.sha256 === 'string' ? f.sha256.toLowerCase() : null });
  }
  return {
    name: typeof d.name === 'string' ? d.name : basename(path, '.dataset.yaml'),
    manifestPath: path,
    root: typeof d.root === 'string' ? d.root : undefined,
    source: typeof d.source === 'string' ? d.source.trim() : undefined,
    files,
  };
}

/** Same order as the compiler: --data-root, $MMSA_DATA_ROOT, the manifest's root, ~/MMSA-Standard. */
function rootOf(m: ManifestInfo, dataRoot: string | undefined, io: Io): string {
  let raw = dataRoot ?? io.env['MMSA_DATA_ROOT'];
  if (raw === undefined && m.root !== undefined) {
    const r = interpolateString(m.root, io.env);
    raw = 'value' in r ? r.value : undefined;
  }
  return resolve(io.cwd, expandHome(raw ?? '~/MMSA-Standard'));
}

async function hashWithProgress(path: string, io: DataIo): Promise<string> {
  const bar = progressReporter(io, `sha256 ${basename(path)}`);
  try {
    return await sha256File(path, (d, t) => bar.update(d, t));
  } finally {
    bar.finish();
  }
}

/**
 * `mmsa data verify NAME|FILE [--data-root DIR]`. NAME: every file of pipelines/datasets/NAME.dataset.yaml under the
 * data root is hashed (missing ones are listed with where to get them). FILE: the file's hash is looked up in every
 * manifest. Exit 1 on a mismatch, a missing file or an unknown hash.
 */
export async function dataVerifyCommand(nameOrFile: string, opts: { dataRoot?: string; datasetsDir?: string }, io: DataIo): Promise<number> {
  const dir = opts.datasetsDir ?? defaultDatasetsDir();
  const manifestPath = join(dir, `${nameOrFile}.dataset.yaml`);
  const asFile = resolve(io.cwd, expandHome(nameOrFile));
  const looksLikeFile = nameOrFile.includes('/') || nameOrFile.includes(sep) || /\.(pkl|pickle|p)$/i.test(nameOrFile);
  try {
    if (!looksLikeFile && isDatasetName(nameOrFile) && existsSync(manifestPath)) return await verifyManifest(manifestPath, opts.dataRoot, io);
    if (existsSync(asFile) && statSync(asFile).isFile()) return await verifyFile(asFile, dir, io);
    const known = readManifests(dir).map((m) => m.name);
    throw new MmsaError('MSA6032', looksLikeFile ? `no such file: ${asFile}` : `no dataset manifest named '${nameOrFile}' and no such file`, {
      hint: `give a dataset name (${known.join(', ') || 'none found'}) or the path of a feature file`,
      details: { arg: nameOrFile },
    });
  } catch (e) {
    return fail(io, e);
  }
}

async function verifyManifest(path: string, dataRoot: string | undefined, io: DataIo): Promise<number> {
  const m = readManifest(path);
  if (!m) throw new MmsaError('MSA6032', `cannot read dataset manifest ${path}`, { hint: 'run `mmsa check` on a pipeline using it for details', details: { file: path } });
  const root = rootOf(m, dataRoot, io);
  io.out(`dataset ${m.name}: data root ${root}\n`);
  let bad = 0;
  const missing: ManifestFile[] = [];
  for (const f of m.files) {
    const p = resolve(root, f.path);
    if (!existsSync(p)) {
      missing.push(f);
      io.out(`MISSING   ${f.key}: ${p}\n`);
      continue;
    }
    const got = await hashWithProgress(p, io);
    if (f.sha256 === null) io.out(`UNCHECKED ${f.key}: ${p}\n  sha256 ${got} (the manifest lists no checksum)\n`);
    else if (got === f.sha256) io.out(`OK        ${f.key}: ${p}\n  sha256 ${got}\n`);
    else {
      bad++;
      io.out(`MISMATCH  ${f.key}: ${p}\n  expected ${f.sha256}\n  found    ${got}\n`);
    }
  }
  if (missing.length) {
    io.out(`\n${missing.length} file(s) missing. They are expected under the data root ${root} (set it with --data-root DIR or MMSA_DATA_ROOT).\n`);
    if (m.source) io.out(`Get them from: ${m.source}\n`);
  }
  if (bad) io.out(`\n${bad} file(s) do not match the manifest: re-download them (a partial download or an older release).\n`);
  return bad || missing.length ? 1 : 0;
}

async function verifyFile(path: string, dir: string, io: DataIo): Promise<number> {
  const got = await hashWithProgress(path, io);
  const manifests = readManifests(dir);
  for (const m of manifests) {
    for (const f of m.files) {
      if (f.sha256 === got) {
        io.out(`OK        ${path}\n  is ${m.name}/${f.key} (${f.path})\n  sha256 ${got}\n`);
        return 0;
      }
    }
  }
  // No hash matched: if the path looks like a manifest entry, report it as that entry's mismatch.
  const norm = path.split(sep).join('/');
  for (const m of manifests) {
    for (const f of m.files) {
      if (f.sha256 && norm.endsWith(`/${f.path}`)) {
        io.out(`MISMATCH  ${path}\n  expected ${f.sha256} (${m.name}/${f.key})\n  found    ${got}\n`);
        if (m.source) io.out(`Re-download it from: ${m.source}\n`);
        return 1;
      }
    }
  }
  io.out(`UNKNOWN   ${path}\n  sha256 ${got} matches no dataset manifest (${manifests.map((m) => m.name).join(', ') || 'none found'})\n`);
  return 1;
}
