// Shared facts about the node graph a normalized spec declares (who reads what), for the semantic rules.
// Phase 4 (check): pure functions over PipelineSpec; they tolerate missing sections instead of throwing.

import type { RelatedInfo } from '../diagnostics/diagnostic.js';
import type { TensorType } from '../ir/types.js';
import type { Span } from '../source/source-file.js';
import { nodeAt, type SpecPath } from '../spec/spec-tree.js';
import type { Encoder, Fusion, Head, Modality, PipelineSpec, Task } from '../spec/types.generated.js';
import type { RuleContext } from './rule.js';
import { componentOf } from '../../components/catalog.js';

export const FUSION = 'fusion';

/** Entries of a keyed section; an absent or non-object section reads as empty. */
export function entriesOf<T>(obj: Record<string, T> | null | undefined): [string, T][] {
  if (obj === null || obj === undefined || typeof obj !== 'object' || Array.isArray(obj)) return [];
  return Object.entries(obj);
}

export function has(obj: object | null | undefined, key: string): boolean {
  return obj !== null && obj !== undefined && typeof obj === 'object' && Object.prototype.hasOwnProperty.call(obj, key);
}

export function modalities(spec: PipelineSpec): [string, Modality][] {
  return entriesOf(spec.modalities);
}
export function encoders(spec: PipelineSpec): [string, Encoder][] {
  return entriesOf(spec.encoders);
}
export function heads(spec: PipelineSpec): [string, Head][] {
  return entriesOf(spec.heads);
}
export function tasks(spec: PipelineSpec): [string, Task][] {
  return entriesOf(spec.tasks);
}

export function fusionOf(spec: PipelineSpec): Fusion | undefined {
  const f = spec.fusion;
  return f !== null && f !== undefined && typeof f === 'object' ? f : undefined;
}

/** The fusion's input names (strings only), with their index in `fusion.inputs`. */
export function fusionInputs(spec: PipelineSpec): { name: string; index: number }[] {
  const f = fusionOf(spec);
  if (!f || !Array.isArray(f.inputs)) return [];
  const out: { name: string; index: number }[] = [];
  f.inputs.forEach((name, index) => {
    if (typeof name === 'string') out.push({ name, index });
  });
  return out;
}

/** The modality an encoder reads: its `modality`, or by default the modality with the encoder's own key. */
export function encoderModality(key: string, enc: Encoder): string {
  const m = (enc as { modality?: unknown }).modality;
  return typeof m === 'string' ? m : key;
}

export function getEncoder(spec: PipelineSpec, name: string): Encoder | undefined {
  return has(spec.encoders, name) ? spec.encoders[name] : undefined;
}
export function getHead(spec: PipelineSpec, name: string): Head | undefined {
  return has(spec.heads, name) ? spec.heads[name] : undefined;
}
export function getModality(spec: PipelineSpec, name: string): Modality | undefined {
  return has(spec.modalities, name) ? spec.modalities[name] : undefined;
}

/** What a data reference (fusion input, head input, encoder or task `inputs`) names; `output` for `<node>:<name>`. */
export type NodeRef =
  | { kind: 'encoder'; name: string; output?: string }
  | { kind: 'fusion'; name: 'fusion'; output?: string }
  | { kind: 'head'; name: string; output?: string }
  | { kind: 'modality'; name: string; output?: string };

/** `encoders.text:private` -> base `encoders.text`, output `private`. */
export function splitRef(ref: string): { base: string; output?: string } {
  const colon = ref.indexOf(':');
  return colon < 0 ? { base: ref } : { base: ref.slice(0, colon), output: ref.slice(colon + 1) };
}

const QUALIFIED: Record<string, NodeRef['kind']> = { modalities: 'modality', encoders: 'encoder', heads: 'head' };

/**
 * Resolves a data reference with the precedence of spec/graph.ts's resolveNodeRef (encoder key, then `fusion`, then a
 * modality (meaning the first encoder that reads it), then a head), but only through own keys of the spec's sections.
 * A qualified reference (`encoders.text`, `modalities.audio`, `heads.M`) names exactly that node; `:name` after
 * either picks one of the node's named outputs.
 */
export function resolveRef(spec: PipelineSpec, ref: string): NodeRef | undefined {
  const { base, output } = splitRef(ref);
  const withOutput = (r: NodeRef | undefined): NodeRef | undefined => (r && output !== undefined ? { ...r, output } : r);
  const dot = base.indexOf('.');
  if (dot > 0) {
    const kind = QUALIFIED[base.slice(0, dot)];
    const name = base.slice(dot + 1);
    if (kind === 'modality') return withOutput(getModality(spec, name) ? { kind, name } : undefined);
    if (kind === 'encoder') return withOutput(getEncoder(spec, name) ? { kind, name } : undefined);
    if (kind === 'head') return withOutput(getHead(spec, name) ? { kind, name } : undefined);
    return undefined;
  }
  if (getEncoder(spec, base)) return withOutput({ kind: 'encoder', name: base });
  if (base === FUSION && fusionOf(spec)) return withOutput({ kind: 'fusion', name: FUSION });
  if (getModality(spec, base)) {
    const enc = encoders(spec).find(([k, e]) => !encoderReadsRefs(k, e) && encoderModality(k, e) === base);
    return withOutput(enc ? { kind: 'encoder', name: enc[0] } : { kind: 'modality', name: base });
  }
  if (getHead(spec, base)) return withOutput({ kind: 'head', name: base });
  return undefined;
}

/** Where in the spec a resolved reference's node is declared (`['encoders', 'text']`, `['fusion']`). */
export function refPath(ref: NodeRef): SpecPath {
  if (ref.kind === 'fusion') return [FUSION];
  return [ref.kind === 'modality' ? 'modalities' : `${ref.kind}s`, ref.name];
}

/** The node id of a resolved reference, with `:output` when it names a named output. */
export function refId(ref: NodeRef): string {
  const id = refPath(ref).join('.');
  return ref.output === undefined ? id : `${id}:${ref.output}`;
}

/** Whether an encoder reads references (`inputs:`, several nodes) rather than the one modality of its key. */
export function encoderReadsRefs(key: string, enc: Encoder): boolean {
  return componentOf('encoder', enc)?.reads?.(enc, key) !== undefined;
}

/** What an encoder reads: its references (`inputs:`), else the modality it names or has as its key. */
export function encoderReads(key: string, enc: Encoder): { name: string; path: SpecPath; modality: boolean }[] {
  const def = componentOf('encoder', enc);
  const refs = def?.reads?.(enc, key);
  if (refs) return refs.filter((r) => typeof r.name === 'string').map((r) => ({ name: r.name, path: ['encoders', key, ...r.path], modality: false }));
  const own = typeof (enc as { modality?: unknown }).modality === 'string';
  return [{ name: encoderModality(key, enc), path: own ? ['encoders', key, 'modality'] : ['encoders', key], modality: true }];
}

/** Whether an encoder reads a modality: by its key or `modality:`, or as one of the references of its `inputs:`. */
export function encoderReadsModality(spec: PipelineSpec, key: string, enc: Encoder, modality: string): boolean {
  return encoderReads(key, enc).some((r) => {
    if (r.modality) return r.name === modality;
    const x = resolveRef(spec, r.name);
    return x?.kind === 'modality' && x.name === modality;
  });
}

/** The encoder a data reference resolves to, if any (a named output of it is not the encoder's own output). */
export function encoderOfRef(spec: PipelineSpec, ref: string): string | undefined {
  const r = resolveRef(spec, ref);
  return r?.kind === 'encoder' && r.output === undefined ? r.name : undefined;
}

/** The modality behind a data reference, if it resolves to an encoder of one modality. */
export function modalityOfRef(spec: PipelineSpec, ref: string): string | undefined {
  const enc = encoderOfRef(spec, ref);
  const def = enc === undefined ? undefined : getEncoder(spec, enc);
  return def && enc !== undefined && !encoderReadsRefs(enc, def) ? encoderModality(enc, def) : undefined;
}

/** What an encoder outputs, where its parameters alone decide it (no dataset facts needed); the encoder says. */
export function encoderOutputKind(enc: Encoder): TensorType['kind'] | undefined {
  return componentOf('encoder', enc)?.outputKind?.(enc);
}

/** Head references of a task, each with the spec path that names it (the task's definition knows where they are). */
export function taskHeadRefs(key: string, task: Task): { head: string; path: SpecPath }[] {
  const def = componentOf('task', task);
  return (def?.headRefs?.(task) ?? []).filter((r) => typeof r.name === 'string').map((r) => ({ head: r.name, path: ['tasks', key, ...r.path] }));
}

/** Node ids that own parameters, in spec order: `encoders.<key>`, `fusion`, `heads.<key>`. */
export function nodeIds(spec: PipelineSpec): string[] {
  const ids = encoders(spec).map(([k]) => `encoders.${k}`);
  if (fusionOf(spec)) ids.push(FUSION);
  for (const [k] of heads(spec)) ids.push(`heads.${k}`);
  return ids;
}

/** Spec path of a node id (`encoders.text` -> ['encoders', 'text']). */
export function nodePath(id: string): SpecPath {
  if (id === FUSION) return [FUSION];
  const dot = id.indexOf('.');
  return dot < 0 ? [id] : [id.slice(0, dot), id.slice(dot + 1)];
}

/** Encoders the fusion, some head or some task reads (references resolved), and the encoders those read. */
export function readEncoders(spec: PipelineSpec): Set<string> {
  const refs = fusionInputs(spec).map((i) => i.name);
  for (const [, h] of heads(spec)) if (typeof h.input === 'string') refs.push(h.input);
  for (const [, t] of tasks(spec)) for (const r of componentOf('task', t)?.inputRefs?.(t) ?? []) refs.push(r.name);
  const out = new Set<string>();
  while (refs.length > 0) {
    const r = resolveRef(spec, refs.pop()!);
    if (r?.kind !== 'encoder' || out.has(r.name)) continue;
    out.add(r.name);
    const enc = getEncoder(spec, r.name)!;
    if (encoderReadsRefs(r.name, enc)) for (const x of encoderReads(r.name, enc)) refs.push(x.name);
  }
  return out;
}

/** Modalities some node or task reads by a qualified reference (`modalities.audio_mask`), with no encoder between. */
export function modalitiesReadDirectly(spec: PipelineSpec): Set<string> {
  const refs = fusionInputs(spec).map((i) => i.name);
  for (const [, h] of heads(spec)) if (typeof h.input === 'string') refs.push(h.input);
  for (const [, t] of tasks(spec)) for (const r of componentOf('task', t)?.inputRefs?.(t) ?? []) refs.push(r.name);
  for (const [k, e] of encoders(spec)) if (encoderReadsRefs(k, e)) for (const x of encoderReads(k, e)) refs.push(x.name);
  const out = new Set<string>();
  for (const r of refs) {
    if (!r.startsWith('modalities.')) continue;
    const ref = resolveRef(spec, r);
    if (ref?.kind === 'modality') out.add(ref.name);
  }
  return out;
}

/** Modalities the fusion reads through its input encoders. */
export function modalitiesReadByFusion(spec: PipelineSpec): Set<string> {
  const out = new Set<string>();
  for (const { name } of fusionInputs(spec)) {
    const m = modalityOfRef(spec, name);
    if (m !== undefined) out.add(m);
  }
  return out;
}

/** A "declared here" note pointing at the key of a spec path. */
export function declaredHere(ctx: RuleContext, path: SpecPath, message: string): RelatedInfo {
  return { span: ctx.spanOf(path, { key: true }), message };
}

export function quoteList(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(', ');
}

/** Hint text combining a "did you mean" suggestion (when one is close) with a fixed tail. */
export function joinHints(...parts: (string | undefined)[]): string | undefined {
  const kept = parts.filter((p): p is string => p !== undefined && p !== '');
  return kept.length === 0 ? undefined : kept.join('; ');
}

/**
 * Whether the user wrote the value at a path (in this file or one it extends). Phase 3 inserts defaulted entries with
 * empty spans at the start of the map that lacks them, so an empty key span means "filled in".
 */
export function isWritten(ctx: RuleContext, path: SpecPath): boolean {
  if (!nodeAt(ctx.tree, path)) return false;
  const k = ctx.spanOf(path, { key: true });
  return k.end > k.start;
}

/**
 * Span of a value if the spec wrote it, else of the key of its nearest written parent (a defaulted `target: M`
 * underlines the task's key rather than an empty place).
 */
export function writtenSpan(ctx: RuleContext, path: SpecPath): Span {
  for (let n = path.length; n > 0; n--) {
    const p = path.slice(0, n);
    if (isWritten(ctx, p)) return n === path.length ? ctx.spanOf(p) : ctx.spanOf(p, { key: true });
  }
  return ctx.spanOf(path);
}

const MOSI = ['Has0_acc_2', 'Has0_F1_score', 'Non0_acc_2', 'Non0_F1_score', 'Mult_acc_5', 'Mult_acc_7', 'MAE', 'Corr'];
const SIMS = ['Mult_acc_2', 'Mult_acc_3', 'Mult_acc_5', 'F1_score', 'MAE', 'Corr'];
const SETS: Record<string, readonly string[]> = { mosi: MOSI, mosei: MOSI, sims: SIMS, simsv2: SIMS };

/**
 * Result keys a metric set reports, or undefined when they cannot be known here (generic `regression` /
 * `classification` sets depend on the runtime's registry). A listed metric reports under its name without a
 * `set/` prefix (`sims/MAE` reports `MAE`).
 */
export function computedMetricKeys(metrics: unknown): string[] | undefined {
  if (typeof metrics === 'string') return SETS[metrics] ? [...SETS[metrics]] : undefined;
  if (!Array.isArray(metrics)) return undefined;
  const keys = new Set<string>();
  for (const m of metrics) {
    if (typeof m !== 'string') continue;
    keys.add(m);
    const slash = m.lastIndexOf('/');
    if (slash >= 0) keys.add(m.slice(slash + 1));
  }
  return [...keys];
}
