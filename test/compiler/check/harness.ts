// Test harness for semantic rules: builds a RuleContext from a short YAML spec (normalized as phase 3 does) and a
// dataset, runs rules, and renders diagnostics with line:col positions so tests can assert exact places.

import { makeDiagnostic, type Diagnostic } from '../../../src/compiler/diagnostics/diagnostic.js';
import type { Rule, RuleContext } from '../../../src/compiler/check/rule.js';
import type { ResolvedDataset } from '../../../src/compiler/ir/types.js';
import { SourceFile, type Span } from '../../../src/compiler/source/source-file.js';
import { fillDefaults } from '../../../src/compiler/spec/fill-defaults.js';
import { applySemanticDefaults } from '../../../src/compiler/spec/normalize-spec.js';
import { spanAt, toValue, type SpecNode } from '../../../src/compiler/spec/spec-tree.js';
import type { PipelineSpec } from '../../../src/compiler/spec/types.generated.js';
import { parseYaml } from '../../../src/compiler/syntax/yaml/parse-yaml.js';

const FILE = 'pipeline.yaml';

/** Phase 3 as the compiler runs it: schema defaults, then the dataset-dependent defaults. */
function normalize(tree0: SpecNode, dataset: ResolvedDataset | undefined): SpecNode {
  return applySemanticDefaults(fillDefaults(tree0).tree, dataset, FILE, []);
}

/** A MOSI-like unaligned feature file: float text/audio/vision sequences, BERT token ids, audio/vision lengths. */
export function mosiDataset(overrides: Partial<ResolvedDataset> = {}): ResolvedDataset {
  return {
    name: 'mosi',
    source: 'manifest',
    file: 'unaligned_50',
    aligned: false,
    splits: { train: 1284, valid: 229, test: 686 },
    features: {
      text: { key: 'text', shape: [50, 768], dtype: 'float' },
      text_bert: { key: 'text_bert', shape: [3, 50], dtype: 'int' },
      audio: { key: 'audio', shape: [375, 5], dtype: 'float', lengths: 'audio_lengths' },
      vision: { key: 'vision', shape: [500, 20], dtype: 'float', lengths: 'vision_lengths' },
    },
    labels: { M: 'regression_labels' },
    task: 'regression',
    labelRange: [-3, 3],
    metrics: 'mosi',
    span: { file: 'mosi.dataset.yaml', start: 0, end: 0 },
    ...overrides,
  };
}

export interface TestContext extends RuleContext {
  file: SourceFile;
  diagnostics: Diagnostic[];
}

/**
 * A RuleContext over a YAML spec. `dataset` is merged over a MOSI-like dataset; pass `null` for "dataset could not be
 * resolved".
 */
export function ruleContextFromYaml(yaml: string, dataset?: Partial<ResolvedDataset> | null): TestContext {
  const file = new SourceFile(FILE, yaml);
  const parsed = parseYaml(file);
  if (!parsed.tree) throw new Error(`test spec does not parse: ${parsed.diagnostics.map((d) => d.message).join('; ')}`);
  const ds = dataset === null ? undefined : mosiDataset(dataset);
  const tree = normalize(parsed.tree, ds);
  const spec = toValue(tree) as unknown as PipelineSpec;
  const diagnostics: Diagnostic[] = [];
  return {
    spec,
    tree,
    dataset: ds,
    spanOf: (path, opts) => spanAt(tree, path, opts),
    report: (code, span, args, extras) => {
      diagnostics.push(makeDiagnostic(code, span, args, extras));
    },
    file,
    diagnostics,
  };
}

export interface ShownDiagnostic {
  code: string;
  severity: string;
  message: string;
  /** `line:col` of the span start. */
  at: string;
  /** The text the span covers. */
  text: string;
  hint?: string;
  related: { message: string; at: string; text: string }[];
}

function at(file: SourceFile, span: Span): string {
  const p = file.positionAt(span.start);
  return `${p.line}:${p.column}`;
}

export function show(file: SourceFile, d: Diagnostic): ShownDiagnostic {
  const out: ShownDiagnostic = {
    code: d.code,
    severity: d.severity,
    message: d.message,
    at: at(file, d.span),
    text: file.text.slice(d.span.start, d.span.end),
    related: (d.related ?? []).map((r) => ({ message: r.message, at: at(file, r.span), text: file.text.slice(r.span.start, r.span.end) })),
  };
  if (d.hint !== undefined) out.hint = d.hint;
  return out;
}

/** Runs one rule over a YAML spec and returns its diagnostics with positions. */
export function runRule(rule: Rule, yaml: string, dataset?: Partial<ResolvedDataset> | null): ShownDiagnostic[] {
  const ctx = ruleContextFromYaml(yaml, dataset);
  rule.check(ctx);
  return ctx.diagnostics.map((d) => show(ctx.file, d));
}

/** Strips the common indentation of a template literal so specs can be written inline. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  let text = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  text = text.replace(/^\n/, '');
  const lines = text.split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** A small valid spec most rule tests start from: three modalities, LSTM/precomputed encoders, late fusion. */
export const BASE = yaml`
  version: 1
  dataset: mosi
  modalities:
    text: {feature: text}
    audio: {feature: audio}
    vision: {feature: vision}
  encoders:
    text: {type: precomputed}
    audio: {type: lstm, hidden: 16}
    vision: {type: lstm, hidden: 16}
  fusion:
    type: late
    inputs: [text, audio, vision]
  heads:
    M: {type: regression, input: fusion, hidden: [32]}
  tasks:
    main: {type: l1, head: M}
`;
