// The catalog of every error code: compiler diagnostics (syntax 1xxx, schema/normalize 2xxx, semantic 3xxx, shape 4xxx,
// lowering 5xxx) with severity, message template and fix hint, and runtime/data errors (6xxx) with their one meaning.
// Ground floor: every phase draws its codes from here, and a code never carries two meanings.

export interface MessageEntry {
  severity: 'error' | 'warning' | 'info';
  /** Template; `{name}` placeholders are filled from the diagnostic's args. */
  message: string;
  hint?: string;
}

function m(severity: MessageEntry['severity'], message: string, hint?: string): MessageEntry {
  return hint === undefined ? { severity, message } : { severity, message, hint };
}

export const MESSAGES = {
  // ---- 1xxx: reading and syntax -------------------------------------------------------------
  MSA1001: m('error', 'YAML syntax error: {detail}', 'fix the YAML syntax at this place'),
  MSA1002: m('error', "duplicate key '{key}'", 'each key may appear once in a mapping; remove or rename one of them'),
  MSA1003: m('error', 'unsupported YAML feature: {feature}', 'write the value out in full'),
  MSA1004: m('error', "cannot read '{path}': {reason}", 'check the path (it is relative to the file that names it)'),
  MSA1005: m('error', 'the file is empty', 'a pipeline spec needs at least `version` and `dataset`'),
  MSA1006: m('error', 'the top level of a pipeline spec must be a mapping, got {actual}'),
  MSA1007: m('error', 'alias {alias} expands too much: a file may expand at most {max} aliases (counting aliases inside copied anchors)', 'write the values out, or share them with `extends:`; repeated nested aliases grow exponentially'),
  MSA1008: m('error', 'nested deeper than {max} levels', 'a pipeline spec nests a few levels: close the brackets or blocks that were left open, or flatten the value'),
  MSA1009: m('error', '{count} more problems in this file are not shown ({errors} errors, {warnings} warnings)', 'fix the problems shown first; the rest often follow from them'),
  MSA1010: m('error', 'syntax error: expected {expected}, found {found}'),
  MSA1011: m('error', 'unterminated string', 'close the string with a matching quote'),
  MSA1012: m('error', "unexpected character '{char}'"),
  MSA1013: m('error', 'unexpected end of file: expected {expected}'),
  MSA1014: m('error', 'invalid number {text}'),
  MSA1015: m('error', 'unknown file type: {path}', 'pipeline specs end in .yaml, .yml or .mmsa'),
  // DSL-specific codes (the .mmsa syntax) start at MSA1020.
  MSA1020: m('error', "unexpected ':' after '{key}'", "write `key value` without ':' (a ':' only joins a name to its type, as in `encoder text: bert`)"),
  MSA1021: m('error', 'invalid escape {escape} in a string', 'use \\" \\\\ \\n \\t \\r \\uXXXX, or write the character itself'),
  MSA1022: m('error', "'{word}' starts a declaration here, so it cannot be a key", 'write the key in quotes ("{word}"), or declare one: `{word} NAME ...` (see docs/dsl.md)'),
  MSA1023: m('error', 'strings are written in double quotes, not {text}'),
  // 1040+: reading any spec or manifest file, whatever its front end.
  MSA1040: m('error', 'invalid UTF-8 at byte offset {offset} (byte {byte})', 'save the file as UTF-8'),
  MSA1041: m('error', 'the file is {size}, more than the {max} a spec or dataset manifest may have (its longest line, line {line}, has {length} characters)', 'a pipeline spec is a few kilobytes: this is not a spec, or data was pasted into it'),

  // ---- 2xxx: schema ----------------------------------------------------------------------
  MSA2001: m('error', "unknown key '{key}' in {where}"),
  MSA2002: m('error', "missing required key '{key}' in {where}"),
  MSA2003: m('error', '{where} must be {expected}, got {actual}'),
  MSA2004: m('error', "unknown {kind} type '{type}'"),
  MSA2005: m('error', '{where} must be {constraint}, got {value}'),
  MSA2006: m('error', '{where} must be one of {allowed}, got {value}'),
  MSA2007: m('error', '{where} must match {pattern}, got {value}'),
  MSA2008: m('error', '{where}: {detail}'),
  MSA2009: m('error', 'unsupported spec version {version}', 'this mmsa reads spec version 1; set `version: 1`'),
  MSA2010: m('error', '{where} has a duplicate item {value}'),
  MSA2011: m('error', '{where} must have {constraint}, got {count}'),
  // normalize (phase 3): extends, interpolation, datasets
  MSA2101: m('error', "cannot find '{target}' named by extends", 'give a path relative to this file or a preset name ({presets})'),
  MSA2102: m('error', 'circular extends: {cycle}', 'remove one of the extends links'),
  MSA2103: m('error', "environment variable '{name}' is not set and has no default", 'set it, or write ${{name}:-default}'),
  MSA2104: m('error', 'bad interpolation {text}: {detail}', 'write ${NAME} or ${NAME:-default}; a literal $ is written $$'),
  MSA2105: m('error', "unknown dataset '{name}'", 'known datasets: {known}; or give `path:` to a feature file with a key mapping'),
  MSA2107: m('error', "dataset '{dataset}' has no feature file '{file}'", 'available: {available}'),
  MSA2108: m('warning', "'{key}' changes type in extends ({from} in the base, {to} here): the value here replaces the base"),
  MSA2109: m('error', 'extends chain longer than {max} files: {chain}', 'a spec extends a preset that extends a base; flatten the chain'),
  MSA2110: m('error', "'{name}' is not a dataset name: names are letters, digits, '_' and '-' (the manifest pipelines/datasets/<name>.dataset.yaml)", 'for a manifest elsewhere, give the feature file and its manifest: `dataset: {path: FEATURES.pkl, manifest: ./NAME.dataset.yaml}`'),
  MSA2111: m('error', "dataset.manifest must name a dataset manifest (a file ending in .dataset.yaml), got '{path}'", 'point it at the NAME.dataset.yaml file that describes the feature file'),
  MSA2112: m('error', "no tuning preset '{preset}' for this pipeline: {detail}", 'tuning presets exist for pipelines that extend one of: {models}; or write `tune.space` yourself'),

  // ---- 3xxx: semantic rules --------------------------------------------------------------
  MSA3001: m('error', "{what} '{name}' is not declared"),
  MSA3002: m('error', "modality '{name}' has no encoder", 'add `encoders.{name}` or remove the modality'),
  MSA3003: m('error', "encoder '{name}' reads modality '{modality}', which is not declared"),
  MSA3004: m('error', "fusion '{type}' expects {expected} inputs, got {got}"),
  MSA3005: m('error', "fusion '{type}' needs {needed} inputs; '{input}' gives {actual}"),
  MSA3006: m('error', "'{type}' over sequences needs aligned modalities, but '{input}' is unaligned", 'use the aligned feature file of the dataset, or add `align: avg_pool` to the modality'),
  MSA3007: m('error', "ulgm names modality '{modality}' but no head for it", 'map every modality to a unimodal regression head under `heads:`'),
  MSA3008: m('error', "ulgm's fusion head '{head}' {problem}"),
  MSA3009: m('error', "parameter '{param}' is selected by parameter groups '{a}' and '{b}'", 'each parameter must belong to exactly one group; narrow one of the selectors'),
  MSA3010: m('error', "parameter '{param}' is in no parameter group", "add a group for it, or a last group with `params: ['*']`"),
  MSA3011: m('error', "parameter group selector '{selector}' matches no parameter"),
  MSA3012: m('error', '{what} reads the test split', 'model selection and early stopping must use the validation split; the test split is evaluated once, after training'),
  MSA3013: m('error', 'seed {seed} appears more than once', 'seeds must be unique; repeated seeds give identical runs'),
  MSA3014: m('error', 'seed {seed} is out of range', 'seeds are integers from 0 to 4294967295'),
  MSA3015: m('error', "task '{task}' trains on label '{label}', which dataset '{dataset}' does not provide", 'labels available: {available}'),
  MSA3016: m('warning', "modality '{name}' is declared but no fusion or head reads it"),
  MSA3017: m('warning', "head '{name}' has no task, so it is never trained"),
  MSA3018: m('error', "encoder '{name}' packs sequences by length, but modality '{modality}' has no lengths", 'set `lengths:` on the modality, or `packed: false` on the encoder'),
  MSA3019: m('error', "dataset '{dataset}' has no feature '{key}'", 'features available: {available}'),
  MSA3020: m('error', "task '{task}' ({type}) needs a {needed} head, but '{head}' is {actual}"),
  MSA3021: m('warning', "metric set '{set}' is meant for {meant}, but the dataset's labels are {actual}"),
  MSA3022: m('error', "'{name}' names both {a} and {b}", 'node names must be unique across modalities, encoders, fusion and heads'),
  MSA3023: m('error', "{what} '{name}' reads '{input}', which would make a cycle"),
  MSA3025: m('error', "eval metric '{metric}' does not fit head '{head}' ({kind})"),
  MSA3026: m('error', "{what} metric '{metric}' is not computed", 'use `loss` or one of: {available}'),
  MSA3027: m('error', "BERT encoder '{name}' needs token ids, but feature '{key}' holds {actual}", "read `text_bert` (ids, mask, segments) for BERT, or use `precomputed` for `text` features"),
  MSA3028: m('error', "head '{head}' outputs {out} classes, but dataset '{dataset}' has {needed}", 'set `num_classes: {needed}` on the head'),
  MSA3029: m('error', "unknown metric '{name}'"),
  MSA3030: m('error', 'trials may not be scored on the test split', 'set `tune.objective.split: valid`: the test split is evaluated once, for the chosen setting, after the search'),
  MSA3031: m('error', 'trials scored on the training split measure fit, not generalisation', 'set `tune.objective.split: valid`'),
  MSA3032: m('error', 'tune.space.{name}: {detail}'),
  MSA3033: m('error', "cannot tune '{path}': {detail}", '{fix}'),
  MSA3034: m('error', "tune.space.{name}: {value} is not a valid value of {path}: {detail}"),
  MSA3035: m('error', "grid search cannot enumerate tune.space.{name} ({kind} range)", 'give the values as `choice: [...]` or an `int` range, or use strategy random or tpe'),
  MSA3036: m('error', "model selection reads the {split} split, but trials are scored on validation at the selected epoch", 'set `train.select.split: valid` for tuning'),
  MSA3037: m('error', 'the search has no budget', 'set `tune.budget.trials` and/or `tune.budget.minutes` (grid search alone stops when the grid is done)'),
  MSA3038: m('error', "metrics '{a}' and '{b}' both report the key '{key}'", 'keep only one of them'),
  MSA3039: m('error', "{what} '{name}' is in stages '{a}' and '{b}'", 'each belongs to exactly one stage'),
  MSA3040: m('error', "{what} '{name}' is in no stage, so it is never {never}"),
  MSA3041: m('error', "stages '{a}' and '{b}' both leave out `{part}`", 'only one stage may take what the others do not name; list them in the others'),
  MSA3042: m('error', 'train.scheduler is not used with train.stages', "move the scheduler into the stage it drives (`stages: [{name: ..., scheduler: {...}}]`)"),
  MSA3043: m('error', "stage name '{name}' is used twice", 'give every stage its own name'),
  MSA3044: m(
    'error',
    "train.micro_batches: {count} splits every batch into chunks, but {what} '{name}' ({type}) couples the samples of a batch: {why}, so the chunks' gradients would not add up to the batch's",
    "remove train.micro_batches or set it to 1 (auto never splits such a pipeline); to use less memory, set a smaller train.batch_size with train.grad_accum_steps (not the same optimizer step)",
  ),
  // 3050+: Self-MM's ULGM against the dataset's labels.
  MSA3050: m('error', "ulgm task '{task}' does not apply here: {why}", 'ULGM generates regression labels on a label scale; train a classification head with cross_entropy alone, or use regression labels (dataset task: regression with a label_range)'),
  MSA3051: m('error', "ulgm task '{task}': label range {problem}"),
  MSA3052: m('error', "modality '{name}' drops tokens or frames (missing:), but {detail}", "MMSA masks the padded token rows or frames as stored: read a token or sequence feature without time_mean, seq_len or avg_pool (mask a separate modality of the same feature)"),
  MSA3053: m('error', "train.shuffle_rng 'torch' continues torch's stream after parameter initialisation, but the initial weights do not come from that stream", "add train.init_rng: torch (or remove train.shuffle_rng)"),
  MSA3054: m('warning', "train.shuffle_rng 'torch': torch's dropout draws from the same stream as the loaders when p > 0 ({keys}), so only the first epoch's training order is MMSA's; later orders are torch-like draws that MMSA's run does not make", "set every dropout to 0 for MMSA's exact orders, or accept orders that differ after the first epoch"),
  MSA3055: m('warning', "train.shuffle_rng 'torch' with shuffle_eval false: MMSA's valid and test loaders draw from torch's stream in every epoch and these do not, so only the first epoch's training order is MMSA's", "remove shuffle_eval: false for MMSA's exact orders"),

  // ---- 4xxx: shapes --------------------------------------------------------------------
  MSA4001: m('error', "'{node}' is declared to read {declared} features, but '{input}' gives {actual}"),
  MSA4002: m('error', "'{node}' ({type}) expects {expected} input, but '{input}' is {actual}"),
  MSA4003: m('error', "'{node}' needs inputs of equal length, but {a} has {la} steps and {b} has {lb}", "align them (`align: avg_pool` on the modality) or use a vector fusion"),
  MSA4004: m('error', "'{node}': {detail}"),
  MSA4005: m('warning', "'{node}' builds a {size}-feature tensor", 'tensor fusion grows as the product of its input dims; smaller encoder outputs keep it tractable'),
  MSA4007: m('error', "'{node}' reads {len} tokens, more than the model's {max} positions"),
  MSA4008: m('error', "head '{node}' has no layers of its own, so its input must have {out} features, got {actual}"),

  // ---- 5xxx: lowering ------------------------------------------------------------------
  MSA5001: m('error', "component '{type}' cannot be lowered: {detail}"),
  MSA5003: m('error', "train.init_rng 'torch' cannot initialise '{param}': {detail}", "remove train.init_rng (or set it to 'mmsa') for this pipeline"),

  // ---- 6xxx: runtime checks before training (most 6xxx errors carry their text where they are raised) ----------
  MSA6901: m(
    'error',
    "'{node}' does not fit the tensor backend: a training step at batch size {batch} needs a heap of about {need} ({weights} weights, {gradients} gradients, {activations} activations, and room between them), the wasm heap holds {limit}",
    'change the run before it starts',
  ),
  MSA6902: m(
    'error',
    "'{node}' does not fit this machine's memory: the run needs about {need} ({host} outside the tensor backend), {limit} are available",
    'free memory, or change the run',
  ),
} as const satisfies Record<string, MessageEntry>;

export type MessageCode = keyof typeof MESSAGES;

export function isMessageCode(code: string): code is MessageCode {
  return Object.prototype.hasOwnProperty.call(MESSAGES, code);
}

/** A runtime or data error: what the code means (the message itself is written where it is thrown, with the facts). */
export interface RuntimeCodeEntry {
  meaning: string;
}

function r(meaning: string): RuntimeCodeEntry {
  return { meaning };
}

/** Codes of MmsaError (runtime, data, weights, reports), one meaning each. */
export const RUNTIME_CODES = {
  // ---- 5xxx: lowering, internal ----------------------------------------------------------
  MSA5002: r('internal: the IR and its lowering disagree (a bug; please report it with the pipeline)'),

  // ---- 60xx: feature files (the pickle reader 6001-6019, datasets 6020-6039) -------------
  MSA6001: r('a pickle file cannot be opened or read'),
  MSA6002: r('a pickle is truncated: a length or opcode runs past the end, or STOP is missing'),
  MSA6003: r('a pickle uses an unknown or unsupported opcode'),
  MSA6004: r('a pickle uses an unsupported protocol'),
  MSA6005: r('a pickle names a global outside the allow-list (reading never executes code)'),
  MSA6006: r('a pickle is corrupt: stack underflow, missing MARK or wrong operand types'),
  MSA6007: r('a pickle reads a memo entry it never stored'),
  MSA6008: r('a pickle holds invalid text (bad UTF-8, or latin-1 above 255)'),
  MSA6009: r('bad arguments to an allowed callable or to the reader'),
  MSA6010: r('a numpy dtype the reader does not support'),
  MSA6011: r("an array payload's length does not match its shape and item size"),
  MSA6012: r('an array too large for this runtime'),
  MSA6013: r('out-of-band pickle buffers are not supported'),
  MSA6014: r('a numpy array without its BUILD state'),
  MSA6015: r('an integer too large to read'),
  MSA6016: r('a value the pickle writer cannot write (dtype, shape and data disagree)'),
  MSA6017: r("a pickle's output budget is exceeded: it unpacks to more than its size can honestly hold"),
  MSA6018: r('a pickle nests deeper than the depth budget'),
  MSA6020: r('a feature file is not where the dataset says'),
  MSA6021: r("a feature's shape or a split's size differs from what the pipeline was compiled for"),
  MSA6022: r('a file is not an MMSA feature file (train/valid/test dicts of arrays)'),
  MSA6023: r('a split lacks a key the pipeline reads'),
  MSA6024: r('a key holds the wrong kind of value (not a numeric array / list of strings)'),
  MSA6025: r('a feature or label holds NaN or infinity'),
  MSA6026: r('bad settings of a synthetic dataset'),
  MSA6027: r('a split has no samples'),
  MSA6028: r('a sequence length is fractional, negative or longer than its time axis'),
  MSA6029: r("internal: a modality's preprocessing does not fit its IR type"),
  MSA6030: r('a file cannot be read to hash it'),
  MSA6031: r('a data file given on the command line cannot be read'),
  MSA6032: r('a dataset manifest cannot be found or read'),
  MSA6040: r('a samples table (CSV, JSON, JSON Lines) for `mmsa data build` has a bad row, column or cell'),
  MSA6041: r('a feature file named by a samples table is missing or of an unknown type'),
  MSA6042: r('a per-sample feature file (.npy, CSV) is damaged or holds no numeric frames'),
  MSA6043: r("a sample's feature dims differ from the first sample's of that modality"),
  MSA6044: r('a per-sample feature file holds NaN or infinite values'),
  MSA6045: r('a label is outside the given label range'),
  MSA6046: r('a bad `mmsa data build` options file or option'),
  MSA6047: r('the output of `mmsa data build` or `mmsa data synth` exists (use --force)'),
  MSA6050: r('normalize: standard has no training-split statistics that fit the data'),

  // ---- 65xx: backends and native kernels -------------------------------------------------
  MSA6501: r('a backend package is missing or did not initialise'),
  MSA6502: r('a tfjs backend failed to initialise'),
  MSA6503: r('the native kernels were required but are unavailable'),
  MSA6504: r('an unknown tensor backend was asked for'),
  MSA6510: r('a native kernel got arguments it cannot use (a bug)'),

  // ---- 66xx: metrics and task state -----------------------------------------------------
  MSA6601: r('an unknown metric or metric set'),
  MSA6602: r('predictions and labels do not fit each other'),
  MSA6603: r('two metrics report the same key'),
  MSA6604: r('seed results cannot be aggregated'),
  MSA6611: r('bad settings of ULGM label banks'),
  MSA6612: r('bad sample indexes or labels for ULGM'),
  MSA6613: r('a ULGM snapshot does not fit this run'),
  MSA6614: r('features for ULGM are missing or of the wrong size'),

  // ---- 67xx: running a pipeline, run directories, reports ---------------------------------
  MSA6701: r("a batch lacks a modality's features or lengths, or they do not fit the compiled pipeline"),
  MSA6702: r('the model does not output a head or a named output a task reads'),
  MSA6703: r('a task reads a label the data does not have (or of the wrong size)'),
  MSA6704: r("a task's state is sized for another training split"),
  MSA6705: r('the model has no head to evaluate'),
  MSA6706: r('the dataset has no labels to evaluate against'),
  MSA6707: r('the training loss became NaN or infinite'),
  MSA6708: r('model selection reads a split it may not (the test split, or an unknown one)'),
  MSA6710: r('a directory is not a run directory'),
  MSA6711: r("a run's checkpoint is missing, unreadable or does not fit its model"),
  MSA6712: r('a classification label is not a class index'),
  MSA6713: r('a selection, early-stopping or scheduler metric is not among the evaluation results'),
  MSA6714: r('a robustness condition names an unknown modality or a rate out of range'),
  MSA6715: r('Gaussian noise asked for on BERT token ids'),
  MSA6716: r("a run's robustness.json is damaged"),
  MSA6720: r('nothing to compare: no run directory matches, or none is completed'),
  MSA6721: r('a metric to sort by is not in the runs'),
  MSA6722: r('a plot cannot be drawn for a run'),
  MSA6723: r('a starter pipeline template is missing from the package'),
  MSA6724: r('an output file exists (use --force)'),
  MSA6725: r('`mmsa init --dataset FILE` cannot make a starter for that file and model'),
  MSA6740: r('no space left on the device for an output'),
  MSA6741: r('an output cannot be written (read-only file system, permission)'),
  MSA6742: r('a run did not finish (it died, is still training, or failed) where a finished one is needed'),
  MSA6743: r('the run directory is being trained by another process right now'),
  MSA6744: r('a run was stopped while in progress (process exit or signal)'),
  MSA6750: r("a job's spec does not compile on the worker"),
  MSA6751: r('a worker computes another spec hash for a job'),
  MSA6752: r('a worker process exited during a run'),
  MSA6760: r('a queue address is not a redis:// URL'),
  MSA6761: r('a job failed on the queue after its retries, or a worker refused it'),
  MSA6799: r('an unexpected error while running (a bug; the message says what failed)'),

  // ---- 68xx: pretrained models, weights, tokenizers ---------------------------------------
  MSA6801: r('a model directory or cache entry is missing'),
  MSA6802: r('downloading a model from the hub failed'),
  MSA6803: r("a model's config is unreadable or invalid"),
  MSA6804: r("a model's weights file is missing or unreadable"),
  MSA6805: r('a safetensors file is malformed'),
  MSA6806: r('a torch checkpoint is malformed or holds more than tensors'),
  MSA6807: r('two tensors of a checkpoint map to the same parameter'),
  MSA6808: r("a checkpoint tensor's shape does not fit the model"),
  MSA6809: r('a tensor dtype that is not supported'),
  MSA6810: r("a tokenizer's files are missing or invalid"),
  MSA6811: r('bad inputs to BERT or its tokenizer'),
  MSA6812: r('a checkpoint zip is malformed or hostile (overlapping or repeated entries, an entry inflating past its size)'),
  MSA6820: r('the hub sent something that cannot be trusted (an invalid name, a path outside the cache, a moving commit)'),
  MSA6821: r('a download does not match what the hub announced (nothing was cached)'),
  MSA6830: r('a checkpoint does not match the pipeline (missing, unexpected or mis-shaped tensors)'),
  MSA6831: r("an imported run's directory exists (use --force)"),
} as const satisfies Record<string, RuntimeCodeEntry>;

export type RuntimeCode = keyof typeof RUNTIME_CODES;

/** Every code mmsa reports. */
export type ErrorCode = MessageCode | RuntimeCode;

export function isErrorCode(code: string): code is ErrorCode {
  return isMessageCode(code) || Object.prototype.hasOwnProperty.call(RUNTIME_CODES, code);
}

/** What a code means: its message template (diagnostics) or its meaning (runtime errors). */
export function codeMeaning(code: ErrorCode): string {
  return isMessageCode(code) ? MESSAGES[code].message : RUNTIME_CODES[code as RuntimeCode].meaning;
}
