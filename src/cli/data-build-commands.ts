// `mmsa data build SAMPLES.csv --out FILE`, `mmsa data stats FILE`, `mmsa init --dataset FILE` and `mmsa data synth`:
// from per-frame feature files to an MMSA-layout pickle, what it holds, a starter pipeline for it, and synthetic
// inputs to try it all on. CLI over the data layer
// (phase 7 tooling). Exit codes: 0 ok, 1 bad input (nothing written), 2 usage, 74 output not writable.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { parse as parseYamlText } from 'yaml';
import { MmsaError } from '../errors.js';
import { expandHome } from '../compiler/spec/resolve-dataset.js';
import { withWriteErrors } from '../runtime/fs-errors.js';
import { writeFileAtomic } from '../runtime/run-dir.js';
import type { BuildOptions, BuildReport } from '../runtime/data/build/build-dataset.js';
import type { ColumnSelection } from '../runtime/data/build/read-frame-csv.js';
import { progressReporter } from './data-commands.js';
import { failed, usage } from './exit.js';
import type { Io } from './main.js';

type Opts = Record<string, unknown>;


/** The options file of `mmsa data build --options FILE` (YAML or JSON); flags given on the command line win. */
const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    label_range: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
    max_frames: { type: 'object', additionalProperties: { type: 'integer', minimum: 1 } },
    nan: { enum: ['error', 'zero'] },
    vocab: { type: 'string' },
    text_len: { type: 'integer', minimum: 2, maximum: 512 },
    modalities: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          columns: { type: 'array', items: { type: 'string' } },
          exclude: { type: 'array', items: { type: 'string' } },
          delimiter: { type: 'string', minLength: 1, maxLength: 1 },
        },
      },
    },
  },
} as const;

interface OptionsFile {
  label_range?: [number, number];
  max_frames?: Record<string, number>;
  nan?: 'error' | 'zero';
  vocab?: string;
  text_len?: number;
  modalities?: Record<string, ColumnSelection>;
}

function readOptionsFile(path: string): OptionsFile {
  let doc: unknown;
  try {
    doc = parseYamlText(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new MmsaError('MSA6046', `cannot read the build options ${path}: ${(e as Error).message}`, { hint: 'a YAML (or JSON) mapping: label_range, max_frames, nan, vocab, text_len, modalities', details: { file: path } });
  }
  const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  const ajv = new Ajv({ allErrors: true });
  const validate = ajv.compile(OPTIONS_SCHEMA);
  if (!validate(doc)) {
    const msgs = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params && 'additionalProperty' in e.params ? ` '${String(e.params.additionalProperty)}'` : ''}`);
    throw new MmsaError('MSA6046', `${path}: ${msgs.join('; ')}`, { hint: 'keys: label_range [lo, hi], max_frames {modality: n}, nan error|zero, vocab, text_len, modalities {name: {columns, exclude, delimiter}}', details: { file: path } });
  }
  const o = doc as OptionsFile;
  // Paths inside the options file are relative to it.
  if (o.vocab && !isAbsolute(o.vocab)) o.vocab = resolve(dirname(path), o.vocab);
  return o;
}

/** `MOD=VALUE` arguments of a repeatable flag, as a map; an Error names the bad one. */
function perModality(flag: string, values: unknown): Record<string, string> | Error {
  const out: Record<string, string> = {};
  for (const v of (values as string[] | undefined) ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(v);
    if (!m) return new Error(`${flag} expects MODALITY=VALUE (e.g. ${flag} vision=AU*_r,gaze_angle_*), got '${v}'`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** BuildOptions from the options file and the flags (flags win). */
export function buildOptionsOf(o: Opts, cwd: string): BuildOptions | Error {
  let file: OptionsFile = {};
  if (o['options']) file = readOptionsFile(resolve(cwd, String(o['options'])));
  const out: BuildOptions = {};
  const range = o['labelRange'] !== undefined ? String(o['labelRange']).split(',').map((s) => Number(s.trim())) : file.label_range;
  if (range) {
    if (range.length !== 2 || range.some((x) => !Number.isFinite(x)) || range[0]! > range[1]!) return new Error(`--label-range expects LO,HI (e.g. 0,24), got '${String(o['labelRange'] ?? file.label_range)}'`);
    out.labelRange = [range[0]!, range[1]!];
  }
  const frames = perModality('--max-frames', o['maxFrames']);
  if (frames instanceof Error) return frames;
  const maxFrames: Record<string, number> = { ...(file.max_frames ?? {}) };
  for (const [m, v] of Object.entries(frames)) {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) return new Error(`--max-frames ${m}= expects a positive integer, got '${v}'`);
    maxFrames[m] = n;
  }
  if (Object.keys(maxFrames).length) out.maxFrames = maxFrames;
  const nan = (o['nan'] as string | undefined) ?? file.nan;
  if (nan !== undefined) {
    if (nan !== 'error' && nan !== 'zero') return new Error(`--nan must be error or zero, got '${nan}'`);
    out.nan = nan;
  }
  const columns: Record<string, ColumnSelection> = {};
  for (const [m, sel] of Object.entries(file.modalities ?? {})) columns[m] = { ...sel };
  const inc = perModality('--columns', o['columns']);
  if (inc instanceof Error) return inc;
  const exc = perModality('--exclude', o['exclude']);
  if (exc instanceof Error) return exc;
  for (const [m, v] of Object.entries(inc)) columns[m] = { ...columns[m], columns: v.split(',') };
  for (const [m, v] of Object.entries(exc)) columns[m] = { ...columns[m], exclude: v.split(',') };
  if (Object.keys(columns).length) out.columns = columns;
  const vocab = o['vocab'] !== undefined ? resolve(cwd, expandHome(String(o['vocab']))) : file.vocab;
  if (vocab) out.vocab = vocab;
  const tl = o['textLen'] ?? file.text_len;
  if (tl !== undefined) {
    const n = Number(tl);
    if (!Number.isInteger(n) || n < 2 || n > 512) return new Error(`--text-len expects an integer from 2 to 512, got '${String(tl)}'`);
    out.textLen = n;
  }
  if (o['force']) out.force = true;
  return out;
}

export function formatBuildReport(r: BuildReport): string {
  const lines = [
    `wrote ${r.out} (${(r.bytes / 2 ** 20).toFixed(1)} MiB): train ${r.splits.train}, valid ${r.splits.valid}, test ${r.splits.test}`,
    ...r.modalities.map((m) => `  ${m.name}: [N, ${m.frames}, ${m.dims}] float32 + ${m.name}_lengths${m.missing ? `; missing for ${m.missing} sample(s) (zeros, length 0)` : ''}${m.columns ? `; columns ${m.columns.length > 6 ? `${m.columns.slice(0, 6).join(', ')}, ...` : m.columns.join(', ')}` : ''}`),
    ...(r.textBert ? [`  text_bert: [N, 3, ${r.textBert.length}] int64 (token ids, mask, segments)`] : []),
    `  raw_text, id${r.text ? '' : ' (no text column: empty texts)'}`,
    ...r.labels.map((l) => `  ${l.key}: float32, ${l.min} .. ${l.max}`),
    ...r.notes.map((n) => `note: ${n}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** `mmsa data build SAMPLES.csv --out FILE [options]`. */
export async function dataBuildCommand(samples: string, o: Opts, io: Io): Promise<number> {
  if (!o['out']) return usage(io, 'mmsa data build needs --out FILE (the pickle to write)');
  try {
    const opts = buildOptionsOf(o, io.cwd);
    if (opts instanceof Error) return usage(io, opts.message);
    const { buildDataset } = await import('../runtime/data/build/build-dataset.js');
    const bar = (io.errIsTTY ?? io.isTTY) ? progressReporter(io, 'reading features') : undefined;
    const out = resolve(io.cwd, expandHome(String(o['out'])));
    const report = buildDataset(resolve(io.cwd, expandHome(samples)), out, { ...opts, ...(bar ? { onProgress: (d: number, t: number) => bar.update(d, t) } : {}) });
    bar?.finish();
    if (o['format'] === 'json') io.out(`${JSON.stringify(report, null, 2)}\n`);
    else io.out(formatBuildReport(report));
    return 0;
  } catch (e) {
    return failed(io, e);
  }
}

/** `mmsa data stats FILE [--format json]`. */
export async function dataStatsCommand(file: string, o: Opts, io: Io): Promise<number> {
  const path = resolve(io.cwd, expandHome(file));
  try {
    if (!existsSync(path)) throw new MmsaError('MSA6031', `no such file: ${path}`, { hint: 'give the path of a feature pickle (e.g. one `mmsa data build` wrote)', details: { file: path } });
    const { datasetStats, formatStats } = await import('../runtime/data/dataset-stats.js');
    const bar = (io.errIsTTY ?? io.isTTY) ? progressReporter(io, `reading ${basename(path)}`) : undefined;
    const r = await datasetStats(path, bar ? { onProgress: (d, t) => bar.update(d, t) } : {});
    bar?.finish();
    if (o['format'] === 'json') io.out(`${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
    else io.out(formatStats(r));
    return 0;
  } catch (e) {
    return failed(io, e);
  }
}

/** `mmsa init --dataset FILE [--model NAME] [--bert MODEL] [-o FILE] [--force]`. */
export async function initFromFileCommand(file: string, o: Opts, io: Io): Promise<number> {
  const path = resolve(io.cwd, expandHome(file));
  try {
    if (!existsSync(path)) throw new MmsaError('MSA6031', `no such file: ${path}`, { hint: 'give a dataset name (mosi, mosei, sims, simsv2, synthetic) or the path of a feature pickle', details: { file: path } });
    const stem = basename(path).replace(/\.[^.]*$/, '');
    const model = o['model'] as string | undefined;
    const out = resolve(io.cwd, (o['out'] as string | undefined) ?? `${model ?? 'starter'}_${stem}.yaml`);
    if (existsSync(out) && !o['force']) throw new MmsaError('MSA6724', `${out} exists`, { hint: 'pass --force to overwrite it, or -o to write elsewhere' });
    const { datasetStats } = await import('../runtime/data/dataset-stats.js');
    const { chooseLabels, presetFeatures, starterPipeline } = await import('./init-dataset.js');
    const stats = await datasetStats(path);
    if (model) {
      if (chooseLabels(stats).task === 'classification') {
        throw new MmsaError('MSA6725', `model '${model}' trains regression heads, and ${basename(path)} has 0/1 labels (classification)`, { hint: 'drop --model for a late-fusion starter with a classification head' });
      }
      const have = new Set(stats.features.map((f) => f.key));
      const lacking = presetFeatures(model).filter((k) => !have.has(k));
      if (lacking.length) {
        throw new MmsaError('MSA6725', `model '${model}' reads ${lacking.join(', ')}, which ${basename(path)} does not have (it has ${[...have].join(', ')})`, {
          hint: `drop --model for a late-fusion starter over the file's own modalities${lacking.includes('text_bert') ? ', or build the file with --vocab to get text_bert' : ''}`,
        });
      }
    }
    const command = ['mmsa init', '--dataset', file, ...(model ? ['--model', model] : []), ...(o['bert'] ? ['--bert', String(o['bert'])] : []), ...(o['out'] ? ['-o', String(o['out'])] : [])].join(' ');
    const text = starterPipeline(stats, { out, command, ...(model ? { model } : {}), ...(o['bert'] ? { bert: String(o['bert']) } : {}) });
    writeFileAtomic(out, text, { what: 'the pipeline', elsewhere: 'pass another -o' });
    io.out(`wrote ${out}\n`);
    for (const w of stats.warnings) io.err(`note: ${w}\n`);
    return 0;
  } catch (e) {
    return failed(io, e);
  }
}

/** `a,b,c` as positive integers (count of them fixed); an Error names the flag. */
function intList(flag: string, text: string, count: number, min: number): number[] | Error {
  const xs = text.split(',').map((v) => Number(v.trim()));
  if (xs.length !== count || xs.some((x) => !Number.isInteger(x) || x < min)) return new Error(`${flag} expects ${count} integers of at least ${min} separated by commas, got '${text}'`);
  return xs;
}

/** `mmsa data synth depression|humour|sarcasm --out DIR|FILE.pkl [--small] [--sizes a,b,c] [--frames lo,hi] [--seed n]`. */
export async function dataSynthCommand(variant: string, o: Opts, io: Io): Promise<number> {
  const { SESSION_PRESETS, writeSynthRawFeatures, writeSynthSessions } = await import('../runtime/data/synth-sessions.js');
  if (!(variant in SESSION_PRESETS)) return usage(io, `mmsa data synth: variant must be one of ${Object.keys(SESSION_PRESETS).join(', ')}, got '${variant}'`);
  if (!o['out']) return usage(io, 'mmsa data synth needs --out DIR (raw feature files and samples.csv) or --out FILE.pkl (a pickle)');
  const v = variant as keyof typeof SESSION_PRESETS;
  const small = Boolean(o['small']);
  // The binary labels are an interaction (punchline x context, words x voice): 64 training samples are too few to
  // learn one (a starter stays near the 0.6 of the weak additive cue), a few hundred are enough.
  const sizes = o['sizes'] !== undefined ? intList('--sizes', String(o['sizes']), 3, 1) : small ? (v === 'depression' ? [64, 16, 32] : [320, 64, 64]) : [...SESSION_PRESETS[v].sizes];
  if (sizes instanceof Error) return usage(io, sizes.message);
  const frames = o['frames'] !== undefined ? intList('--frames', String(o['frames']), 2, 1) : small && v === 'depression' ? [100, 300] : undefined;
  if (frames instanceof Error) return usage(io, frames.message);
  if (frames && frames[0]! > frames[1]!) return usage(io, `--frames expects MIN,MAX with MIN <= MAX, got '${String(o['frames'])}'`);
  const seed = Number(o['seed'] ?? 1111);
  if (!Number.isInteger(seed) || seed < 0) return usage(io, `--seed expects a non-negative integer, got '${String(o['seed'])}'`);
  // Small: short sessions and small dims, so a demo trains in seconds.
  const opts = {
    variant: v,
    sizes: sizes as [number, number, number],
    seed,
    ...(frames ? { frames: frames as [number, number] } : {}),
    ...(small ? { textDim: 16, ...(v === 'depression' ? {} : { audioDim: 8, visionDim: 8 }) } : {}),
  };
  const out = resolve(io.cwd, expandHome(String(o['out'])));
  try {
    if (/\.pkl$/i.test(out)) {
      if (existsSync(out) && !o['force']) throw new MmsaError('MSA6047', `${out} exists`, { hint: 'pass --force to replace it, or --out another file', details: { path: out } });
      const bytes = withWriteErrors(out, { what: 'the synthetic dataset', elsewhere: 'pass another --out' }, () => writeSynthSessions(out, opts));
      io.out(`wrote ${out} (${(bytes / 2 ** 20).toFixed(1)} MiB): ${variant}, train ${sizes[0]}, valid ${sizes[1]}, test ${sizes[2]}\n`);
      return 0;
    }
    if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0) && !o['force']) {
      throw new MmsaError('MSA6047', `${out} exists${statSync(out).isDirectory() ? ' and is not empty' : ''}`, { hint: 'pass --force to write into it, or --out a new directory (or a .pkl file for a pickle)', details: { path: out } });
    }
    const table = withWriteErrors(join(out, 'samples.csv'), { what: 'the synthetic feature files', elsewhere: 'pass another --out' }, () => writeSynthRawFeatures(out, opts));
    io.out(`wrote ${table} and ${sizes.reduce((a, b) => a + b, 0)} samples' feature files under ${join(out, 'features')} (${variant})\n`);
    io.out(`next: mmsa data build ${relativeOrAbsolute(io.cwd, table)} --out ${variant}.pkl${v === 'depression' ? ' --label-range 0,24' : ' --label-range 0,1'}\n`);
    return 0;
  } catch (e) {
    return failed(io, e);
  }
}

function relativeOrAbsolute(cwd: string, p: string): string {
  const r = relative(cwd, p);
  return r.startsWith('..') || isAbsolute(r) ? p : r;
}
