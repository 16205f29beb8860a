// Builds the typed IR graph: input nodes from dataset facts, then encoders, fusion and heads through each
// component's shape rule; tasks, parameter groups and the training schedule. Phase 5 (ir / shape inference).

import { dirname } from 'node:path';
import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import { getComponent } from '../../components/catalog.js';
import { taskHeads, type ComponentKind, type ShapeContext, type ShapeInput } from '../../components/component.js';
import type { Span } from '../source/source-file.js';
import { encoderModality, encoderReads, encoderReadsModality, encoderReadsRefs, refId, refPath, resolveRef } from '../check/spec-graph.js';
import { assignGroups, type ParamRef } from '../spec/selectors.js';
import { defaultEvalHead, defaultMode } from '../spec/normalize-spec.js';
import type { SpecPath } from '../spec/spec-tree.js';
import type { Encoder, Modality, PipelineSpec, Scheduler } from '../spec/types.generated.js';
import { paramSize, type Ir, type IrNode, type IrParamGroup, type IrScheduler, type IrStage, type IrTask, type ResolvedDataset, type TensorType, type TrainingSchedule } from './types.js';

export interface BuildIrInput {
  spec: PipelineSpec;
  dataset: ResolvedDataset;
  file: string;
  spanOf(path: SpecPath, opts?: { key?: boolean }): Span;
  bag: DiagnosticBag;
}

/** Text length the `avg_pool` alignment pools audio/vision to: MMSA aligns to `seq_lens[0]`, the text length. */
function textLength(spec: PipelineSpec, dataset: ResolvedDataset): number | undefined {
  const textMod = spec.modalities['text'] ?? Object.values(spec.modalities)[0];
  if (!textMod) return undefined;
  const f = dataset.features[textMod.feature];
  if (!f) return undefined;
  if (f.dtype === 'int' && f.shape.length === 2) return f.shape[1];
  return textMod.preprocess.seq_len ?? f.shape[0];
}

export function inputType(m: Modality, dataset: ResolvedDataset, spec: PipelineSpec): TensorType | undefined {
  const f = dataset.features[m.feature];
  if (!f || f.dtype === 'str') return undefined;
  // MMSA's data_missing masks: one float per padded position of the raw feature ([N, L] tokens, [N, T] frames).
  const maskOut = m.missing && m.missing.output !== 'masked';
  if (f.dtype === 'int' && f.shape.length === 2 && f.shape[0] === 3) {
    if (maskOut) return { kind: 'vector', shape: ['B', f.shape[1]!], dtype: 'float32' };
    return { kind: 'tokens', shape: ['B', 3, f.shape[1]!], dtype: 'int32' };
  }
  if (maskOut) return f.shape.length === 2 ? { kind: 'vector', shape: ['B', f.shape[0]!], dtype: 'float32' } : undefined;
  if (f.shape.length === 1) return { kind: 'vector', shape: ['B', f.shape[0]!], dtype: 'float32' };
  if (f.shape.length !== 2) return undefined;
  const [t, d] = f.shape as [number, number];
  if (m.preprocess.time_mean) {
    // MMSA's AlignSubNet pools a time mean (one frame) to the text length by repeating it (MFN: need_normalized
    // with need_model_aligned).
    const L = m.align === 'avg_pool' ? textLength(spec, dataset) : undefined;
    if (L === undefined) return { kind: 'vector', shape: ['B', d], dtype: 'float32' };
    return { kind: 'sequence', shape: ['B', L, d], dtype: 'float32', aligned: true };
  }
  let steps = m.preprocess.seq_len ?? t;
  let aligned = m.aligned ?? dataset.aligned;
  if (m.align === 'avg_pool') {
    steps = textLength(spec, dataset) ?? steps;
    aligned = true;
  }
  const type: TensorType = { kind: 'sequence', shape: ['B', steps, d], dtype: 'float32', aligned };
  if (m.lengths && m.align !== 'avg_pool') type.lengths = m.lengths;
  return type;
}

/**
 * Encoders in an order where every encoder comes after the encoders its `inputs:` read (spec order otherwise); a
 * cycle (reported by the check phase) keeps spec order.
 */
function encodersInOrder(spec: PipelineSpec): [string, Encoder][] {
  const all = Object.entries(spec.encoders);
  const out: [string, Encoder][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (key: string, e: Encoder): void => {
    if (state.has(key)) return;
    state.set(key, 'visiting');
    if (encoderReadsRefs(key, e)) {
      for (const r of encoderReads(key, e)) {
        const ref = resolveRef(spec, r.name);
        const dep = ref?.kind === 'encoder' ? spec.encoders[ref.name] : undefined;
        if (ref && dep && state.get(ref.name) === undefined) visit(ref.name, dep);
      }
    }
    state.set(key, 'done');
    out.push([key, e]);
  };
  for (const [k, e] of all) visit(k, e);
  return out;
}

/** Whether a stand-in's params name a reference (a precomputed mean's `mask_from`). */
function refersTo(params: Record<string, unknown>, ref: string): boolean {
  return standInReads(params).includes(ref);
}

/** The references a rewrite's stand-in reads besides its own modality. */
function standInReads(params: Record<string, unknown>): string[] {
  const m = params['mask_from'];
  return typeof m === 'string' ? [m] : [];
}

/** A modality name the spec does not use, for an input a rewrite adds. */
function freeModalityName(spec: PipelineSpec, want: string): string {
  let name = want;
  for (let i = 2; Object.prototype.hasOwnProperty.call(spec.modalities, name); i++) name = `${want}${i}`;
  return name;
}

export function buildIr(input: BuildIrInput): Ir | undefined {
  const { spec, dataset, spanOf, bag } = input;
  const nodes: IrNode[] = [];
  const byId = new Map<string, IrNode>();
  const add = (n: IrNode) => {
    nodes.push(n);
    byId.set(n.id, n);
  };

  for (const [name, m] of Object.entries(spec.modalities)) {
    const t = inputType(m, dataset, spec);
    if (!t) continue; // unknown feature: reported by the features-exist rule
    const f = dataset.features[m.feature]!;
    add({
      id: `modalities.${name}`,
      kind: 'input',
      name,
      type: m.feature,
      inputs: [],
      output: t,
      params: [],
      summary: `${m.feature} (${f.key})${m.preprocess.time_mean ? ', time mean' : ''}${m.align === 'avg_pool' ? ', avg_pool to text length' : ''}`,
      config: { ...m },
      span: spanOf(['modalities', name], { key: true }),
    });
  }

  /** The node a reference reads and the type it gives: a node's output, or one of its named outputs. */
  const readRef = (r: { name: string; modality?: boolean }): { id: string; type: TensorType } | undefined => {
    if (r.modality) {
      const n = byId.get(`modalities.${r.name}`);
      return n ? { id: n.id, type: n.output } : undefined;
    }
    const ref = resolveRef(spec, r.name);
    const n = ref ? byId.get(refPath(ref).join('.')) : undefined;
    if (!ref || !n) return undefined;
    const type = ref.output === undefined ? n.output : n.features?.[ref.output];
    return type ? { id: refId(ref), type } : undefined;
  };

  const infer = (kind: 'encoder' | 'fusion' | 'head', id: string, name: string, type: string, params: Record<string, unknown>, path: SpecPath, refs: { name: string; span: Span; modality?: boolean }[]): void => {
    const def = getComponent(kind, type);
    if (!def || !def.infer) return;
    const inputs: ShapeInput[] = [];
    for (const r of refs) {
      const read = readRef(r);
      if (!read) return; // unresolved or failed upstream: already reported
      inputs.push({ id: read.id, name: r.name, type: read.type, span: r.span });
    }
    const ctx: ShapeContext<Record<string, unknown>> = {
      node: id,
      params,
      inputs,
      span: spanOf(path),
      spanOf: (param, opts) => spanOf([...path, param], opts),
      report: (code, span, args, extras) => {
        bag.add(code, span, args, extras);
      },
    };
    const res = def.infer(ctx);
    if (!res) return;
    const node: IrNode = {
      id,
      kind,
      name,
      type,
      inputs: inputs.map((i) => i.id),
      output: res.output,
      params: res.params,
      summary: def.summary(params),
      config: params,
      span: spanOf(path, { key: true }),
    };
    if (res.features) node.features = res.features;
    add(node);
  };

  for (const [name, e] of encodersInOrder(spec)) {
    const mod = encoderModality(name, e);
    const def = getComponent('encoder', e.type);
    const rw = def?.rewrite?.({ params: e, dataset, modality: mod });
    if (rw) {
      // The component asked to be replaced (frozen BERT over ids gives exactly the dataset's precomputed features).
      let read = mod;
      const input = byId.get(`modalities.${mod}`);
      if (input && rw.input) {
        // Other readers of the modality (MISA's audio and vision LSTMs packed by the text token counts) or the stand-in
        // itself (a mean over the real tokens) still need the tokens: the features then come as an input of their own.
        const tokensRead = Object.entries(spec.encoders).some(([k, other]) => k !== name && encoderReadsModality(spec, k, other, mod)) || refersTo(rw.params, `modalities.${mod}`);
        const target = tokensRead ? { ...input, params: [], inputs: [] } : input;
        if (tokensRead) {
          read = freeModalityName(spec, `${mod}_features`);
          target.id = `modalities.${read}`;
          target.name = read;
        }
        target.summary = tokensRead ? `${rw.input.summary} (beside ${String(input.config['feature'])}, which other nodes read)` : `${rw.input.summary} instead of ${String(input.config['feature'])}`;
        target.type = rw.input.feature;
        target.output = rw.input.type;
        target.config = { ...input.config, feature: rw.input.feature };
        if (tokensRead) add(target);
      }
      const extra = standInReads(rw.params).map((r) => ({ name: r, span: spanOf(['encoders', name], { key: true }) }));
      infer('encoder', `encoders.${name}`, name, rw.type, rw.params, ['encoders', name], [{ name: read, span: spanOf(['encoders', name], { key: true }), modality: true }, ...extra]);
      const node = byId.get(`encoders.${name}`);
      if (node) {
        node.summary = rw.summary;
        node.rewrittenFrom = { type: e.type, config: e as unknown as Record<string, unknown> };
      }
      continue;
    }
    const written = e as unknown as Record<string, unknown>;
    const params = def?.resolvePaths ? (def.resolvePaths(written, (param) => dirname(spanOf(['encoders', name, param]).file)) as Record<string, unknown>) : written;
    // What the encoder reads: the modality of its key or `modality:`, or the references of its `inputs:`.
    const refs = encoderReads(name, e).map((r) => ({ name: r.name, span: r.path.length > 2 ? spanOf(r.path) : spanOf(r.path, { key: true }), modality: r.modality }));
    infer('encoder', `encoders.${name}`, name, e.type, params, ['encoders', name], refs);
  }
  if (spec.fusion) {
    const f = spec.fusion;
    infer('fusion', 'fusion', 'fusion', f.type, f as unknown as Record<string, unknown>, ['fusion'], f.inputs.map((n, i) => ({ name: n, span: spanOf(['fusion', 'inputs', i]) })));
  }
  for (const [name, h] of Object.entries(spec.heads)) {
    infer('head', `heads.${name}`, name, h.type, h as unknown as Record<string, unknown>, ['heads', name], [{ name: h.input, span: spanOf(['heads', name, 'input']) }]);
  }

  const tasks: IrTask[] = [];
  for (const [name, t] of Object.entries(spec.tasks)) {
    const def = getComponent('task', t.type);
    if (!def) continue;
    const p = t as unknown as Record<string, unknown>;
    const refs = def.inputRefs?.(p).map((r) => resolveRef(spec, r.name));
    tasks.push({
      name,
      type: t.type,
      heads: taskHeads(def, p),
      targets: def.taskTargets ? def.taskTargets(p) : [],
      weight: typeof p['weight'] === 'number' ? (p['weight'] as number) : 1,
      validLoss: p['valid_loss'] === true,
      summary: def.summary(p),
      hooks: def.hooks ? def.hooks(p) : [],
      ...(refs ? { inputs: refs.flatMap((r) => (r ? [refId(r)] : [])) } : {}),
      config: p,
      span: spanOf(['tasks', name], { key: true }),
    });
  }

  const groups = buildGroups(spec, nodes, spanOf);
  const schedule = buildSchedule(spec, dataset, groups);
  let total = 0;
  let trainable = 0;
  const frozen = new Set(groups.filter((g) => !g.trainable).flatMap((g) => [...g.params, ...g.noDecayParams]));
  // Components frozen as a whole (BERT with finetune: false) keep their parameters out of the trainable count.
  const wholeFrozen = new Set(nodes.filter((n) => n.kind !== 'input' && getComponent(n.kind as ComponentKind, n.type)?.frozen?.(n.config)).map((n) => n.id));
  for (const n of nodes) {
    for (const p of n.params) {
      if (p.buffer) continue;
      const size = paramSize(p);
      total += size;
      if (p.trainable && !frozen.has(`${n.id}.${p.name}`) && !wholeFrozen.has(n.id)) trainable += size;
    }
  }
  return { pipeline: spec.name, file: input.file, dataset, nodes, tasks, groups, schedule, totalParams: total, trainableParams: trainable };
}

function buildGroups(spec: PipelineSpec, nodes: IrNode[], spanOf: BuildIrInput['spanOf']): IrParamGroup[] {
  const opt = spec.train.optimizer;
  const params: ParamRef[] = nodes.flatMap((n) => n.params.filter((p) => !p.buffer).map((p) => ({ nodeId: n.id, local: p.name })));
  const specGroups = opt.groups.length > 0 ? opt.groups : [{ name: 'all', params: ['*'], trainable: true } as (typeof opt.groups)[number]];
  const a = assignGroups(specGroups, params);
  return specGroups.map((g, gi) => {
    const mine = params.map((p) => `${p.nodeId}.${p.local}`).filter((n) => a.owner.get(n) === gi);
    const noDecay = g.no_decay ?? [];
    const isNoDecay = (n: string) => noDecay.some((pat) => n.includes(pat));
    return {
      name: g.name,
      lr: g.lr ?? opt.lr,
      weightDecay: g.weight_decay ?? opt.weight_decay,
      trainable: g.trainable !== false,
      params: mine.filter((n) => !isNoDecay(n)),
      noDecayParams: mine.filter(isNoDecay),
      span: opt.groups.length > 0 ? spanOf(['train', 'optimizer', 'groups', gi]) : spanOf(['train']),
    };
  });
}


function buildSchedule(spec: PipelineSpec, dataset: ResolvedDataset, groups: readonly IrParamGroup[]): TrainingSchedule {
  const t = spec.train;
  const es = t.early_stop;
  const sel = t.select;
  return {
    batchSize: t.batch_size,
    evalBatchSize: t.eval_batch_size ?? t.batch_size,
    gradAccumSteps: t.grad_accum_steps,
    gradAccumMode: t.grad_accum_mode,
    microBatches: t.micro_batches,
    ...(t.init_rng ? { initRng: t.init_rng } : {}),
    ...(t.shuffle_rng ? { shuffleRng: t.shuffle_rng } : {}),
    ...(t.reinit ? { reinit: { init: t.reinit.init, groups: [...t.reinit.groups] } } : {}),
    maxEpochs: t.max_epochs,
    optimizer: { type: t.optimizer.type, betas: [t.optimizer.betas[0] ?? 0.9, t.optimizer.betas[1] ?? 0.999], eps: t.optimizer.eps },
    clip: t.clip ? { type: t.clip.type, max: t.clip.max, when: t.clip.when } : null,
    earlyStop: { metric: es.metric, split: es.split, mode: es.mode ?? defaultMode(es.metric), patience: es.patience ?? 8, minDelta: es.min_delta },
    select: { metric: sel.metric, split: sel.split, mode: sel.mode ?? defaultMode(sel.metric), minDelta: sel.min_delta },
    shuffleEval: t.shuffle_eval,
    evalHead: spec.eval.head ?? defaultEvalHead(spec) ?? '',
    metrics: spec.eval.metrics ?? dataset.metrics,
    evalSplits: spec.eval.splits,
    seeds: spec.seeds,
    stages: buildStages(spec, groups),
    stagesDeclared: t.stages.length > 0,
  };
}

function buildScheduler(s: Scheduler | null): IrScheduler | null {
  if (!s) return null;
  switch (s.type) {
    case 'plateau':
      return {
        type: 'plateau',
        metric: s.metric,
        split: s.split,
        mode: s.mode ?? defaultMode(s.metric),
        factor: s.factor,
        patience: s.patience,
        threshold: s.threshold,
        thresholdMode: s.threshold_mode,
        cooldown: s.cooldown,
        minLr: s.min_lr,
        eps: s.eps,
      };
    case 'step':
      return { type: 'step', stepSize: s.step_size, gamma: s.gamma };
    case 'cosine':
      return { type: 'cosine', tMax: s.t_max, etaMin: s.eta_min, warmup: s.warmup };
  }
}

/**
 * The stages of an epoch. Without `train.stages`: one stage, every group and task, a step per batch (and
 * train.scheduler). A stage without `groups` / `tasks` takes those no other stage names (the check phase made sure
 * at most one stage leaves each out).
 */
export function buildStages(spec: PipelineSpec, groups: readonly IrParamGroup[]): IrStage[] {
  const t = spec.train;
  const allGroups = groups.map((g) => g.name);
  const allTasks = Object.keys(spec.tasks);
  if (t.stages.length === 0) return [{ name: 'main', groups: allGroups, tasks: allTasks, every: 'batch', scheduler: buildScheduler(t.scheduler) }];
  const namedGroups = new Set(t.stages.flatMap((st) => st.groups ?? []));
  const namedTasks = new Set(t.stages.flatMap((st) => st.tasks ?? []));
  return t.stages.map((st) => ({
    name: st.name,
    groups: st.groups ?? allGroups.filter((g) => !namedGroups.has(g)),
    tasks: st.tasks ?? allTasks.filter((x) => !namedTasks.has(x)),
    every: st.every,
    scheduler: buildScheduler(st.scheduler),
    ...(st.fraction < 1 ? { fraction: st.fraction } : {}),
    ...(st.grads === 'all' ? { grads: 'all' as const } : {}),
  }));
}
