// defineComponent: what an encoder, fusion, head or task type is, declared once in its folder's define.ts (no tfjs):
// schema, shape rule, parameter names, what it reads and publishes, what it needs, its own checks and rewrites.
// Generic passes (phases 2-5, run) ask these hooks and never test a type name.

import type { MessageCode } from '../core/messages.js';
import type { DiagnosticExtras } from '../compiler/diagnostics/diagnostic.js';
import type { RuleContext } from '../compiler/check/rule.js';
import type { Span } from '../compiler/source/source-file.js';
import type { Ir, IrNode, ParamDecl, ResolvedDataset, ScheduleHook, TensorType } from '../compiler/ir/types.js';
import type { SpecPath } from '../compiler/spec/spec-tree.js';
import type { Modality } from '../compiler/spec/types.generated.js';

export type ComponentKind = 'encoder' | 'fusion' | 'head' | 'task';

/** Spec section (and component folder) of each kind. */
/** The spec's keyed sections of components; the fusion is the single entry `fusion:` (or null). */
const KEYED_SECTIONS = { encoder: 'encoders', head: 'heads', task: 'tasks' } as const;

/**
 * Every component entry a spec (or a run's locked spec) writes, with its kind, its key (`fusion` for the fusion) and
 * its path in the spec, in the order encoders, heads, tasks, fusion. Entries that are not mappings are left out.
 */
export function componentEntries(specValue: object): { kind: ComponentKind; key: string; entry: Record<string, unknown>; path: string[] }[] {
  const spec = specValue as Readonly<Record<string, unknown>>;
  const isEntry = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const keyed = (kind: keyof typeof KEYED_SECTIONS) => {
    const section = spec[KEYED_SECTIONS[kind]];
    if (!isEntry(section)) return [];
    return Object.entries(section).flatMap(([key, entry]) => (isEntry(entry) ? [{ kind, key, entry, path: [KEYED_SECTIONS[kind], key] }] : []));
  };
  const fusion = spec['fusion'];
  return [...keyed('encoder'), ...keyed('head'), ...keyed('task'), ...(isEntry(fusion) ? [{ kind: 'fusion' as const, key: 'fusion', entry: fusion, path: ['fusion'] }] : [])];
}

/** What a head predicts, and what a task's loss or a metric needs. */
export type Prediction = 'regression' | 'classification';

export interface ShapeInput {
  /** Node id of the input (`encoders.text`, `modalities.audio`, `fusion`). */
  id: string;
  /** The name the spec used for it (a named output keeps its `:name`). */
  name: string;
  type: TensorType;
  /** Span of the reference in the spec (the input's list item / `input:` value). */
  span: Span;
}

export interface ShapeContext<P> {
  /** Node id being inferred (`encoders.audio`). */
  node: string;
  params: P;
  inputs: ShapeInput[];
  /** Span of a param of this component (falls back to the component's span). */
  spanOf(param: string, opts?: { key?: boolean }): Span;
  /** Whole component span. */
  span: Span;
  report(code: MessageCode, span: Span, args?: Record<string, unknown>, extras?: DiagnosticExtras): void;
}

export interface ShapeResult {
  output: TensorType;
  params: ParamDecl[];
  /** Named outputs other nodes and tasks read as `<node>:<name>` (a head's first hidden activation `hidden0`). */
  features?: Record<string, TensorType>;
}

/** A reference a component makes to another node, with the spec path (inside the component) that names it. */
export interface ComponentRef {
  name: string;
  path: SpecPath;
}

/** What a component's own semantic check sees (phase 4): the rule context, plus where the component sits. */
export interface ComponentCheckContext<P> extends RuleContext {
  /** The component's key in its section (`ulgm`, `audio`; `fusion` for the fusion). */
  key: string;
  params: P;
  /** Spec path of the component (`['tasks', 'ulgm']`). */
  path: SpecPath;
  /** The definition behind another spec entry, to ask it rather than test its type. */
  componentOf(kind: ComponentKind, entry: unknown): ComponentDef | undefined;
}

/** What an encoder's dataset-dependent defaults see (phase 3): the modality it reads and the dataset's facts. */
export interface DefaultsContext {
  modality: Modality | undefined;
  dataset: ResolvedDataset | undefined;
}

/** An IR rewrite a component asks for instead of its own shape rule (the frozen-BERT fast path). */
export interface Rewrite {
  /** The component type that stands in, with its normalized params. */
  type: string;
  params: Record<string, unknown>;
  /**
   * The dataset feature the stand-in reads instead, with its type: the modality's input node reads it, or, when other
   * nodes (or the stand-in's params, e.g. `mask_from`) still read the modality, a new input node beside it.
   */
  input?: { feature: string; type: TensorType; summary: string };
  /** The plan line of the node. */
  summary: string;
}

export interface RewriteContext<P> {
  params: P;
  dataset: ResolvedDataset;
  /** The modality the component reads (its input node is `modalities.<modality>`). */
  modality: string;
}

/** What a component's preparation fetched: the model, the revision asked for, where it came from, the commit. */
export interface PreparedModel {
  model: string;
  revision?: string;
  source: string;
  commit?: string;
}

export interface ComponentExample {
  label: string;
  params: Record<string, unknown>;
  inputs: Array<[string, TensorType]>;
}

export interface ComponentDef<P = any> {
  kind: ComponentKind;
  type: string;
  /** Schema file under schemas/, e.g. `components/encoders/lstm.schema.json`. */
  schema: string;
  /** One sentence for docs and `mmsa schema`. */
  doc: string;
  /**
   * Encoders reading several nodes: their references (`inputs: [text, audio]`, `encoders.text:private`) with their
   * paths; without it (or when it returns undefined for these params) an encoder reads the one modality of its key
   * or `modality:`. `key` is the encoder's own key (BERT with a hook that reads other modalities reads its own too).
   */
  reads?(params: P, key: string): ComponentRef[] | undefined;
  /** How many inputs the node reads (fusions; encoders with `inputs:`). Default: exactly one. */
  arity?: { min: number; max: number };
  /** What input kinds the component accepts (encoders/fusions/heads). */
  accepts?: TensorType['kind'][];
  /** Needs all sequence inputs aligned to each other (early fusion). */
  needsAligned?: boolean;
  /** Encoders: what the output kind is where the parameters alone decide it (before shapes are known). */
  outputKind?(params: P): TensorType['kind'] | undefined;
  /** Encoders: how to make the output a `wanted` kind, for hints when a consumer needs another kind. */
  outputKindFix?(params: P, wanted: TensorType['kind']): string | undefined;
  /** Encoders: whether the encoder packs its sequence by true lengths (its modality must have lengths). */
  packsLengths?(params: P): boolean;
  /** Encoders that read token ids: the pretrained model (and revision) whose tokenizer makes them from raw text. */
  tokenizer?(params: P): { model: string; revision?: string } | undefined;
  /** Phase 3: defaults that depend on the modality read and the dataset (lstm: pack when there are lengths). */
  defaults?(params: P, ctx: DefaultsContext): Record<string, unknown>;
  /** Phase 5: params with paths resolved against the directory of the spec file that wrote them. */
  resolvePaths?(params: P, dirOf: (param: string) => string): P;
  /** Phase 5: a rewrite to another component when the data makes this one unnecessary. */
  rewrite?(ctx: RewriteContext<P>): Rewrite | undefined;
  /** Whether every parameter stays frozen (BERT with `finetune: false`): not counted as trainable. */
  frozen?(params: P): boolean;
  /** Named outputs the node publishes for these params, known before shapes (a head's `hidden0`). */
  namedOutputs?(params: P): string[];
  /** Heads: what the head predicts. */
  predicts?: Prediction;
  /** Heads: number of classes it outputs, when it outputs class scores. */
  numClasses?(params: P): number | undefined;
  /** Tasks: what kind of head the loss needs. */
  needsHead?: Prediction;
  /** Tasks: the head references with their paths inside the task (fusion head first for ULGM). */
  headRefs?(params: P): ComponentRef[];
  /** Tasks: node outputs read by reference (`inputs: [encoders.text:private]`), with their paths. */
  inputRefs?(params: P): ComponentRef[];
  /** Tasks: the head evaluation scores by default, when the task is supervised by the human label. */
  evalHead?(params: P): string | undefined;
  /** Tasks: labels the task reads. */
  taskTargets?(params: P): string[];
  /** Tasks: hooks the schedule runs (ULGM: init pass, per-step updates). */
  hooks?(params: P): ScheduleHook[];
  /** The component's own semantic rules (phase 4), for invariants only it knows. */
  check?(ctx: ComponentCheckContext<P>): void;
  /**
   * Before lowering (phase 7 start): asynchronous preparation, e.g. downloading pretrained weights; what it fetched is
   * recorded in the run's lock file.
   */
  prepare?(node: IrNode<P>): Promise<PreparedModel | undefined>;
  /** One-line description for `mmsa plan`: `lstm(hidden 16, packed) -> linear 16`. */
  summary(params: P): string;
  /**
   * Parameter names (local to the node) without needing shapes, so rules can check group coverage before phase 5.
   * Must agree with the names `infer` declares (a test checks on the examples).
   */
  paramNames?(params: P): string[];
  /** Shape rule: output type and parameter shapes from the input types; reports problems through ctx.report. */
  infer?(ctx: ShapeContext<P>): ShapeResult | undefined;
  /** Representative normalized params with input types, for the catalog-wide tests and docs. */
  examples?: ComponentExample[];
  /**
   * MMSA's names for this component's parameters, relative to the module a pipeline's `mmsa_modules` gives the node
   * (`mmsa import`): sub-module renames, local prefix -> MMSA's (the longest prefix wins; names not listed are MMSA's
   * too), and tensors MMSA's module holds that are no parameters here (skipped on import).
   */
  mmsaNames?: MmsaNames;
  /**
   * Local names of parameters MMSA's model holds outside its registered modules, so that no MMSA checkpoint has them
   * (Graph-MFN's node networks in a plain dict): `mmsa import` keeps their initial values unless the tensors are
   * given separately (`--extra-tensors`), and says so.
   */
  mmsaUnsaved?(params: P): string[];
  /**
   * The memory plan: what the node holds in a step and an evaluation batch, where a generic bound (16 floats per sample
   * for every input and output element) would be far off (BERT's layers).
   */
  stepMemory?(node: IrNode<P>, ctx: MemoryContext): NodeMemory;
  /** The spec change that freezes the node (`finetune: false`), which the memory plan suggests when it does not fit. */
  freezeWith?: string;
  /**
   * Why the component's training maths couples the samples of a batch (batch moments, BatchNorm, a loss normalised
   * over the batch), for these params; undefined when each sample's share of the loss depends on that sample alone.
   * Such a pipeline never splits its batches into micro-batches (`train.micro_batches`): the chunks would not add up
   * to the batch's gradient.
   */
  couplesBatch?(params: P): string | undefined;
}

/** What a layer keeps for its backward pass: everything ('keep') or its input only, recomputing the rest ('recompute'). */
export type ActivationMode = 'keep' | 'recompute';

/** Bytes one node holds during a training step and an evaluation batch (the memory plan adds them up before training). */
export interface NodeMemory {
  /** Held in the tensor backend until the step's backward pass ends. */
  saved: number;
  /** In the backend for a moment (one layer's scratch). */
  transient: number;
  /** In JS memory during a step. */
  host: number;
  /**
   * In the backend during an evaluation batch: what its forward leaves there until the batch's outputs are read (an
   * evaluation runs the whole forward in one tf.tidy scope, so the nodes' amounts add up).
   */
  eval: number;
}

export interface MemoryContext {
  ir: Ir;
  batch: number;
  mode: ActivationMode;
  /** The node's parameters are not trained (no gradients, no saved activations). */
  frozen: boolean;
}

export interface MmsaNames {
  rename?: Readonly<Record<string, string>>;
  /** Local names (or, when they depend on the params, a function of them) of MMSA tensors that are no parameters here. */
  ignore?: readonly string[] | ((params: any) => readonly string[]);
}

/**
 * The catalog's lookup, for definitions that wrap another component (window_pool's `encoder:`): the catalog sets it
 * when it loads, so a definition never imports the catalog, which imports every definition.
 */
let catalogLookup: ((kind: ComponentKind, type: string) => ComponentDef | undefined) | undefined;

export function setCatalogLookup(f: (kind: ComponentKind, type: string) => ComponentDef | undefined): void {
  catalogLookup = f;
}

export function lookupComponent(kind: ComponentKind, type: string): ComponentDef | undefined {
  return catalogLookup?.(kind, type);
}

export function defineComponent<P>(def: ComponentDef<P>): ComponentDef<P> {
  return def;
}

/** Tasks: every head the task reads, in order. */
export function taskHeads(def: ComponentDef, params: unknown): string[] {
  return def.headRefs ? def.headRefs(params).map((r) => r.name) : [];
}
