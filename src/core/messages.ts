// The catalog of every diagnostic code with its severity, message template and default fix hint.
// All phases (syntax 1xxx, schema/normalize 2xxx, semantic 3xxx, shape 4xxx, lowering 5xxx) draw from here.

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
  MSA1010: m('error', 'syntax error: expected {expected}, found {found}'),
  MSA1011: m('error', 'unterminated string', 'close the string with a matching quote'),
  MSA1012: m('error', "unexpected character '{char}'"),
  MSA1013: m('error', 'unexpected end of file: expected {expected}'),
  MSA1014: m('error', 'invalid number {text}'),
  MSA1015: m('error', 'unknown file type: {path}', 'pipeline specs end in .yaml, .yml or .mmsa'),
  // DSL-specific codes (issue 3) are added here from MSA1020 on.
  MSA1020: m('error', "unexpected ':' after '{key}'", "write `key value` without ':' (a ':' only joins a name to its type, as in `encoder text: bert`)"),
  MSA1021: m('error', 'invalid escape {escape} in a string', 'use \\" \\\\ \\n \\t \\r \\uXXXX, or write the character itself'),
  MSA1022: m('error', "'{word}' starts a declaration here, so it cannot be a key", 'write the key in quotes ("{word}"), or declare one: `{word} NAME ...` (see docs/dsl.md)'),
  MSA1023: m('error', 'strings are written in double quotes, not {text}'),

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
  MSA3028: m('error', "head '{head}' outputs {out} classes, but dataset '{dataset}' has {needed}", 'set `num_classes: {needed}` on the head'),
  MSA3029: m('error', "unknown metric '{name}'"),
  MSA3030: m('error', "metrics '{a}' and '{b}' both report the key '{key}'", 'keep only one of them'),
  MSA3027: m('error', "BERT encoder '{name}' needs token ids, but feature '{key}' holds {actual}", "read `text_bert` (ids, mask, segments) for BERT, or use `precomputed` for `text` features"),

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
} as const satisfies Record<string, MessageEntry>;

export type MessageCode = keyof typeof MESSAGES;

export function isMessageCode(code: string): code is MessageCode {
  return Object.prototype.hasOwnProperty.call(MESSAGES, code);
}
