// Command-line overrides, `--set train.batch_size=32`: each becomes a spanned tree merged over the spec after the
// extends merge (maps merge key by key, lists and scalars replace), so the schema pass type-checks it like any spec
// value and its diagnostics point into a "command line" source that shows the --set argument. Phase 3 (normalize).

import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import { SourceFile, type SourceHost, type Span } from '../source/source-file.js';
import { parseYaml } from '../syntax/yaml/parse-yaml.js';
import { mergeTrees } from './extends.js';
import type { SpecMap, SpecNode } from './spec-tree.js';

/** The name diagnostics print for the overrides' source (each line of it reads `--set KEY=VALUE`). */
export const COMMAND_LINE_FILE = 'command line';
const PREFIX = '--set ';

export interface ParsedOverride {
  /** `train.batch_size` as ['train', 'batch_size']. */
  path: string[];
  /** The text after '=' (YAML: `32`, `true`, `[1111, 1112]`, `{lr: 0.01}`, `sims`). */
  value: string;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Checks one `--set` argument's shape; the value's type is the schema pass's business. */
export function parseOverride(arg: string): ParsedOverride | Error {
  const eq = arg.indexOf('=');
  if (eq <= 0) return new Error(`--set expects KEY=VALUE with a dotted key path (e.g. train.batch_size=32), got '${arg}'`);
  const path = arg.slice(0, eq).split('.');
  const bad = path.find((seg) => !KEY.test(seg));
  if (bad !== undefined) return new Error(`--set '${arg}': '${bad}' is not a key (keys are names like train, batch_size; lists are replaced whole, e.g. seeds=[1111,1112])`);
  return { path, value: arg.slice(eq + 1) };
}

/**
 * Merges every override over `tree` in order (a later --set wins). Registers the "command line" source in `host`;
 * syntax errors in a value (MSA1001) and the merge's type-change warnings go to `bag`. Malformed arguments throw:
 * callers check them first with parseOverride.
 */
export function applyOverrides(tree: SpecNode, args: readonly string[], host: SourceHost, bag: DiagnosticBag): SpecNode {
  if (args.length === 0) return tree;
  const lines = args.map((a) => `${PREFIX}${a}`);
  const text = `${lines.join('\n')}\n`;
  host.add(new SourceFile(COMMAND_LINE_FILE, text));
  let out = tree;
  let lineStart = 0;
  for (const [i, arg] of args.entries()) {
    const parsed = parseOverride(arg);
    if (parsed instanceof Error) throw parsed;
    const keyStart = lineStart + PREFIX.length;
    const valueStart = keyStart + arg.indexOf('=') + 1;
    const valueEnd = lineStart + lines[i]!.length;
    const value = parseValue(text, valueStart, valueEnd, bag);
    lineStart = valueEnd + 1;
    if (!value) continue;
    // Key spans: each segment of the dotted path, counted back from the '='.
    const keySpans: Span[] = [];
    let segEnd = valueStart - 1;
    for (let k = parsed.path.length - 1; k >= 0; k--) {
      keySpans[k] = { file: COMMAND_LINE_FILE, start: segEnd - parsed.path[k]!.length, end: segEnd };
      segEnd -= parsed.path[k]!.length + 1;
    }
    out = setAt(out, parsed.path, keySpans, value, valueEnd, bag);
  }
  return out;
}

/**
 * `node` with `value` merged in at `path`. Maps on the way keep their own spans (a missing key of `train` is still
 * reported in the spec); maps the path creates span their key in the argument.
 */
function setAt(node: SpecNode, path: string[], keySpans: Span[], value: SpecNode, valueEnd: number, bag: DiagnosticBag, depth = 0): SpecNode {
  // A mapping merges into a mapping as in extends; anything else replaces what was there (no warning: it was asked).
  if (depth === path.length) return node.kind === 'map' && value.kind === 'map' ? mergeTrees(node, value, bag, path.join('.')) : value;
  const key = path[depth]!;
  const map: SpecMap = node.kind === 'map' ? node : { kind: 'map', span: { ...keySpans[depth - 1]!, end: valueEnd }, entries: [] };
  const i = map.entries.findIndex((e) => e.key === key);
  const empty: SpecNode = { kind: 'map', span: { ...keySpans[depth]!, end: valueEnd }, entries: [] };
  const child = i >= 0 ? map.entries[i]!.value : depth === path.length - 1 ? undefined : empty;
  const next = child === undefined ? value : setAt(child, path, keySpans, value, valueEnd, bag, depth + 1);
  const entry = { key, keySpan: keySpans[depth]!, value: next };
  return { ...map, entries: i >= 0 ? map.entries.map((e, j) => (j === i ? entry : e)) : [...map.entries, entry] };
}

/** Parses the value as YAML in place: every other character of the source is blanked, so spans stay true. */
function parseValue(text: string, start: number, end: number, bag: DiagnosticBag): SpecNode | undefined {
  if (text.slice(start, end).trim() === '') return { kind: 'scalar', span: { file: COMMAND_LINE_FILE, start, end: start }, value: null };
  const masked = text.replace(/[^\n]/g, ' ');
  const only = `${masked.slice(0, start)}${text.slice(start, end)}${masked.slice(end)}`;
  const r = parseYaml(new SourceFile(COMMAND_LINE_FILE, only));
  // An error found at the end of input ("must end with a ]") belongs to this argument, not to the blanked rest.
  bag.push(...r.diagnostics.map((d) => (d.span.start >= end ? { ...d, span: { ...d.span, start: Math.max(start, end - 1), end } } : d)));
  return r.tree;
}
