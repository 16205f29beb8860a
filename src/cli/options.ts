// The one table of every `mmsa` command: arguments and options with descriptions, choices and defaults. main.ts builds
// commander from it, so `--help`, validation and "did you mean" all come from here. Phase: CLI (all phases).

import { datasetNames, modelNames } from '../core/datasets.js';

export interface ArgSpec {
  name: string;
  description: string;
  variadic?: boolean;
}

export interface OptionSpec {
  /** Commander flags, e.g. `--format <format>` or `-w, --write`. */
  flags: string;
  description: string;
  choices?: readonly string[];
  default?: string;
  /** Shown in help instead of nothing when there is a computed default. */
  defaultDescription?: string;
}

export interface CommandSpec {
  name: string;
  description: string;
  args: ArgSpec[];
  options: OptionSpec[];
  subcommands?: CommandSpec[];
  /** Extra help text (examples). */
  examples?: string[];
}

export const BACKEND_CHOICES = ['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'] as const;
export const REPORTER_CHOICES = ['auto', 'tui', 'plain', 'ndjson'] as const;
/** Models and datasets as shipped: presets with a demo pipeline, and the dataset manifests (plus synthetic data). */
export const MODEL_CHOICES: readonly string[] = modelNames();
export const DATASET_CHOICES: readonly string[] = [...datasetNames(), 'synthetic'];
export const PLOT_CHOICES = ['loss', 'metrics', 'drift', 'labels', 'scatter'] as const;

const format: OptionSpec = { flags: '--format <format>', description: 'output format', choices: ['text', 'json'], default: 'text' };
const dataRoot: OptionSpec = { flags: '--data-root <dir>', description: 'directory holding the MMSA dataset folders' };
const backend: OptionSpec = { flags: '--backend <name>', description: 'tensor backend', choices: BACKEND_CHOICES, default: 'wasm' };
const native: OptionSpec = {
  flags: '--native <mode>',
  description: "mmsa's native GEMM/LSTM kernels under the wasm backend (auto: when built at install; on: required; off: wasm alone). Default: MMSA_NATIVE, else auto",
  choices: ['auto', 'on', 'off'],
};
const threads: OptionSpec = { flags: '--threads <n>', description: 'threads of the native kernels (default: MMSA_THREADS, else every core; results do not depend on it)' };
const reporter: OptionSpec = {
  flags: '--reporter <name>',
  description: 'how progress is shown (auto: the terminal UI on an interactive terminal, plain lines otherwise, e.g. with CI set or TERM=dumb)',
  choices: REPORTER_CHOICES,
  default: 'auto',
};

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'check',
    description: 'check pipeline specs (parse, schema, rules, shapes) and report every problem at once',
    args: [{ name: 'files', description: 'pipeline specs (.yaml or .mmsa)', variadic: true }],
    options: [format, dataRoot],
  },
  {
    name: 'plan',
    description: 'print the compiled model and training schedule as stable text',
    args: [{ name: 'file', description: 'pipeline spec' }],
    options: [dataRoot, { flags: '--verbose', description: 'list every parameter tensor' }, format],
  },
  {
    name: 'compile',
    description: 'print the normalized spec (all defaults filled) or the IR as JSON',
    args: [{ name: 'file', description: 'pipeline spec' }],
    options: [{ flags: '--emit <what>', description: 'what to print', choices: ['spec', 'ir'], default: 'spec' }, dataRoot],
  },
  {
    name: 'schema',
    description: 'print the JSON Schema of pipeline specs (for editor completion)',
    args: [],
    options: [{ flags: '--what <which>', description: 'which schema', choices: ['pipeline', 'dataset'], default: 'pipeline' }],
  },
  {
    name: 'fmt',
    description: 'print .mmsa files in canonical formatting (comments kept)',
    args: [{ name: 'files', description: '.mmsa files', variadic: true }],
    options: [
      { flags: '-w, --write', description: 'rewrite the files in place' },
      { flags: '--check', description: 'exit 1 if a file is not formatted (for CI)' },
    ],
  },
  {
    name: 'convert',
    description: 'convert a spec between YAML and the .mmsa language (comments kept)',
    args: [{ name: 'file', description: 'a .yaml or .mmsa spec' }],
    options: [{ flags: '-o, --out <file>', description: 'write to this file instead of stdout' }],
  },
  {
    name: 'init',
    description: 'write a starter pipeline for a model and a dataset (MMSA\'s paper values, or a demo on synthetic data)',
    args: [],
    options: [
      { flags: '--model <name>', description: 'model', choices: MODEL_CHOICES, default: 'self_mm' },
      { flags: '--dataset <name>', description: 'dataset (synthetic: a demo that needs no downloads)', choices: DATASET_CHOICES, default: 'synthetic' },
      { flags: '-o, --out <file>', description: 'where to write it', defaultDescription: '<model>_<dataset>.yaml' },
      { flags: '--force', description: 'overwrite an existing file' },
    ],
    examples: ['mmsa init --model self_mm --dataset mosi', 'mmsa init --model tfn --dataset synthetic -o my_tfn.yaml'],
  },
  {
    name: 'run',
    description: 'train and test a pipeline (every seed), writing runs/<pipeline>/<hash>-<seed>/',
    args: [{ name: 'file', description: 'pipeline spec' }],
    options: [
      { flags: '--seeds <list>', description: 'comma-separated seeds, overriding the spec (e.g. 1111,1112)' },
      { flags: '--max-epochs <n>', description: 'stop after at most n epochs' },
      backend,
      native,
      threads,
      { flags: '--out <dir>', description: 'root directory of runs', default: 'runs' },
      dataRoot,
      { flags: '--force', description: 'train again even when an identical completed run exists' },
      reporter,
    ],
    examples: ['mmsa run pipelines/demo_self_mm.yaml --max-epochs 3', 'mmsa run pipelines/self_mm_mosi.yaml --seeds 1111 --reporter plain'],
  },
  {
    name: 'predict',
    description: "write predictions of a trained run's best checkpoint (id, prediction, label)",
    args: [{ name: 'run-dir', description: 'a run directory (runs/<pipeline>/<hash>-<seed>)' }],
    options: [
      { flags: '--data <file>', description: "a feature file in the same layout (default: the run's own dataset)" },
      { flags: '--split <split>', description: 'which split', choices: ['train', 'valid', 'test'], default: 'test' },
      { flags: '--out <file>', description: 'write .csv or .json instead of CSV on stdout' },
      { flags: '--unfinished', description: 'also predict with a run that did not complete (died, failed, interrupted or still running): its best checkpoint so far' },
      dataRoot,
      backend,
      native,
      threads,
    ],
  },
  {
    name: 'import',
    description: "import an MMSA checkpoint (the .pth MMSA's trainers save) into a run directory that predict and report accept",
    args: [{ name: 'checkpoint', description: "MMSA's torch.save(model.state_dict()) file (zip or legacy format)" }],
    options: [
      { flags: '--pipeline <spec>', description: 'the pipeline of the same model and dataset config (e.g. pipelines/tfn_mosi.yaml); required' },
      { flags: '--extra-tensors <file>', description: "a torch.save file of tensors MMSA's model keeps but never saves (Graph-MFN's node networks), exported from the MMSA process" },
      { flags: '--out <dir>', description: 'the run directory to write', defaultDescription: 'runs/<pipeline>/<hash>-imported' },
      dataRoot,
      { flags: '--no-eval', description: 'do not evaluate the valid and test splits (by default they are, when the dataset can be read)' },
      { flags: '--force', description: 'replace an existing run directory' },
      format,
      backend,
      native,
      threads,
    ],
    examples: ['mmsa import ~/MMSA/saved_models/tfn-mosi.pth --pipeline pipelines/tfn_mosi.yaml', 'mmsa import self_mm-mosi.pth --pipeline my_self_mm_frozen.yaml --out runs/self_mm_imported'],
  },
  {
    name: 'watch',
    description: "replay a finished run's events.ndjson through a reporter, or follow a live run until it ends",
    args: [{ name: 'run-dir', description: 'a run directory (runs/<pipeline>/<hash>-<seed>)' }],
    options: [
      reporter,
      { flags: '--follow', description: 'keep reading new events until the run ends (default: when the run is still running)' },
      { flags: '--interval <ms>', description: 'how often to look for new events when following', default: '250' },
    ],
  },
  {
    name: 'report',
    description: 'write a self-contained HTML report (inline SVG plots, spec, manifest) of runs, or one plot as PNG',
    args: [{ name: 'run-dirs', description: 'run directories (or runs/<pipeline> holding them)', variadic: true }],
    options: [
      { flags: '--format <format>', description: 'html page or a single png plot', choices: ['html', 'png'], default: 'html' },
      { flags: '-o, --out <file>', description: 'output file', defaultDescription: 'RUN_DIR/report.html, or RUN_DIR/<plot>.png' },
      { flags: '--plot <name>', description: 'which plot for --format png', choices: PLOT_CHOICES, default: 'loss' },
      { flags: '--epoch <n>', description: 'epoch of the ULGM label histogram for --plot labels (default: the last)' },
      { flags: '--title <text>', description: 'page title' },
    ],
    examples: ['mmsa report runs/demo_self_mm/83e606e3a2af-1111', 'mmsa report RUN_DIR --format png --plot labels -o labels.png'],
  },
  {
    name: 'compare',
    description: 'compare finished runs: models x datasets with mean +- std over seeds per metric, best per column marked',
    args: [{ name: 'runs', description: 'run directories, runs/<pipeline>, runs/ or quoted globs ("runs/*/*")', variadic: true }],
    options: [
      { flags: '--format <format>', description: 'table format', choices: ['markdown', 'csv', 'json'], default: 'markdown' },
      { flags: '--sort <metric>', description: 'metric to sort by (best first)', defaultDescription: 'the first accuracy-like metric' },
      { flags: '-o, --out <file>', description: 'write to this file instead of stdout' },
    ],
  },
  {
    name: 'data',
    description: 'inspect and verify MMSA feature files',
    args: [],
    options: [],
    subcommands: [
      {
        name: 'inspect',
        description: 'splits, keys, dtypes, shapes, label statistics, lengths and -inf/NaN counts of a feature pickle',
        args: [{ name: 'file', description: 'an MMSA-layout pickle' }],
        options: [format],
      },
      {
        name: 'verify',
        description: "check feature files' SHA-256 against the dataset manifests",
        args: [{ name: 'name-or-file', description: 'a dataset name (mosi, sims, ...) or a pickle path' }],
        options: [dataRoot],
      },
    ],
  },
];

// Option values, flags and commands get the same "did you mean" as spec keys.
export { didYouMean, editDistance } from '../core/did-you-mean.js';

export function findCommand(path: string[]): CommandSpec | undefined {
  let list: readonly CommandSpec[] = COMMANDS;
  let found: CommandSpec | undefined;
  for (const name of path) {
    found = list.find((c) => c.name === name);
    if (!found) return undefined;
    list = found.subcommands ?? [];
  }
  return found;
}
