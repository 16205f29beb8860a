// The dataset manifests of the shapes beyond sentiment (daic_woz, ur_funny, mustard): they declare exactly the keys
// `mmsa data synth` writes, and a feature file with extra keys (context sequences, lengths) loads through the manifest
// machinery: declared keys are read, unknown keys ignored, a declared key the pipeline reads but the file lacks is
// MSA6023 naming file, split and key. Phases 3 and 7.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { compileFile } from '../../../src/compiler/compile.js';
import { manifestPath } from '../../../src/core/datasets.js';
import { MmsaError } from '../../../src/errors.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import { readPickle, type PyValue } from '../../../src/runtime/data/pickle/read-pickle.js';
import { ndarray, writePickleFile, type PyWritable } from '../../../src/runtime/data/pickle/write-pickle.js';
import { generateSessionSamples, samplesToMmsa, type SessionVariant } from '../../../src/runtime/data/synth-sessions.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsa-session-manifests-'));

interface Manifest {
  name: string;
  metrics: string;
  label_range: [number, number];
  default_file: string;
  files: Record<string, { splits: Record<string, number>; features: Record<string, { key: string; shape?: number[]; lengths?: string }>; labels: Record<string, string> }>;
}

const manifest = (name: string) => parse(readFileSync(manifestPath(name), 'utf8')) as Manifest;
const small = { sizes: [6, 3, 3] as [number, number, number], frames: [4, 8] as [number, number], textLen: 4, textDim: 4, audioDim: 3, visionDim: 3 };

describe('manifests and the synthetic generators agree', () => {
  it.each([
    ['daic_woz', 'depression', 'depression', [0, 24]],
    ['ur_funny', 'humour', 'binary', [0, 1]],
    ['mustard', 'sarcasm', 'binary', [0, 1]],
  ] as const)('%s declares the keys `mmsa data synth %s` writes, metric set %s, labels %j', async (name, variant, metrics, range) => {
    const m = manifest(name);
    expect(m.metrics).toBe(metrics);
    expect(m.label_range).toEqual(range);
    const f = m.files[m.default_file]!;
    const declared = new Set([...Object.values(f.features).flatMap((x) => [x.key, ...(x.lengths ? [x.lengths] : [])]), ...Object.values(f.labels)]);
    const file = join(dir, `${variant}.pkl`);
    writePickleFile(file, samplesToMmsa(generateSessionSamples({ variant: variant as SessionVariant, ...small })));
    const top = (await readPickle(file)) as Map<PyValue, Map<PyValue, PyValue>>;
    const written = new Set([...top.get('train')!.keys()].map(String));
    // Everything declared is written; the file's only other key is classification_labels (documented, not read).
    expect([...declared].filter((k) => !written.has(k))).toEqual([]);
    expect([...written].filter((k) => !declared.has(k))).toEqual(['classification_labels']);
  });
});

/** The ur_funny manifest with this file's split sizes and shapes (as a user's copy of a subset would declare). */
function smallManifest(file: string, top: Map<PyValue, Map<PyValue, PyValue>>): string {
  const m = manifest('ur_funny');
  const f = m.files[m.default_file]!;
  f.splits = Object.fromEntries(['train', 'valid', 'test'].map((s) => [s, (top.get(s)!.get('regression_labels') as { shape: number[] }).shape[0]!]));
  for (const x of Object.values(f.features)) {
    const a = top.get('train')!.get(x.key) as { shape?: number[] } | undefined;
    if (x.shape && a?.shape) x.shape = a.shape.slice(1);
  }
  const path = join(dir, 'ur_funny_small.dataset.yaml');
  writeFileSync(path, stringify(m));
  return path;
}

function spec(name: string, manifestFile: string, pkl: string): string {
  const p = join(dir, `${name}.yaml`);
  writeFileSync(p, `version: 1
dataset: {path: ${pkl}, manifest: ${manifestFile}}
modalities:
  text: {feature: text}
  context_text: {feature: context_text}
encoders:
  text: {type: subnet, hidden: 4}
  context_text: {type: subnet, hidden: 4}
fusion: {type: concat, inputs: [text, context_text]}
heads: {M: {type: classification, input: fusion, num_classes: 2, hidden: [4]}}
tasks: {main: {type: cross_entropy, head: M, target: M}}
`);
  return p;
}

describe('a feature file with context sequences through a manifest', () => {
  const data = samplesToMmsa(generateSessionSamples({ variant: 'humour', ...small }));
  // A key no manifest declares (e.g. what another tool left in the file): ignored.
  for (const s of Object.values(data) as Record<string, PyWritable>[]) {
    const n = (s['id'] as string[]).length;
    s['laughter_onsets'] = ndarray(new Float32Array(n * 2), [n, 2]);
  }
  const full = join(dir, 'jokes.pkl');
  writePickleFile(full, data);

  it('reads the declared context keys with their lengths and ignores unknown keys', async () => {
    const top = (await readPickle(full)) as Map<PyValue, Map<PyValue, PyValue>>;
    const c = compileFile(spec('jokes', smallManifest(full, top), full), { env: {} });
    expect(c.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(c.ir!.dataset.metrics).toBe('binary');
    const d = await loadDataset(c.ir!);
    expect(d.train.n).toBe(6);
    expect(d.train.features['context_text']!.shape).toEqual([6, ...c.ir!.dataset.features['context_text']!.shape]);
    expect(Array.from(d.train.lengths['context_text']!).every((l) => l >= 3 * 2 && l <= 3 * 4)).toBe(true);
    expect(Object.keys(d.train.features).sort()).toEqual(['context_text', 'text']);
  });

  it('a declared key the pipeline reads but the file lacks is MSA6023 naming file, split and key', async () => {
    const top = (await readPickle(full)) as Map<PyValue, Map<PyValue, PyValue>>;
    const manifestFile = smallManifest(full, top);
    const lacking = join(dir, 'no_context.pkl');
    const copy = samplesToMmsa(generateSessionSamples({ variant: 'humour', ...small }));
    for (const s of Object.values(copy)) delete (s as Record<string, PyWritable>)['context_text'];
    writePickleFile(lacking, copy);
    const c = compileFile(spec('lacking', manifestFile, lacking), { env: {} });
    expect(c.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const err = await loadDataset(c.ir!).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(MmsaError);
    expect((err as MmsaError).code).toBe('MSA6023');
    expect((err as MmsaError).message).toMatch(/no_context\.pkl: split 'train' has no key 'context_text' \(needed for modality 'context_text'\)/);
  });
});
