// The dataset and model vocabulary, read from the shipped pipelines: dataset names are the manifests in
// pipelines/datasets/, model names the presets that ship a demo pipeline. Ground floor for the CLI's choices and reports.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { datasetsDir, pipelinesDir, presetsDir } from '../paths.js';

const MANIFEST = '.dataset.yaml';

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

let datasets: string[] | undefined;
let models: string[] | undefined;

/** Names of the dataset manifests (`mosi` for pipelines/datasets/mosi.dataset.yaml), sorted. */
export function datasetNames(): string[] {
  datasets ??= list(datasetsDir())
    .filter((f) => f.endsWith(MANIFEST))
    .map((f) => f.slice(0, -MANIFEST.length))
    .sort();
  return datasets;
}

/** Model names: presets (pipelines/presets/<model>.yaml) that ship a demo (pipelines/demo_<model>.yaml), sorted. */
export function modelNames(): string[] {
  if (!models) {
    const shipped = new Set(list(pipelinesDir()));
    models = list(presetsDir())
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -'.yaml'.length))
      .filter((m) => shipped.has(`demo_${m}.yaml`))
      .sort();
  }
  return models;
}

/** `self_mm_mosi` -> `self_mm`: a pipeline named `<model>_<dataset>` without its dataset; others keep their name. */
export function modelOfPipeline(pipeline: string): string {
  const d = datasetNames().find((n) => pipeline.toLowerCase().endsWith(`_${n.toLowerCase()}`));
  return d ? pipeline.slice(0, -(d.length + 1)) : pipeline;
}

/** The manifest file of a dataset name. */
export function manifestPath(name: string): string {
  return join(datasetsDir(), `${name}${MANIFEST}`);
}
