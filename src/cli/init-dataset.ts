// `mmsa init --dataset FILE`: a starter pipeline for a feature file in MMSA's layout (e.g. one `mmsa data build`
// wrote): its modalities with their dims, the task and metric set chosen from the labels, standardisation where the
// features look unnormalised. Phase: CLI (writes a spec; reads the data file once).

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { parse as parseYamlText } from 'yaml';
import { MmsaError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { datasetNames, manifestPath } from '../core/datasets.js';
import type { DatasetStats, FeatureStats } from '../runtime/data/dataset-stats.js';

/** Metric set, task and label range chosen from the main label's values. */
export interface LabelChoice {
  task: 'regression' | 'classification';
  metrics: string;
  numClasses?: number;
  labelRange: [number, number];
  why: string;
}

interface ManifestFacts {
  name: string;
  task: string;
  metrics: unknown;
  labelRange?: [number, number];
  /** The sequence keys of its default file (what a file must hold to be of this dataset's layout). */
  keys: string[];
}

/** The shipped dataset manifests (pipelines/datasets/), read once. */
function shippedManifests(): ManifestFacts[] {
  return datasetNames().flatMap((name) => {
    try {
      const m = parseYamlText(readFileSync(manifestPath(name), 'utf8')) as { task: string; metrics: unknown; label_range?: [number, number]; default_file: string; files: Record<string, { features: Record<string, { key: string; lengths?: string }> }> };
      const f = m.files[m.default_file];
      const keys = Object.values(f?.features ?? {}).filter((x) => x.lengths).map((x) => x.key);
      return [{ name, task: m.task, metrics: m.metrics, ...(m.label_range ? { labelRange: m.label_range } : {}), keys }];
    } catch {
      return [];
    }
  });
}

/**
 * The shipped manifests a file's layout matches: same kind of labels, labels within the label_range and spanning at
 * least half of it (a 1-5 rating is not a PHQ-8 score), and every sequence key declared present in the file; only
 * those declaring most keys (UR-FUNNY's and MUStARD's context over a plain utterance layout), by name.
 */
export function matchManifests(stats: DatasetStats, task: 'regression' | 'classification', lo: number, hi: number): ManifestFacts[] {
  const have = new Set(stats.features.map((f) => f.key));
  const fits = shippedManifests().filter((m) => m.task === task && typeof m.metrics === 'string' && m.keys.length > 0 && m.keys.every((k) => have.has(k)) && (!m.labelRange || (m.labelRange[0] <= lo && hi <= m.labelRange[1] && hi - lo >= (m.labelRange[1] - m.labelRange[0]) / 2)));
  const most = Math.max(0, ...fits.map((m) => m.keys.length));
  return fits.filter((m) => m.keys.length === most).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Labels 0/1 only: binary classification, scored with the `binary` set. Otherwise regression: labels within [-1, 1]
 * with fractions are scored as SIMS, within [-3, 3] as MOSI (MMSA's sentiment metrics); any other scale takes the
 * metric set and label range of the shipped manifest whose layout the file has (PHQ-8 sessions: daic_woz's
 * `depression` set and [0, 24]), else the generic regression set (MAE, RMSE, Corr, CCC) over the data's range.
 */
export function chooseLabels(stats: DatasetStats): LabelChoice {
  const main = stats.labels.find((l) => l.key === 'regression_labels');
  if (!main) throw new MmsaError('MSA6725', `${stats.file} has no regression_labels (the main label of MMSA's layout)`, { hint: 'build the file with a `label` column (mmsa data build)' });
  const all = Object.values(main.splits).flatMap((d) => (d ? d.bins.map((b) => ({ ...b })) : []));
  const lo = Math.min(...Object.values(main.splits).map((d) => d!.min));
  const hi = Math.max(...Object.values(main.splits).map((d) => d!.max));
  const integer = Object.values(main.splits).every((d) => d!.bins.every((b) => b.lo === b.hi && Number.isInteger(b.lo)));
  const values = new Set(all.map((b) => b.lo));
  if (integer && [...values].every((v) => v === 0 || v === 1)) {
    const ms = matchManifests(stats, 'classification', lo, hi);
    return { task: 'classification', metrics: 'binary', numClasses: 2, labelRange: [0, 1], why: `labels are 0/1: binary classification${ms.length ? ` (the layout of ${ms.map((m) => m.name).join(' and ')})` : ''}, scored with accuracy, weighted and macro F1 and AUROC` };
  }
  if (lo >= -1 && hi <= 1 && !integer) return { task: 'regression', metrics: 'sims', labelRange: [-1, 1], why: 'labels in [-1, 1]: sentiment regression scored as SIMS' };
  if (lo >= -3 && hi <= 3 && !integer) return { task: 'regression', metrics: 'mosi', labelRange: [-3, 3], why: 'labels in [-3, 3]: sentiment regression scored as MOSI' };
  const m = matchManifests(stats, 'regression', lo, hi)[0];
  if (m?.labelRange) {
    return { task: 'regression', metrics: m.metrics as string, labelRange: m.labelRange, why: `labels in [${lo}, ${hi}]${integer ? ' (integers)' : ''} in the layout of ${m.name} (pipelines/datasets/${m.name}.dataset.yaml): its scale [${m.labelRange.join(', ')}] and metric set ${m.metrics as string}` };
  }
  return { task: 'regression', metrics: 'regression', labelRange: [lo, hi], why: `labels in [${lo}, ${hi}]${integer ? ' (integers)' : ''}: regression scored with MAE, RMSE, Corr and CCC` };
}

/** Frames above which a sequence is averaged (SubNet) instead of run through an LSTM: interview-length sessions. */
export const LONG_SEQUENCE = 200;

const pow2 = (d: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, 2 ** Math.ceil(Math.log2(Math.max(1, d)))));

function modalityLines(f: FeatureStats, normalize: boolean, bert: string): { modality: string; feature: string; encoder: string; note?: string } {
  const pre = normalize ? ', preprocess: {normalize: standard}' : '';
  const lengths = f.lengthsKey ? `, lengths: ${f.lengthsKey}` : '';
  if (f.kind === 'tokens') {
    return {
      modality: `  ${f.key}: {feature: ${f.key}}`,
      feature: `    ${f.key}: {key: ${f.key}, shape: [${f.shape.join(', ')}], dtype: int}`,
      encoder: `  ${f.key}: {type: bert, pretrained: ${bert}, finetune: false, output: cls}   # the model whose vocab made the token ids`,
    };
  }
  const dims = f.shape[f.shape.length - 1]!;
  const feature = `    ${f.key}: {key: ${f.key}, shape: [${f.shape.join(', ')}], dtype: float${lengths}}`;
  const modality = `  ${f.key}: {feature: ${f.key}${pre}}`;
  if (f.kind === 'vector') return { modality, feature, encoder: `  ${f.key}: {type: mlp, hidden: [${pow2(dims, 8, 64)}], out: ${pow2(dims / 2, 8, 32)}, dropout: 0.1}` };
  const frames = f.shape[0]!;
  if (frames > LONG_SEQUENCE) {
    return {
      modality,
      feature,
      encoder: `  ${f.key}: {type: subnet, hidden: ${pow2(dims, 8, 64)}, dropout: 0.1}`,
      note: `${f.key}: ${frames} frames per sample is long for an LSTM, so the starter averages it over time (SubNet); a pooling or chunking pre-encoder keeps more of the dynamics`,
    };
  }
  return { modality, feature, encoder: `  ${f.key}: {type: lstm, hidden: ${pow2(dims, 8, 64)}, out: ${pow2(dims / 2, 8, 32)}${f.lengthsKey ? '' : ', packed: false'}}` };
}

export interface InitFromFileOptions {
  /** Where the pipeline goes (its dataset path is written relative to it). */
  out: string;
  /** Extend this model preset instead of the late-fusion starter. */
  model?: string;
  /** BERT model for token-id modalities (text_bert). */
  bert?: string;
  /** The command as typed, for the header comment. */
  command: string;
}

/** The starter pipeline's YAML text for a data file with these statistics. */
export function starterPipeline(stats: DatasetStats, o: InitFromFileOptions): string {
  const labels = chooseLabels(stats);
  const rel = relative(dirname(o.out), resolve(stats.file)) || basename(stats.file);
  const mods = stats.features.map((f) => ({ f, l: modalityLines(f, stats.normalize.includes(f.key), o.bert ?? 'bert-base-uncased') }));
  const n = stats.splits;
  const name = basename(stats.file).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_]+/g, '_');
  const head: string[] = [
    `# Starter pipeline from \`${o.command}\`.`,
    `# Data: ${rel} (train ${n.train}, valid ${n.valid}, test ${n.test}); ${labels.why}.`,
    ...(stats.normalize.length ? [`# ${stats.normalize.join(', ')}: standardised with the training split's mean and std (\`mmsa data stats\` found them unnormalised).`] : []),
    ...mods.flatMap((m) => (m.l.note ? [`# ${m.l.note}.`] : [])),
    `# Check it with \`mmsa check ${basename(o.out)}\`, train with \`mmsa run ${basename(o.out)}\`, compare runs with \`mmsa compare runs/\`.`,
  ];
  const dataset = [
    'dataset:',
    `  path: ${rel}`,
    `  name: ${name}`,
    `  task: ${labels.task}`,
    ...(labels.numClasses ? [`  num_classes: ${labels.numClasses}`] : []),
    `  label_range: [${labels.labelRange.join(', ')}]${labels.task === 'regression' && labels.metrics === 'regression' ? '    # from the data; write the scale\'s own range if the data does not reach it (PHQ-8: [0, 24])' : ''}`,
    `  metrics: ${labels.metrics}`,
    '  features:',
    ...mods.map((m) => m.l.feature),
    '    raw_text: {key: raw_text, dtype: str}',
    '    id: {key: id, dtype: str}',
    '  labels: {M: regression_labels}',
  ];
  const evalLines = ['eval:', `  metrics: ${labels.metrics}`, '  head: M'];
  if (o.model) {
    return `${[
      ...head,
      'version: 1',
      `extends: ${o.model}`,
      `description: ${o.model} on ${rel}`,
      ...dataset,
      ...(stats.normalize.length ? ['modalities:', ...stats.normalize.map((k) => `  ${k}: {preprocess: {normalize: standard}}`)] : []),
      ...evalLines,
      'seeds: [1111]',
    ].join('\n')}\n`;
  }
  const encs = mods.map((m) => m.f.key);
  const classification = labels.task === 'classification';
  return `${[
    ...head,
    'version: 1',
    `description: late fusion of ${encs.join(', ')} on ${rel}`,
    ...dataset,
    '',
    'modalities:',
    ...mods.map((m) => m.l.modality),
    '',
    'encoders:',
    ...mods.map((m) => m.l.encoder),
    '',
    'fusion:',
    '  type: concat',
    `  inputs: [${encs.join(', ')}]`,
    '',
    'heads:',
    classification ? `  M: {type: classification, input: fusion, num_classes: ${labels.numClasses}, hidden: [32], dropout: 0.1}` : '  M: {type: regression, input: fusion, hidden: [32], dropout: 0.1}',
    '',
    'tasks:',
    classification ? '  main: {type: cross_entropy, head: M, target: M}' : '  main: {type: l1, head: M, target: M}',
    '',
    'train:',
    `  batch_size: ${Math.max(1, Math.min(32, n.train))}`,
    '  max_epochs: 30',
    '  early_stop: {patience: 8}',
    '  optimizer:',
    '    type: adam',
    '    groups:',
    '      - {name: all, params: [\'*\'], lr: 1.0e-3, weight_decay: 1.0e-4}',
    '',
    ...evalLines,
    '',
    'seeds: [1111, 1112, 1113]',
  ].join('\n')}\n`;
}

/** The feature keys a model preset's modalities read, to check a file has them before extending the preset. */
export function presetFeatures(model: string): string[] {
  const file = resolve(packageRoot(), 'pipelines', 'presets', `${model}.yaml`);
  if (!existsSync(file)) throw new MmsaError('MSA6723', `no preset for model '${model}'`, { hint: 'reinstall mmsa' });
  const doc = parseYamlText(readFileSync(file, 'utf8')) as { modalities?: Record<string, { feature?: string }> };
  return Object.values(doc.modalities ?? {}).flatMap((m) => (m.feature ? [m.feature] : []));
}
