// The memory plan of a run: from the IR's parameter sizes and the batch's activation sizes to bytes in the tensor
// backend (wasm's 4 GiB heap) and in the host, the activation mode that fits, and a located error with what to change
// when nothing fits. Free of tfjs: it runs before the backend does anything. Phase 7 (execute), before training.
import os from 'node:os';
import type { Ir, IrNode } from '../../compiler/ir/types.js';
import { paramSize } from '../../compiler/ir/types.js';
import { getComponent } from '../../components/catalog.js';
import type { ActivationMode, ComponentDef, NodeMemory } from '../../components/component.js';
import { MESSAGES } from '../../core/messages.js';
import { renderMessage } from '../../compiler/diagnostics/diagnostic.js';
import type { SourceHost, Span } from '../../compiler/source/source-file.js';
import { MmsaError } from '../../errors.js';
import { microBatchCount } from '../data/batching.js';

/** The wasm backend's heap limit (emscripten's getHeapMax in @tensorflow/tfjs-backend-wasm: 4 GiB less one page). */
export const WASM_HEAP_LIMIT = 4294901760;
/**
 * Peak live tensor bytes over the heap they occupy: dlmalloc leaves gaps between blocks of mixed sizes (a bert-base
 * epoch was measured at a heap 1.17x its peak live bytes), so the plan reserves a quarter more.
 */
export const HEAP_USABLE_SHARE = 0.8;

export interface MemoryLimits {
  /** Bytes the tensor backend may allocate (the wasm heap), or null when tensors live in host memory (cpu, tfjs-node). */
  backendBytes: number | null;
  /** Bytes of host memory available to this process (including what it holds already). */
  hostBytes: number;
  /** What the process holds before the run allocates anything (Node.js, tfjs, the compiled code; default 250 MB). */
  baseBytes?: number;
}

/** Where the bytes of one training step go. */
export interface MemoryEstimate {
  /** In the tensor backend. */
  backend: { weights: number; gradients: number; activations: number; transient: number; total: number };
  /**
   * In JS memory, outside the backend: Adam's moments, gradient sums, a step's dropout masks and embedding gradient,
   * the best weights kept for model selection and the buffer that writes them as a checkpoint, the loaded dataset.
   */
  host: { optimizerState: number; gradientSums: number; stepScratch: number; bestWeights: number; dataset: number; total: number };
  /** One evaluation batch (valid/test) in the backend: the weights and every node's forward. */
  evalBackend: number;
}

export interface MemoryPlan {
  /** What each BERT encoder layer keeps for its backward pass. */
  activations: ActivationMode;
  /** Chunks each training batch runs in (forward and backward per chunk, one optimizer step per batch). */
  microBatches: number;
  /** Adam's moments and (with several batches or chunks per step) the gradient sums live outside the tensor backend. */
  optimizerState: 'host';
  gradientSums: 'host' | 'backend';
  estimate: MemoryEstimate;
  limits: MemoryLimits;
  /** What the run is planned to use at most: the backend's allocation (the wasm heap's size) and the process's peak. */
  budget: { backendBytes: number; processBytes: number };
  parameters: { total: number; trainable: number };
  fits: boolean;
}

export interface PlanOptions {
  /** 'auto' (default): 'keep' when it fits, else 'recompute'. */
  activations?: ActivationMode | 'auto';
  /** Override the batch size (for the suggestions). */
  batchSize?: number;
  /** Override the batches per optimizer step (for the suggestions). */
  gradAccumSteps?: number;
  /** Override train.micro_batches ('auto': the fewest chunks that fit, 1 for a pipeline that couples its batch). */
  microBatches?: number | 'auto';
  /** Treat these nodes as frozen (for the suggestions). */
  frozen?: ReadonlySet<string>;
}

/** The limits of this process on this machine for a backend. */
export function memoryLimits(backend: string): MemoryLimits {
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  const free = os.freemem();
  const hostBytes = constrained && constrained > 0 && constrained < free ? constrained : free;
  const rss = process.memoryUsage().rss;
  return { backendBytes: backend === 'wasm' ? WASM_HEAP_LIMIT : null, hostBytes: hostBytes + rss, baseBytes: rss };
}

function componentOfNode(node: IrNode): ComponentDef | undefined {
  return node.kind === 'input' ? undefined : getComponent(node.kind, node.type);
}

function isFrozen(node: IrNode, opts: PlanOptions): boolean {
  return opts.frozen?.has(node.id) === true || componentOfNode(node)?.frozen?.(node.config) === true;
}

/**
 * Activation sizes of a node: the component's own (BERT's fused layer) where it declares them; other nodes get a
 * generous bound per sample and input or output element: 16 floats where a sequence is involved (a recurrence keeps
 * its gates and states at every step), 2 for vectors, which are counted twice (as one node's output and the next
 * one's input): 4 floats per vector element cover the value, a dropout mask, its product and a gradient. TFN's fused
 * vector ([B, 549153] on SIMS v2) is the large one: 16 floats each would refuse a run that needs a fifth of that.
 */
function nodeMemory(node: IrNode, ir: Ir, batch: number, mode: ActivationMode, frozen: boolean): NodeMemory {
  const def = componentOfNode(node);
  return def?.stepMemory ? def.stepMemory(node, { ir, batch, mode, frozen }) : genericNodeMemory(node, ir, batch);
}

function elements(shape: readonly (number | string)[]): number {
  return shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
}

function genericNodeMemory(node: IrNode, ir: Ir, batch: number): NodeMemory {
  if (node.kind === 'input') {
    // An input computes nothing and keeps nothing for a backward pass: the batch's tensor and one preprocessed copy.
    // At 16 floats per element a 10^4-frame interview's input alone would look larger than the model reading it.
    const bytes = 4 * 2 * batch * elements(node.output.shape.slice(1));
    return { saved: bytes, transient: 0, host: 0, eval: bytes };
  }
  const ins = node.inputs.map((id) => ir.nodes.find((n) => n.id === id.split(':')[0])?.output.shape ?? []);
  const shapes = [...ins, node.output.shape];
  const per = shapes.reduce((a, s) => a + elements(s.slice(1)), 0);
  const floats = shapes.some((s) => s.length > 2) ? 16 : 2;
  const bytes = 4 * floats * batch * per;
  return { saved: bytes, transient: bytes, host: 0, eval: bytes };
}

/** Bytes of the loaded dataset (every split, float32/int32 features). */
function datasetBytes(ir: Ir): number {
  const n = ir.dataset.splits.train + ir.dataset.splits.valid + ir.dataset.splits.test;
  let per = 0;
  for (const f of Object.values(ir.dataset.features)) if (f.dtype !== 'str') per += elements(f.shape);
  return 4 * n * per;
}

/** Sizes of one training step and one evaluation batch of `ir` with activation mode `mode`. */
export function estimateMemory(ir: Ir, mode: ActivationMode, opts: PlanOptions = {}): MemoryEstimate & { parameters: { total: number; trainable: number } } {
  const s = ir.schedule;
  const chunks = microBatchCount(opts.microBatches ?? s.microBatches);
  // A step's activations are one chunk's: the largest of `chunks` near-equal parts of the batch.
  const batch = Math.ceil((opts.batchSize ?? Math.max(1, Math.floor(s.batchSize))) / chunks);
  // Evaluation batches run in the same number of chunks.
  const evalBatch = Math.ceil((opts.batchSize ?? Math.max(1, Math.floor(s.evalBatchSize))) / chunks);
  let total = 0;
  let trainable = 0;
  let saved = 0;
  let transient = 0;
  let host = 0;
  let evalBytes = 0;
  for (const node of ir.nodes) {
    const frozen = isFrozen(node, opts);
    for (const p of node.params) {
      const n = paramSize(p);
      total += n;
      if (p.trainable && !p.buffer && !frozen) trainable += n;
    }
    const step = nodeMemory(node, ir, batch, mode, frozen);
    const ev = nodeMemory(node, ir, evalBatch, mode, frozen).eval;
    saved += step.saved;
    transient = Math.max(transient, step.transient);
    host += step.host;
    // The evaluation's forward runs in one tf.tidy scope: every node's tensors stay until the batch's outputs are read
    // (only a layer that frees its own, as BERT's fused one, counts one layer's worth).
    evalBytes += ev;
  }
  const weights = 4 * total;
  const gradients = 4 * trainable;
  const sums = hostSums(ir, opts, chunks) ? 4 * trainable : 0;
  const dataset = datasetBytes(ir);
  return {
    backend: { weights, gradients, activations: saved, transient, total: weights + gradients + saved + transient },
    host: {
      optimizerState: 8 * trainable,
      gradientSums: sums,
      stepScratch: host,
      bestWeights: 2 * weights,
      dataset,
      total: 8 * trainable + sums + host + 2 * weights + dataset,
    },
    evalBackend: weights + evalBytes,
    parameters: { total, trainable },
  };
}

/** The allocation a plan needs (the heap with its allowance for gaps; the whole process) and whether the limits hold it. */
function budgetOf(e: MemoryEstimate, limits: MemoryLimits): { fits: boolean; budget: MemoryPlan['budget'] } {
  const backendBytes = Math.max(e.backend.total, e.evalBackend) / HEAP_USABLE_SHARE;
  // The heap's pages are the process's memory too, next to the host-side state. A step's JS scratch (dropout masks,
  // the embedding gradient) is garbage a step later: count two steps' worth until the collector runs.
  const processBytes = backendBytes + e.host.total + e.host.stepScratch + (limits.baseBytes ?? NODE_BASELINE);
  const fits = (limits.backendBytes === null || backendBytes <= limits.backendBytes) && processBytes <= limits.hostBytes;
  return { fits, budget: { backendBytes, processBytes } };
}

/** Node.js, tfjs and the compiled code before any tensor, when the limits do not say: about 250 MB. */
const NODE_BASELINE = 250e6;

/** Whether the gradient sums of a step live outside the backend: several batches or several chunks per step. */
function hostSums(ir: Ir, opts: PlanOptions, chunks: number): boolean {
  return (opts.gradAccumSteps ?? ir.schedule.gradAccumSteps) > 1 || chunks > 1;
}

/** A node or task whose training maths couples the samples of a batch, and why. */
export interface BatchCoupling {
  id: string;
  type: string;
  why: string;
  span: Span;
}

/** The nodes and tasks of `ir` that couple the samples of a batch (declared by their components' `couplesBatch`). */
export function batchCouplings(ir: Ir): BatchCoupling[] {
  const out: BatchCoupling[] = [];
  for (const n of ir.nodes) {
    const why = componentOfNode(n)?.couplesBatch?.(n.config);
    if (why) out.push({ id: n.id, type: n.type, why, span: n.span });
  }
  for (const t of ir.tasks) {
    const why = getComponent('task', t.type)?.couplesBatch?.(t.config);
    if (why) out.push({ id: `tasks.${t.name}`, type: t.type, why, span: t.span });
  }
  return out;
}

/** The plan for one micro-batch count: 'keep' activations when they fit, else 'recompute'; `fits` false when neither does. */
function planWith(ir: Ir, limits: MemoryLimits, opts: PlanOptions, microBatches: number): MemoryPlan {
  const modes: ActivationMode[] = opts.activations && opts.activations !== 'auto' ? [opts.activations] : ['keep', 'recompute'];
  let plan: MemoryPlan | undefined;
  for (const activations of modes) {
    const { parameters, ...estimate } = estimateMemory(ir, activations, { ...opts, microBatches });
    const { fits, budget } = budgetOf(estimate, limits);
    plan = {
      activations,
      microBatches,
      optimizerState: 'host',
      gradientSums: hostSums(ir, opts, microBatches) ? 'host' : 'backend',
      estimate,
      limits,
      budget,
      parameters,
      fits,
    };
    if (fits) return plan;
  }
  return plan!;
}

/**
 * The plan for `ir`. With `train.micro_batches: auto` the fewest chunks per batch that fit (each count trying 'keep'
 * activations, then 'recompute'); a pipeline that couples the samples of its batch never splits. `fits` false when
 * nothing does (then the plan is the unsplit batch's, whose error names what to change).
 */
export function planMemory(ir: Ir, limits: MemoryLimits, opts: PlanOptions = {}): MemoryPlan {
  const m = opts.microBatches ?? ir.schedule.microBatches;
  if (m !== 'auto') return planWith(ir, limits, opts, microBatchCount(m));
  // The count is chosen against the heap alone where there is one, so that it (and the run's bits) does not depend on
  // how much memory the machine has free at the moment; the plan it gives still checks that memory (MSA6902).
  const enough = (p: MemoryPlan) => (limits.backendBytes === null ? p.fits : p.budget.backendBytes <= limits.backendBytes);
  const first = planWith(ir, limits, opts, 1);
  if (enough(first) || batchCouplings(ir).length > 0) return first;
  const batch = opts.batchSize ?? Math.max(1, Math.floor(ir.schedule.batchSize));
  let chunk = batch;
  for (let k = 2; k <= batch; k++) {
    // Counts that leave the largest chunk as it was cannot fit where the last one did not.
    if (Math.ceil(batch / k) === chunk) continue;
    chunk = Math.ceil(batch / k);
    const plan = planWith(ir, limits, opts, k);
    if (enough(plan)) return plan;
  }
  return first;
}

/**
 * The chunks each evaluation batch runs in where a command only evaluates (`mmsa predict`, `evaluate`, `import`), so
 * that a batch that needs chunks to fit the heap is never scored whole: the count `train.micro_batches` writes, as `mmsa
 * run` uses it; with `auto`, the fewest chunks whose evaluation fits (1 for a pipeline that couples its batch).
 * Evaluation has no backward pass, so only what it holds counts: the evaluation estimate against the heap (against the
 * process's memory where there is none). The training plan's count would depend on the activation mode, which changes
 * only what a training step keeps (`mult_mosi` trains in 2 chunks keeping activations, 1 recomputing them), and on
 * the training step's size, larger than an evaluation's (`almt_mosi`: 3 chunks to train, 2 to evaluate).
 */
export function planEvalMicroBatches(ir: Ir, backend: string): number {
  return evalMicroBatches(ir, memoryLimits(backend));
}

/** planEvalMicroBatches for explicit limits. */
export function evalMicroBatches(ir: Ir, limits: MemoryLimits): number {
  const s = ir.schedule;
  if (s.microBatches !== 'auto') return microBatchCount(s.microBatches);
  if (batchCouplings(ir).length > 0) return 1;
  const batch = Math.max(1, Math.floor(s.evalBatchSize));
  // The evaluation estimate does not depend on the activation mode (both modes run the same forward without a tape).
  const fits = (chunks: number) => {
    const e = estimateMemory(ir, 'keep', { microBatches: chunks });
    const heap = e.evalBackend / HEAP_USABLE_SHARE;
    return limits.backendBytes !== null ? heap <= limits.backendBytes : heap + e.host.dataset + (limits.baseBytes ?? NODE_BASELINE) <= limits.hostBytes;
  };
  let chunk = batch;
  for (let k = 1; k <= batch; k++) {
    // Counts that leave the largest chunk as it was cannot fit where the last one did not.
    if (k > 1 && Math.ceil(batch / k) === chunk) continue;
    chunk = Math.ceil(batch / k);
    if (fits(k)) return k;
  }
  // Nothing fits: one sample per chunk holds the least (the evaluation then fails at the heap's limit, as it would whole).
  return batch;
}

const MB = (b: number) => `${Math.round(b / 1e6)} MB`;

/**
 * The largest batch size below the configured one whose plan fits, with the batches per optimizer step that keep the
 * samples per step (unless grad_accum_mode is step_every_batch), or undefined: what MSA6901 / MSA6902 suggest first.
 */
export function planFittingBatch(ir: Ir, limits: MemoryLimits): { batch: number; steps: number; plan: MemoryPlan } | undefined {
  const s = ir.schedule;
  // step_every_batch steps after every batch whatever the window: more accumulation would not keep the training the
  // same, so only the batch shrinks.
  const scale = s.gradAccumMode !== 'step_every_batch';
  for (let b = Math.floor(s.batchSize / 2); b >= 1; b = Math.floor(b / 2)) {
    const steps = scale ? Math.max(1, Math.round((s.gradAccumSteps * s.batchSize) / b)) : s.gradAccumSteps;
    const plan = planMemory(ir, limits, { batchSize: b, gradAccumSteps: steps });
    if (plan.fits) return { batch: b, steps, plan };
  }
  return undefined;
}

/** What to change, most specific first: a smaller batch with more accumulation, a frozen encoder, a smaller model. */
function suggestions(ir: Ir, plan: MemoryPlan): string[] {
  const out: string[] = [];
  const s = ir.schedule;
  // A count written in the spec that is too small: more chunks give the same optimizer step in less memory.
  if (s.microBatches !== 'auto' && batchCouplings(ir).length === 0) {
    const auto = planMemory(ir, plan.limits, { microBatches: 'auto' });
    if (auto.fits) out.push(`set train.micro_batches: ${auto.microBatches} (or auto; the same optimizer step per batch)`);
  }
  // A smaller batch may fit the heap and still not the memory this machine has free right now (it is shared, or
  // busy): then say how much it needs, rather than suggest nothing.
  const f = planFittingBatch(ir, plan.limits);
  const heapOnly = f ? undefined : planFittingBatch(ir, { ...plan.limits, hostBytes: Number.POSITIVE_INFINITY });
  const g = f ?? heapOnly;
  if (g) {
    const now = s.gradAccumSteps * s.batchSize;
    const when = f ? '' : ` once about ${MB(g.plan.budget.processBytes)} of memory are free (${MB(plan.limits.hostBytes)} are now)`;
    if (s.gradAccumMode === 'step_every_batch') {
      out.push(`set train.batch_size: ${g.batch} (grad_accum_mode step_every_batch steps after every batch, so a smaller batch means more, smaller steps: not the same training)${when}`);
    } else {
      const per = g.steps * g.batch === now ? `the same ${now} samples per optimizer step` : `${g.steps * g.batch} samples per optimizer step, now ${now}`;
      out.push(`set train.batch_size: ${g.batch} with train.grad_accum_steps: ${g.steps} (${per})${when}`);
    }
  }
  const big = largestNode(ir);
  const freeze = big ? componentOfNode(big) : undefined;
  if (big && freeze?.freezeWith && freeze.frozen?.(big.config) !== true) {
    const frozen = planMemory(ir, plan.limits, { frozen: new Set([big.id]) });
    if (frozen.fits) out.push(`freeze the ${big.kind}: ${big.id}.${freeze.freezeWith} (about ${MB(frozen.estimate.backend.total)} instead of ${MB(plan.estimate.backend.total)})`);
  }
  out.push(big ? `use a smaller model for ${big.id} (fewer layers or a smaller hidden size)` : 'use a smaller model');
  if (plan.limits.backendBytes !== null) out.push('or a backend whose tensors live in host memory (--backend cpu, much slower)');
  return out;
}

function largestNode(ir: Ir): IrNode | undefined {
  let best: IrNode | undefined;
  let size = -1;
  for (const n of ir.nodes) {
    const p = n.params.reduce((a, q) => a + paramSize(q), 0);
    if (p > size) {
      size = p;
      best = n;
    }
  }
  return best;
}

function locate(span: Span | undefined, host: SourceHost | undefined): string {
  if (!span) return '';
  const file = host?.get(span.file);
  if (!file) return `${span.file}: `;
  const { line, column } = file.positionAt(span.start);
  return `${span.file}:${line}:${column}: `;
}

/**
 * Throws MSA6901 (the tensor backend's heap) or MSA6902 (the machine's memory) when the plan does not fit, naming the
 * largest node and what to change. Called before the data is loaded and before any weight is allocated.
 */
export function checkMemoryPlan(ir: Ir, plan: MemoryPlan, host?: SourceHost): void {
  if (plan.fits) return;
  const big = largestNode(ir);
  const e = plan.estimate;
  const heapBound = plan.limits.backendBytes !== null && plan.budget.backendBytes > plan.limits.backendBytes;
  const code = heapBound ? 'MSA6901' : 'MSA6902';
  const args = {
    node: big?.id ?? ir.pipeline,
    params: `${(plan.parameters.trainable / 1e6).toFixed(1)}M`,
    batch: plan.microBatches > 1 ? `${ir.schedule.batchSize} in ${plan.microBatches} micro-batches` : ir.schedule.batchSize,
    need: MB(heapBound ? plan.budget.backendBytes : plan.budget.processBytes),
    weights: MB(e.backend.weights),
    gradients: MB(e.backend.gradients),
    activations: MB(e.backend.activations + e.backend.transient),
    host: MB(e.host.total),
    limit: MB(heapBound ? plan.limits.backendBytes! : plan.limits.hostBytes),
  };
  const entry = MESSAGES[code];
  throw new MmsaError(code, locate(big?.span, host) + renderMessage(entry.message, args), {
    hint: `${renderMessage(entry.hint ?? '', args)}: ${suggestions(ir, plan).join('; ')}`,
    details: { node: args.node, estimate: e, budget: plan.budget, limits: plan.limits, activations: plan.activations, microBatches: plan.microBatches },
  });
}
