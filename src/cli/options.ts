// The one table of every `mmsa` command: arguments and options with descriptions, choices and defaults. main.ts builds
// commander from it, so `--help`, validation and "did you mean" all come from here. Phase: CLI (all phases).

import { datasetNames, modelNames } from '../core/datasets.js';
import { BACKEND_NAMES } from '../runtime/run-types.js';
import { RUN_PLOTS, VIEW_PLOTS } from '../report/views.js';

export interface ArgSpec {
  name: string;
  description: string;
  variadic?: boolean;
  optional?: boolean;
}

export interface OptionSpec {
  /** Commander flags, e.g. `--format <format>` or `-w, --write`. */
  flags: string;
  description: string;
  choices?: readonly string[];
  default?: string;
  /** Shown in help instead of nothing when there is a computed default. */
  defaultDescription?: string;
  /** May be given several times; the values arrive as a list. */
  repeatable?: boolean;
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

export const REPORTER_CHOICES = ['auto', 'tui', 'plain', 'ndjson'] as const;
/** Models and datasets as shipped: presets with a demo pipeline, and the dataset manifests (plus synthetic data). */
export const MODEL_CHOICES: readonly string[] = modelNames();
export const DATASET_CHOICES: readonly string[] = [...datasetNames(), 'synthetic'];
/** Plots of a search directory (`mmsa tune`); the others are plots of a run (the component views' among them). */
export const TUNE_PLOTS = ['trials', 'params'] as const;
export const PLOT_CHOICES: readonly string[] = [...RUN_PLOTS, ...TUNE_PLOTS];
/** `--epoch`: what it picks in the plots drawn per epoch. */
const EPOCH_HELP = VIEW_PLOTS.flatMap(({ plot: p }) => (p.epoch ? [`${p.epoch.what} for --plot ${p.name}`] : [])).join('; ');

const format: OptionSpec = { flags: '--format <format>', description: 'output format', choices: ['text', 'json'], default: 'text' };
const dataRoot: OptionSpec = { flags: '--data-root <dir>', description: 'directory holding the MMSA dataset folders' };
const backend: OptionSpec = { flags: '--backend <name>', description: 'tensor backend', choices: BACKEND_NAMES, default: 'wasm' };
const native: OptionSpec = {
  flags: '--native <mode>',
  description: "mmsa's native GEMM/LSTM kernels under the wasm backend (auto: when built at install; on: required; off: wasm alone). Default: MMSA_NATIVE, else auto",
  choices: ['auto', 'on', 'off'],
};
const threads: OptionSpec = { flags: '--threads <n>', description: 'threads of the native kernels (default: MMSA_THREADS, else every core; results do not depend on it)' };
const set: OptionSpec = {
  flags: '--set <key=value>',
  description: 'override a key of the spec, e.g. train.batch_size=32 or seeds=[1111,1112] (repeatable; checked like the spec)',
  repeatable: true,
};
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
    args: [{ name: 'files', description: 'pipeline specs (.yaml or .mmsa) or shipped pipeline names (lmf_mosi)', variadic: true }],
    options: [format, dataRoot, set],
  },
  {
    name: 'plan',
    description: 'print the compiled model and training schedule as stable text',
    args: [{ name: 'file', description: 'pipeline spec or shipped pipeline name' }],
    options: [dataRoot, { flags: '--verbose', description: 'list every parameter tensor' }, format, set],
  },
  {
    name: 'compile',
    description: 'print the normalized spec (all defaults filled) or the IR as JSON',
    args: [{ name: 'file', description: 'pipeline spec or shipped pipeline name' }],
    options: [{ flags: '--emit <what>', description: 'what to print', choices: ['spec', 'ir'], default: 'spec' }, dataRoot, set],
  },
  {
    name: 'schema',
    description: 'print a JSON Schema for editors (completion and checking as you type)',
    args: [],
    options: [
      {
        flags: '--what <which>',
        description:
          'pipeline: a spec file as written (with extends: every key optional, components partial); preset: pipelines/presets/*.yaml; dataset: a dataset manifest; resolved: the merged spec that check validates',
        choices: ['pipeline', 'preset', 'dataset', 'resolved'],
        default: 'pipeline',
      },
    ],
    examples: ['mmsa schema > pipeline.schema.json', 'mmsa schema --what preset > preset.schema.json'],
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
    description: 'write a starter pipeline for a model and a dataset (MMSA\'s paper values, a demo on synthetic data, or a starter for your own feature file)',
    args: [],
    options: [
      { flags: '--model <name>', description: 'model (with a data file: extend this model preset instead of the late-fusion starter)', choices: MODEL_CHOICES, defaultDescription: 'self_mm' },
      {
        flags: '--dataset <name-or-file>',
        description: `dataset: ${DATASET_CHOICES.join(', ')} (synthetic: a demo that needs no downloads), or a feature pickle in MMSA's layout (e.g. from \`mmsa data build\`)`,
        default: 'synthetic',
      },
      { flags: '--bert <model>', description: 'with a data file holding text_bert: the BERT model whose vocab made the token ids (Hugging Face id or directory)', defaultDescription: 'bert-base-uncased' },
      { flags: '-o, --out <file>', description: 'where to write it', defaultDescription: '<model>_<dataset>.yaml; starter_<file>.yaml for a data file' },
      { flags: '--force', description: 'overwrite an existing file' },
    ],
    examples: ['mmsa init --model self_mm --dataset mosi', 'mmsa init --model tfn --dataset synthetic -o my_tfn.yaml', 'mmsa init --dataset my_data.pkl   # modalities, dims and metric set from the file'],
  },
  {
    name: 'run',
    description: 'train and test pipelines (every seed), writing runs/<pipeline>/<hash>-<seed>/',
    args: [{ name: 'files', description: 'pipeline specs or shipped pipeline names (lmf_mosi), one after another (with --queue all at once); or use -m/-d', optional: true, variadic: true }],
    options: [
      { flags: '-m, --model <name>', description: "model of a shipped paper config, as MMSA's -m (default with -d: lf_dnn)", choices: MODEL_CHOICES },
      { flags: '-d, --dataset <name>', description: "dataset of a shipped paper config, as MMSA's -d (default with -m: sims; synthetic: the model's demo)", choices: DATASET_CHOICES },
      { flags: '-s, --seeds <list>', description: 'seeds overriding the spec: -s 1111 -s 1112 (as MMSA) or 1111,1112', repeatable: true },
      set,
      { flags: '--max-epochs <n>', description: 'stop after at most n epochs' },
      backend,
      native,
      threads,
      { flags: '--out <dir>', description: 'root directory of runs', default: 'runs' },
      dataRoot,
      { flags: '--force', description: 'train again even when an identical completed run exists' },
      { flags: '--queue <url>', description: 'put the seeds on a BullMQ queue in Redis (redis://host:port/db) for `mmsa worker` processes' },
      reporter,
    ],
    examples: [
      'mmsa run pipelines/demo_self_mm.yaml --max-epochs 3',
      'mmsa run -d mosi -m lmf -s 1111 -s 1112          # MMSA: python -m MMSA -d mosi -m lmf -s 1111 -s 1112',
      'mmsa run lmf_mosi --set train.batch_size=32 --reporter plain',
      'mmsa run lmf_mosi tfn_mosi --queue redis://127.0.0.1:6379/0   # every seed of both on the queue',
    ],
  },
  {
    name: 'tune',
    description: "search hyperparameters (the spec's tune: section): each trial an ordinary run directory scored on validation; best.yaml tested once",
    args: [{ name: 'file', description: 'pipeline spec with a tune: section (or any spec with --preset)' }],
    options: [
      { flags: '--trials <n>', description: 'number of trials (overrides tune.budget.trials)' },
      { flags: '--jobs <n>', description: 'trials run at once, each in its own worker process (default: cores / threads per run)' },
      { flags: '--preset <name>', description: "a tuning preset merged under tune: (mmsa: MMSA's config_tune.json space for the model)" },
      { flags: '--queue <url>', description: 'put the trials on a BullMQ queue in Redis (redis://host:port/db) for `mmsa worker` processes' },
      backend,
      native,
      threads,
      { flags: '--out <dir>', description: 'root directory of runs', default: 'runs' },
      dataRoot,
      reporter,
    ],
    examples: ['mmsa tune pipelines/demo_lmf_tune.yaml --jobs 2', 'mmsa tune pipelines/lmf_mosi.yaml --preset mmsa', 'mmsa tune pipelines/lmf_mosi.yaml --preset mmsa --queue redis://127.0.0.1:6379/0'],
  },
  {
    name: 'worker',
    description: 'take runs and trials from a BullMQ queue in Redis and run them (refuses jobs of another mmsa version or native build)',
    args: [],
    options: [
      { flags: '--queue <url>', description: 'the queue: redis://host:port/db' },
      { flags: '--concurrency <n>', description: 'jobs at once, each in its own worker process', default: '1' },
      { flags: '--shared', description: "write run directories to each job's --out (a path all machines share) instead of sending the files back" },
      { flags: '--cache <dir>', description: 'where runs go when not --shared (default: MMSA_WORKER_CACHE, else ~/.cache/mmsa/worker-runs)' },
      threads,
    ],
    examples: ['mmsa worker --queue redis://127.0.0.1:6379/0 --concurrency 2'],
  },
  {
    name: 'status',
    description: 'what a queue holds (waiting, running, done, failed), its workers, and with --follow the running jobs live',
    args: [],
    options: [
      { flags: '--queue <url>', description: 'the queue: redis://host:port/db' },
      { flags: '--follow', description: 're-attach: print the running jobs\' events until the queue is idle' },
      reporter,
    ],
  },
  {
    name: 'predict',
    description: "write predictions of a trained run's best checkpoint (id, prediction, label; class probabilities for classification)",
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
    name: 'evaluate',
    description: "metrics of a trained run's best checkpoint on labelled data (its metric set and Loss, as its test results)",
    args: [{ name: 'run-dir', description: 'a run directory (runs/<pipeline>/<hash>-<seed>)' }],
    options: [
      { flags: '--data <file>', description: "a labelled feature file in the run's layout (default: the run's own dataset)" },
      { flags: '--split <split>', description: 'which split of the file', choices: ['train', 'valid', 'test'], default: 'test' },
      format,
      { flags: '--out <file>', description: 'also write the result as .json' },
      {
        flags: '--missing <mod=rate,...>',
        description: "robustness: drop this fraction of a modality's frames (zeroed) or tokens ([UNK]) as TFR-Net's missing protocol; a rate may be a range start:stop:step (a curve). Recorded in RUN_DIR/robustness.json for `mmsa report`",
        repeatable: true,
      },
      { flags: '--noise <mod=rate,...>', description: "robustness: add Gaussian noise of this std relative to each feature dimension's std; rates as for --missing", repeatable: true },
      { flags: '--seeds <list>', description: 'seeds of the perturbations (results are averaged): 1111,1112 or repeated', defaultDescription: "1111, MMSA's missing_seed", repeatable: true },
      dataRoot,
      backend,
      native,
      threads,
    ],
    examples: [
      'mmsa evaluate runs/lmf_mosi/83e606e3a2af-1111 --data new_clips.pkl',
      'mmsa evaluate RUN_DIR --data other.pkl --split valid --format json',
      'mmsa evaluate RUN_DIR --missing text=0.3,audio=0.5 --noise vision=0.1 --seeds 1111,1112,1113',
      'mmsa evaluate RUN_DIR --missing audio=0:1:0.1 --seeds 1,2,3 && mmsa report RUN_DIR   # a robustness curve',
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
    description: 'write a self-contained HTML report (inline SVG plots, spec, manifest) of runs or searches, or one plot as PNG; several seeds of a spec also get mean +- std, a per-seed table and their curves overlaid',
    args: [{ name: 'run-dirs', description: 'run directories (or runs/<pipeline> holding them), or search directories of `mmsa tune` (runs/<pipeline>/tune-<hash>)', variadic: true }],
    options: [
      { flags: '--format <format>', description: 'html page or a single png plot', choices: ['html', 'png'], default: 'html' },
      { flags: '-o, --out <file>', description: 'output file', defaultDescription: 'report.html in the one directory given (a run or runs/<pipeline>), else ./mmsa-report.html; RUN_DIR/<plot>.png' },
      { flags: '--plot <name>', description: 'which plot for --format png (of a search: trials, the default there, or params)', choices: PLOT_CHOICES, default: 'loss' },
      { flags: '--epoch <n>', description: `epoch of ${EPOCH_HELP || 'a plot drawn per epoch'} (default: the last)` },
      { flags: '--title <text>', description: 'page title' },
    ],
    examples: ['mmsa report runs/demo_self_mm/83e606e3a2af-1111', 'mmsa report runs/lmf_mosi   # every seed: writes runs/lmf_mosi/report.html', 'mmsa report RUN_DIR --format png --plot labels -o labels.png', 'mmsa report runs/demo_lmf_tune/tune-975e4afdcab8   # a search: trials, objective per trial and per parameter'],
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
    description: 'build, inspect, describe and verify MMSA feature files',
    args: [],
    options: [],
    subcommands: [
      {
        name: 'build',
        description: "build an MMSA-layout pickle from a samples table (id, split, label, text, one column per modality naming each sample's per-frame .npy or CSV features)",
        args: [{ name: 'samples', description: 'SAMPLES.csv: columns id, split (train/valid/test), label (or label_M, label_T, ...), optional text, one column per modality' }],
        options: [
          { flags: '--out <file>', description: 'the pickle to write (required; written atomically, nothing on error)' },
          { flags: '--options <file>', description: 'YAML options: label_range, max_frames, nan, vocab, text_len, modalities: {NAME: {columns, exclude, delimiter}} (flags win)' },
          { flags: '--label-range <lo,hi>', description: 'labels outside are errors (e.g. 0,24 for PHQ-8)' },
          { flags: '--columns <mod=patterns>', description: 'CSV features: columns to keep, globs, e.g. vision=AU*_r,gaze_angle_* (repeatable; default: all but frame/timestamp/confidence/success/name/frameTime)', repeatable: true },
          { flags: '--exclude <mod=patterns>', description: 'CSV features: columns to drop, e.g. audio=F0final_sma (repeatable)', repeatable: true },
          { flags: '--max-frames <mod=n>', description: 'keep at most n frames of a modality (repeatable)', repeatable: true },
          { flags: '--nan <how>', description: 'NaN / Inf in features', choices: ['error', 'zero'], defaultDescription: 'error' },
          { flags: '--vocab <path>', description: "a BERT vocab.txt (or model directory): adds text_bert token ids of the text column with mmsa's WordPiece tokenizer" },
          { flags: '--text-len <n>', description: 'token length of text_bert', defaultDescription: 'the longest text, at most 512' },
          { flags: '--force', description: 'replace an existing output file' },
          format,
        ],
        examples: [
          'mmsa data build samples.csv --out my_data.pkl',
          "mmsa data build samples.csv --out daic.pkl --label-range 0,24 --columns 'vision=AU*_r,pose_R*' --max-frames audio=20000",
          'mmsa data build samples.csv --out my_data.pkl --vocab ~/bert-base-uncased/vocab.txt --text-len 50',
        ],
      },
      {
        name: 'synth',
        description: 'write synthetic data with a planted signal in the shapes of a depression interview corpus (DAIC-WOZ-like sessions, PHQ-8 0-24), humour (UR-FUNNY-like, with context) or sarcasm (MUStARD-like): raw per-sample feature files and samples.csv, or a pickle',
        args: [{ name: 'variant', description: 'depression, humour or sarcasm' }],
        options: [
          { flags: '--out <path>', description: 'a directory for samples.csv and features/ (the input of `mmsa data build`), or a .pkl file for an MMSA-layout pickle (required)' },
          { flags: '--small', description: 'a demo size: depression 64/16/32 samples with short sessions (100-300 frames), humour and sarcasm 320/64/64; small dims' },
          { flags: '--sizes <train,valid,test>', description: 'samples per split', defaultDescription: 'DAIC-WOZ 107,35,47; UR-FUNNY 7614,980,994; MUStARD 414,138,138' },
          { flags: '--frames <min,max>', description: 'frames per session (depression) or per utterance' },
          { flags: '--seed <n>', description: 'generator seed', default: '1111' },
          { flags: '--force', description: 'write into an existing non-empty directory or over an existing file' },
        ],
        examples: ['mmsa data synth depression --small --out my_interviews', 'mmsa data build my_interviews/samples.csv --out interviews.pkl --label-range 0,24', 'mmsa data synth humour --small --out humour.pkl'],
      },
      {
        name: 'stats',
        description: 'split sizes, label distribution, sequence lengths, NaN/Inf counts and per-dimension feature scale of a feature pickle; warns about unnormalised features',
        args: [{ name: 'file', description: 'an MMSA-layout pickle' }],
        options: [format],
      },
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
